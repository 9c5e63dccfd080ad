// The SBOM through the harness, on the real engine and the dev environment's registry: an up builds the
// carrier, attaches the SBOM (through the fallback tag, docker-registry 2.8 having no referrers API), and a
// second up of the same program changes nothing and keeps the digest.
import assert from "node:assert/strict";
import * as path from "node:path";
import { RegistryClient } from "../../components/oci";
import { fallbackTag } from "../../components/sbom/referrers";
import { runCli } from "../support/capture";
import { removeRepositories } from "../support/engine";
import { LOCAL_REGISTRY, uniqueName } from "../support/env";
import { TestStack } from "../support/stack";

const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");
const PAUSLE = path.join(__dirname, "..", "..", "examples", "pausle");

describe("the SBOM of a stack's image @integration", function () {
  this.timeout(600_000);
  const name = uniqueName("mi-sbom");
  const imageName = `minimal-image-test/sbom-${process.pid}`;
  const stack = new TestStack(FIXTURE, name);
  const config = { name, imageName, source: PAUSLE };

  after(async () => {
    await stack.destroy();
    await removeRepositories(`${LOCAL_REGISTRY}/${imageName}`);
  });

  it("an up attaches it to the pushed image, which keeps one layer; a second up changes nothing", async () => {
    const first = await stack.run(config);
    const sbomDigest = first.outputs.sbomDigest as string;
    const imageRef = first.outputs.imageRef as string;
    assert.match(sbomDigest, /^sha256:[0-9a-f]{64}$/);
    const carrier = first.records.find((r) => r.name === `${name}-sbom-facts`);
    assert.equal((carrier?.inputs.build as { target?: string }).target, "sbom");

    const client = new RegistryClient(LOCAL_REGISTRY);
    const subject = imageRef.slice(imageRef.indexOf("@") + 1);
    const referrers = await client.fetchManifest(imageName, fallbackTag(subject));
    const listed = (referrers.json as { manifests: { digest: string }[] }).manifests.map((m) => m.digest);
    assert.deepEqual(listed, [sbomDigest]);
    assert.equal((await client.resolveImage(imageName, subject)).manifest.layers.length, 1);

    const printed = await runCli("sbom", imageRef);
    assert.deepEqual([printed.code, printed.stderr], [0, ""]);
    assert.equal(JSON.parse(printed.stdout).bomFormat, "CycloneDX");

    const second = await stack.run(config);
    assert.deepEqual(new Set(second.records.map((r) => r.operation)), new Set(["same", "component"]));
    assert.equal(second.outputs.sbomDigest, sbomDigest);
  });
});
