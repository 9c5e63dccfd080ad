// Several platforms from one component, under mocks: one image and one inspection per platform, one index
// under the tag, the outputs it reports, and what stays as it was for one platform.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { podPlacement } from "../../components/deploy";
import { MinimalImage, MinimalImageArgs } from "../../components/minimal-image";
import { InputError } from "../../components/validation";
import { FakeRegistry } from "../support/fake-registry";
import {
  Declared,
  INDEX_TYPE,
  INSPECTION_TYPE,
  isSecretInput,
  MOCK_INDEX_DIGEST,
  registrationsSettled,
  serializedProvider,
  setRecordingMocks,
  settle,
} from "../support/pulumi";
import { imageReport } from "../support/report";

const REPO_ROOT = path.join(__dirname, "..", "..");
const DIGEST = `sha256:${"ab".repeat(32)}`;
const BOTH = ["linux/amd64", "linux/arm64"];

describe("MinimalImage with several platforms (mocks)", function () {
  this.timeout(30_000);
  let programDir: string;
  let declared: Declared[];

  beforeEach(() => {
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-platforms-"));
    fs.cpSync(path.join(REPO_ROOT, "examples", "pausle"), path.join(programDir, "pausle"), {
      recursive: true,
    });
  });
  afterEach(() => fs.rmSync(programDir, { recursive: true, force: true }));

  /** Declares the component under fresh mocks; the arm64 image reports an AArch64 binary twice as large. */
  async function declare(
    args: Partial<MinimalImageArgs>,
    preview = false,
  ): Promise<{ image: MinimalImage; declared: Declared[] }> {
    declared = [];
    await setRecordingMocks((resource) => declared.push(resource), {
      digest: DIGEST,
      preview,
      inspect: ({ platform }) =>
        platform === "linux/arm64"
          ? imageReport({ compressedSizeBytes: 7_400, binarySizeBytes: 9_000, machine: "AArch64" })
          : imageReport(),
    });
    const image = new MinimalImage(
      "pausle",
      { source: "pausle", imageName: "pausle", registry: { server: "127.0.0.1:5000" }, ...args },
      { programDir },
    );
    await registrationsSettled();
    return { image, declared };
  }

  const ofType = (type: string) => declared.filter((d) => d.type === type);

  it("refuses platform and platforms together, naming both, before declaring anything", async () => {
    await assert.rejects(
      declare({ platform: "linux/arm64", platforms: BOTH }),
      (e: InputError) =>
        e.field === "platforms" && /together with `platform`/.test(e.message) && /not both/.test(e.message),
    );
    await registrationsSettled();
    assert.deepEqual(declared, []);
  });

  for (const [platforms, field, problem] of [
    [["linux/arm64", "linux/arm64/v8"], "platforms", /listed twice/],
    [["linux/amd64", "linux/s390x"], "platforms[1]", /compiles for linux\/amd64 and linux\/arm64.*Set it to/],
    [["linux/amd64", "arm64"], "platforms[1]", /not a platform/],
    [[], "platforms", /one or more platforms/],
    [["linux/amd64", pulumi.output("linux/arm64")], "platforms[1]", /must be known when the program runs/],
    [pulumi.output(BOTH), "platforms", /must be known when the program runs/],
  ] as const) {
    const shown = pulumi.Output.isInstance(platforms) ? "an Output" : platforms.map(String).join(", ");
    it(`refuses ${field} (${shown}) with the fix, before declaring anything`, async () => {
      await assert.rejects(
        declare({ platforms: platforms as MinimalImageArgs["platforms"] }),
        (e: InputError) => e instanceof InputError && e.field === field && problem.test(e.message),
      );
      await registrationsSettled();
      assert.deepEqual(declared, []);
    });
  }

  it("builds a list of one exactly as `platform`: same resources, same inputs, no index", async () => {
    const one = await declare({ platform: "linux/arm64" });
    const listed = await declare({ platforms: ["linux/arm64"] });
    assert.deepEqual(listed.declared, one.declared);
    assert.equal(ofType(INDEX_TYPE).length, 0);
    assert.equal(await settle(listed.image.imageRef), `127.0.0.1:5000/pausle@${DIGEST}`);
    assert.deepEqual(Object.keys(await settle(listed.image.platformImages)), ["linux/arm64"]);
    assert.equal(await settle(listed.image.sizeReport), await settle(one.image.sizeReport));
  });

  it("declares one image and inspection per platform, each under its own tag, and one index under the tag", async () => {
    await declare({
      platforms: BOTH,
      tag: "v1",
      registry: { server: "127.0.0.1:5000", username: "ci", password: pulumi.secret("hunter2") },
    });
    const built = ofType("docker:index/image:Image");
    const targetOf = (d: (typeof built)[number]) => (d.inputs.build as { target?: string }).target;
    const images = built.filter((d) => targetOf(d) === undefined);
    assert.deepEqual(
      images.map((d) => [d.name, d.inputs.imageName, (d.inputs.build as { platform: string }).platform]),
      [
        ["pausle-linux-amd64", "127.0.0.1:5000/pausle:v1-linux-amd64", "linux/amd64"],
        ["pausle-linux-arm64", "127.0.0.1:5000/pausle:v1-linux-arm64", "linux/arm64"],
      ],
    );
    // One SBOM per platform: each platform's facts are built from its own Dockerfile, to the sbom target.
    assert.deepEqual(
      built.filter((d) => targetOf(d) === "sbom").map((d) => [d.name, d.inputs.imageName]),
      [
        ["pausle-linux-amd64-sbom-facts", "127.0.0.1:5000/pausle:v1-sbom-facts-linux-amd64"],
        ["pausle-linux-arm64-sbom-facts", "127.0.0.1:5000/pausle:v1-sbom-facts-linux-arm64"],
      ],
    );
    // Each platform's build is rendered for it: the arm64 one cross-compiles.
    const dockerfiles = images.map((d) =>
      fs.readFileSync(path.join(programDir, (d.inputs.build as { dockerfile: string }).dockerfile), "utf8"),
    );
    assert.doesNotMatch(dockerfiles[0], /BUILDPLATFORM/);
    assert.match(dockerfiles[1], /^FROM --platform=\$BUILDPLATFORM /m);
    assert.deepEqual(
      ofType(INSPECTION_TYPE).map((d) => [d.name, d.inputs.imageRef, d.inputs.platform]),
      [
        ["pausle-linux-amd64-inspection", `127.0.0.1:5000/pausle@${DIGEST}`, "linux/amd64"],
        ["pausle-linux-arm64-inspection", `127.0.0.1:5000/pausle@${DIGEST}`, "linux/arm64"],
      ],
    );
    const [index] = ofType(INDEX_TYPE);
    assert.equal(index.name, "pausle-index");
    assert.equal(index.inputs.imageName, "127.0.0.1:5000/pausle:v1");
    assert.deepEqual(index.inputs.manifests, [
      { platform: "linux/amd64", imageRef: `127.0.0.1:5000/pausle@${DIGEST}` },
      { platform: "linux/arm64", imageRef: `127.0.0.1:5000/pausle@${DIGEST}` },
    ]);
    assert.equal(index.inputs.username, "ci");
    assert.ok(isSecretInput(index.inputs.password), "the password reaches the index only as a secret");
    assert.equal(typeof index.inputs.__provider, "string", "the provider is serialized with the resource");
  });

  it("reports the index as imageRef and digest, each platform in platformImages, and one line per platform", async () => {
    const { image } = await declare({ platforms: BOTH });
    assert.equal(await settle(image.imageRef), `127.0.0.1:5000/pausle@${MOCK_INDEX_DIGEST}`);
    assert.equal(await settle(image.digest), MOCK_INDEX_DIGEST);
    const amd64 = imageReport();
    assert.deepEqual(await settle(image.platformImages), {
      "linux/amd64": {
        imageRef: amd64.imageRef,
        digest: amd64.digest,
        compressedSizeBytes: 3_700,
        uncompressedSizeBytes: 5_040,
        binarySizeBytes: 5_040,
        layerCount: 1,
        isStatic: true,
      },
      "linux/arm64": {
        imageRef: amd64.imageRef,
        digest: amd64.digest,
        compressedSizeBytes: 7_400,
        uncompressedSizeBytes: 5_040,
        binarySizeBytes: 9_000,
        layerCount: 1,
        isStatic: true,
      },
    });
    // The top-level figures are the first listed platform's.
    assert.equal(await settle(image.compressedSizeBytes), 3_700);
    assert.equal(await settle(image.binarySizeBytes), 5_040);
    assert.equal(
      await settle(image.sizeReport),
      "pausle (linux/amd64): 3.7 kB compressed, 5.0 kB on disk, 1 layer, static\n" +
        "pausle (linux/arm64): 7.4 kB compressed, 5.0 kB on disk, 1 layer, static",
    );
  });

  it("runs Docker replicas from the index without forcing a platform, so the engine pulls its own", async () => {
    const { image } = await declare({ platforms: BOTH, replicas: { count: 2 } });
    const [pull] = ofType("docker:index/remoteImage:RemoteImage");
    assert.equal(pull.inputs.name, `127.0.0.1:5000/pausle@${MOCK_INDEX_DIGEST}`);
    assert.equal(pull.inputs.platform, undefined);
    const names = await settle(image.replicaNames);
    assert.equal(names.length, 2);
    // Another platform list is another generation of replicas, started beside the old one.
    const single = await declare({ platforms: ["linux/amd64"], replicas: { count: 2 } });
    assert.equal(ofType("docker:index/remoteImage:RemoteImage")[0].inputs.platform, "linux/amd64");
    assert.notDeepEqual(await settle(single.image.replicaNames), names);
  });

  it("lets Kubernetes schedule onto every architecture built, and no other", async () => {
    await declare({ platforms: BOTH, replicas: { count: 1, runtime: "kubernetes" } });
    const [deployment] = ofType("kubernetes:apps/v1:Deployment");
    const pod = (deployment.inputs.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/os": "linux" });
    // The affinity itself is podPlacement's (tests/deploy/kubernetes.test.ts).
    assert.deepEqual(pod.affinity, podPlacement(BOTH).affinity);
    const [container] = pod.containers as { image: string }[];
    assert.equal(container.image, `127.0.0.1:5000/pausle@${MOCK_INDEX_DIGEST}`);
  });

  describe("previews and repeated runs", () => {
    let registry: FakeRegistry;
    before(async () => (registry = await new FakeRegistry().start()));
    after(() => registry.close());

    it("a preview asks no registry, and leaves the index unknown; deciding whether to push asks nothing either", async () => {
      registry.seen.length = 0;
      registry.storageSeen.length = 0;
      const { image } = await declare({ platforms: BOTH, registry: { server: registry.host } }, true);
      assert.equal(await (image.imageRef as unknown as { isKnown: Promise<boolean> }).isKnown, false);
      const [index] = ofType(INDEX_TYPE);
      const provider = serializedProvider(index.inputs);
      const manifests = [{ platform: "linux/amd64", imageRef: `${registry.host}/pausle@${DIGEST}` }];
      const inputs = { imageName: `${registry.host}/pausle:latest`, manifests };
      assert.deepEqual(await provider.diff("id", inputs, { ...inputs, username: "other" }), {
        changes: false,
        replaces: [],
        deleteBeforeReplace: false,
      });
      const other = [{ ...manifests[0], imageRef: `${registry.host}/pausle@sha256:${"0".repeat(64)}` }];
      const changed = await provider.diff("id", inputs, { ...inputs, manifests: other });
      assert.deepEqual([changed.changes, changed.replaces], [true, ["manifests"]]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(registry.seen, [], "no registry request");
      assert.deepEqual(registry.storageSeen, []);
    });

    it("two runs of the same program declare identical inputs for every resource", async () => {
      const args = { platforms: BOTH, registry: { server: registry.host }, replicas: { count: 2 } };
      const first = (await declare(args, true)).declared;
      const second = (await declare(args, true)).declared;
      assert.ok(first.some((d) => d.type === INDEX_TYPE));
      assert.deepEqual(second, first);
    });
  });
});
