// The component's SBOM resources under mocks: a carrier image built from the same context and Dockerfile to
// the `sbom` target, after the image, and the attachment of its facts to the pushed digest. A preview asks
// the registry nothing, two runs declare the same, and `recipe.sbom: false` declares neither. The Docker
// provider builds `build.target` (pulumi-docker provider/image.go: `Target: build.Target` in the engine's
// ImageBuildOptions), pushes `imageName` as tagged (`docker.ImagePush(ctx, img.Name, …)`) and reports the
// engine's first RepoDigest as `repoDigest`: the carrier is pushed under its own tag, and read by digest.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { MinimalImage } from "../../components/minimal-image";
import { SBOM_TARGET } from "../../components/render";
import { FakeRegistry } from "../support/fake-registry";
import {
  Declared,
  registrationsSettled,
  serializedProvider,
  setRecordingMocks,
  settle,
} from "../support/pulumi";

const REPO_ROOT = path.join(__dirname, "..", "..");
const ATTACHMENT_TYPE = "pulumi-nodejs:dynamic/minimal-image:SbomAttachment";
const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("the component's SBOM", function () {
  this.timeout(60_000);
  let registry: FakeRegistry;
  let programDir: string;

  before(async () => {
    registry = await new FakeRegistry().start();
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-sbom-"));
    fs.cpSync(path.join(REPO_ROOT, "examples", "pausle"), path.join(programDir, "pausle"), {
      recursive: true,
    });
  });
  after(async () => {
    await registry.close();
    fs.rmSync(programDir, { recursive: true, force: true });
  });

  async function declare(preview: boolean, recipe: Record<string, unknown> = {}) {
    const declared: Declared[] = [];
    await setRecordingMocks((resource) => declared.push(resource), { digest: DIGEST, preview });
    const image = new MinimalImage(
      "pausle",
      {
        source: "pausle",
        imageName: "team/pausle",
        tag: "v1",
        recipe,
        registry: { server: registry.host, username: "ci", password: "s3cret" },
      },
      { programDir },
    );
    await registrationsSettled();
    return { image, declared };
  }

  it("builds the carrier from the image's context and Dockerfile to the sbom target, under its own tag", async () => {
    const { declared } = await declare(false);
    const images = declared.filter((d) => d.type === "docker:index/image:Image");
    assert.equal(images.length, 2);
    const [image, carrier] = images;
    assert.equal(carrier.name, "pausle-sbom-facts");
    assert.equal(carrier.inputs.imageName, `${registry.host}/team/pausle:v1-sbom-facts-linux-amd64`);
    const build = carrier.inputs.build as Record<string, unknown>;
    assert.deepEqual(build, { ...(image.inputs.build as object), target: SBOM_TARGET });
    const attachment = declared.find((d) => d.type === ATTACHMENT_TYPE);
    assert.ok(attachment, "the attachment is a resource of its own");
    assert.equal(attachment.inputs.subjectRef, `${registry.host}/team/pausle@${DIGEST}`);
    assert.equal(attachment.inputs.carrierRef, `${registry.host}/team/pausle@${DIGEST}`);
    assert.equal(attachment.inputs.username, "ci");
  });

  it("a preview asks the registry nothing and leaves sbomDigest unknown; its diff is pure", async () => {
    registry.seen.length = 0;
    registry.storageSeen.length = 0;
    const { image, declared } = await declare(true);
    assert.equal(await (image.sbomDigest as unknown as { isKnown: Promise<boolean> }).isKnown, false);
    const attachment = declared.find((d) => d.type === ATTACHMENT_TYPE)!;
    const provider = serializedProvider(attachment.inputs);
    const olds = {
      carrierRef: `${registry.host}/team/pausle@${DIGEST}`,
      subjectRef: `${registry.host}/team/pausle@${DIGEST}`,
    };
    assert.equal((await provider.diff("id", olds, { ...olds, username: "other" })).changes, false);
    const other = `${registry.host}/team/pausle@sha256:${"0".repeat(64)}`;
    assert.deepEqual((await provider.diff("id", olds, { ...olds, subjectRef: other })).replaces, [
      "subjectRef",
    ]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual([registry.seen, registry.storageSeen], [[], []]);
  });

  it("two runs declare identical inputs", async () => {
    assert.deepEqual((await declare(true)).declared, (await declare(true)).declared);
  });

  it("recipe.sbom false declares no carrier and no attachment, and sbomDigest is undefined", async () => {
    const { image, declared } = await declare(false, { sbom: false });
    assert.deepEqual(
      declared.filter((d) => d.type === ATTACHMENT_TYPE || d.name === "pausle-sbom-facts"),
      [],
    );
    assert.equal(await settle(image.sbomDigest), undefined);
  });

  it("recipe.sbom false inside a recipe given as an Output fails, naming the field and the fix", async () => {
    const declared: Declared[] = [];
    await setRecordingMocks((resource) => declared.push(resource), { digest: DIGEST, preview: false });
    const image = new MinimalImage(
      "pausle",
      {
        source: "pausle",
        imageName: "pausle",
        recipe: pulumi.output({ sbom: false }),
        registry: { server: registry.host },
      },
      { programDir },
    );
    await assert.rejects(
      settle(image.sbomDigest),
      /recipe\.sbom: is false in a recipe given as an Output.*Give recipe \(or at least recipe\.sbom\) as a plain value/,
    );
  });
});
