// Attaching an SBOM in Debian's docker-registry 2.8 (the dev environment's, 127.0.0.1:5000), which has no
// referrers API: the artifact is found through the fallback tag, the CLI prints it, and the image is untouched.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { buildContext } from "../../harness/engine/build";
import { pushLocally } from "../../harness/engine/push";
import { RegistryClient } from "../../components/oci";
import { attachSbom } from "../../components/sbom/attach";
import { CYCLONEDX_MEDIA_TYPE } from "../../components/sbom/artifact";
import { fallbackTag } from "../../components/sbom/referrers";
import { runCli } from "../support/capture";
import { removeRepositories } from "../support/engine";
import { LOCAL_REGISTRY, uniqueName } from "../support/env";

/** A stand-in for components/sbom/cyclonedx.ts's buildSbom: the facts, in key order, as a JSON document. */
function standInSbom(facts: ReadonlyMap<string, Buffer>): Buffer {
  const files = Object.fromEntries(
    [...facts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, v.toString()]),
  );
  return Buffer.from(`${JSON.stringify({ bomFormat: "CycloneDX", specVersion: "1.6", files })}\n`);
}

describe("attaching an SBOM in docker-registry 2.8 @integration", function () {
  this.timeout(120_000);
  const docker = new Docker({ timeout: 60_000 });
  const name = uniqueName("sbom-attach");
  const repository = `minimal-image-test/${name}`;
  const fullRepository = `${LOCAL_REGISTRY}/${repository}`;
  let work: string;
  let imageRef: string;
  let carrierRef: string;

  /** Builds `target` of a two-stage file like the rendered one (the carrier stage is not the last) and pushes it. */
  async function buildAndPush(target: string, tag: string): Promise<string> {
    const dockerfile = [
      "FROM scratch AS sbom",
      "COPY sbom/ /sbom/",
      "FROM scratch",
      "COPY app /app",
      'ENTRYPOINT ["/app"]',
      "",
    ].join("\n");
    const { imageId } = await buildContext(
      { sourceDir: work, contextFiles: ["app", "sbom/facts.json", "sbom/binary.sha256"], dockerfile },
      { tag: `${fullRepository}:${tag}`, target: target === "image" ? undefined : target, docker },
    );
    return pushLocally(`${fullRepository}:${tag}`, undefined, docker, undefined, { imageId });
  }

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-sbom-"));
    fs.mkdirSync(path.join(work, "sbom"));
    fs.writeFileSync(path.join(work, "app"), `binary ${name}`);
    fs.writeFileSync(path.join(work, "sbom", "facts.json"), '{"libc":"musl 1.2.3"}\n');
    fs.writeFileSync(path.join(work, "sbom", "binary.sha256"), "abc\n");
    imageRef = await buildAndPush("image", "v1");
    carrierRef = await buildAndPush("sbom", "v1-sbom-facts-linux-amd64");
  });
  after(async () => {
    await removeRepositories(fullRepository);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("builds the target it is given: the carrier holds the facts, the image the binary alone", async () => {
    const client = new RegistryClient(LOCAL_REGISTRY);
    const image = await client.resolveImage(repository, imageRef.split("@")[1]);
    const carrier = await client.resolveImage(repository, carrierRef.split("@")[1]);
    assert.equal(image.manifest.layers.length, 1);
    assert.notEqual(carrier.manifest.layers[0].digest, image.manifest.layers[0].digest);
  });

  it("attaches through the fallback tag, which lists it; a second attachment changes nothing", async () => {
    const first = await attachSbom({ carrierRef, subjectRef: imageRef, render: standInSbom });
    assert.equal(first.mechanism, "fallback tag", "docker-registry 2.8 has no referrers API");
    const client = new RegistryClient(LOCAL_REGISTRY);
    const subject = imageRef.split("@")[1];
    const index = await client.fetchManifest(repository, fallbackTag(subject));
    const entries = (index.json as { manifests: { digest: string; artifactType?: string }[] }).manifests;
    assert.deepEqual(
      entries.map((entry) => [entry.digest, entry.artifactType]),
      [[first.sbomDigest, CYCLONEDX_MEDIA_TYPE]],
    );
    const again = await attachSbom({ carrierRef, subjectRef: imageRef, render: standInSbom });
    assert.equal(again.sbomDigest, first.sbomDigest, "the same SBOM gives the same digest");
    assert.equal((await client.fetchManifest(repository, fallbackTag(subject))).digest, index.digest);
    // The image is still the binary alone: the SBOM lives beside it, not in it.
    assert.equal((await client.resolveImage(repository, "v1")).manifest.layers.length, 1);
  });

  it("`minimal-image sbom` prints the attached document, by tag or by digest", async () => {
    const expected = standInSbom(
      new Map([
        ["binary.sha256", Buffer.from("abc\n")],
        ["facts.json", Buffer.from('{"libc":"musl 1.2.3"}\n')],
      ]),
    ).toString();
    const byTag = await runCli("sbom", `${fullRepository}:v1`);
    assert.deepEqual([byTag.code, byTag.stderr], [0, ""]);
    assert.equal(byTag.stdout, expected);
    assert.equal((await runCli("sbom", imageRef)).stdout, expected);
  });

  it("`minimal-image sbom` of an image without one names it and the fix, and exits 1", async () => {
    const { code, stderr } = await runCli("sbom", carrierRef);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /^minimal-image: image .*@sha256:[0-9a-f]{64}: has no CycloneDX SBOM attached \(looked up through the fallback tag\)\. Deploy it with minimal-image's component/,
    );
  });
});
