// What `pulumi preview` and a repeated `pulumi up` of an unchanged program cost: the component declares the
// same inputs every time, a preview asks the registry nothing, and an update of an unchanged image asks it
// nothing either, counted on a fake registry that holds the image. The inspection is the provider Pulumi
// serialized into the recorded inspection's state, run here as the engine runs it (no test seam).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MinimalImage } from "../../components/minimal-image";
import { FakeRegistry, gzipLayer, MEDIA } from "../support/fake-registry";
import {
  Declared,
  INSPECTION_TYPE,
  registrationsSettled,
  serializedProvider,
  setRecordingMocks,
  settle,
} from "../support/pulumi";

const REPO_ROOT = path.join(__dirname, "..", "..");
// Not a real binary: the count of requests is what is measured, not the inspection's verdict.
const ENTRYPOINT = Buffer.from("not an ELF file");

describe("previews and unchanged programs", function () {
  this.timeout(60_000);
  let registry: FakeRegistry;
  let programDir: string;
  let digest: string;
  let declared: Declared[];

  before(async () => {
    registry = await new FakeRegistry().start();
    const layer = await gzipLayer([{ name: "pausle", content: ENTRYPOINT }]);
    digest = registry.putImage(
      "pausle",
      "latest",
      [{ body: layer }],
      { architecture: "amd64", os: "linux", config: { Entrypoint: ["/pausle"] }, rootfs: { type: "layers" } },
      MEDIA.dockerManifest,
    ).digest;
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-preview-"));
    fs.cpSync(path.join(REPO_ROOT, "examples", "pausle"), path.join(programDir, "pausle"), {
      recursive: true,
    });
  });
  after(async () => {
    await registry.close();
    fs.rmSync(programDir, { recursive: true, force: true });
  });

  /** Runs the component under mocks whose Image reports the digest the fake registry holds, as state would. */
  async function declare(preview: boolean): Promise<{ image: MinimalImage; declared: Declared[] }> {
    declared = [];
    // The Image answers with the digest the fake registry holds, as state would for an unchanged image.
    await setRecordingMocks((resource) => declared.push(resource), { digest, preview, inspect: "provider" });
    const image = new MinimalImage(
      "pausle",
      {
        source: "pausle",
        imageName: "pausle",
        registry: { server: registry.host },
        maxImageBytes: 16_000,
        replicas: { count: 2 },
      },
      { programDir },
    );
    await registrationsSettled();
    return { image, declared };
  }

  it("a preview of an unchanged image makes no registry request, and leaves the sizes unknown", async () => {
    registry.seen.length = 0;
    registry.storageSeen.length = 0;
    const { image } = await declare(true);
    assert.equal(
      await (image.compressedSizeBytes as unknown as { isKnown: Promise<boolean> }).isKnown,
      false,
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(registry.seen, [], "no manifest request");
    assert.deepEqual(registry.storageSeen, [], "no blob request");
  });

  it("an update inspects the pushed digest (so the count above could fail)", async () => {
    registry.seen.length = 0;
    const { image } = await declare(false);
    await settle(image.layerCount).catch(() => undefined);
    assert.ok(registry.seen.some((request) => request.url.includes(`/manifests/${digest}`)));
  });

  it("an update of an unchanged image asks nothing: the provider's diff keeps the recorded inspection", async () => {
    const inspection = (await declare(true)).declared.find((d) => d.type === INSPECTION_TYPE);
    assert.ok(inspection, "the inspection is a resource of its own");
    const provider = serializedProvider(inspection.inputs);
    const inputs = { imageRef: `${registry.host}/pausle@${digest}`, platform: "linux/amd64" };
    registry.seen.length = 0;
    // The engine creates only on a change: the same digest (and other credentials) is none.
    assert.deepEqual(await provider.diff("id", inputs, { ...inputs, username: "other" }), {
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const newDigest = `sha256:${"0".repeat(64)}`;
    const changed = await provider.diff("id", inputs, {
      ...inputs,
      imageRef: `${registry.host}/pausle@${newDigest}`,
    });
    assert.deepEqual([changed.changes, changed.replaces], [true, ["imageRef"]]);
    assert.deepEqual(registry.seen, [], "deciding asked the registry nothing");
  });

  it("two runs of the same program declare identical inputs for every resource", async () => {
    const first = (await declare(true)).declared;
    const second = (await declare(true)).declared;
    assert.ok(first.length >= 5, `${first.map((d) => d.type).join(", ")}`);
    assert.deepEqual(second, first);
  });
});
