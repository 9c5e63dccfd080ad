import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { inspectPlatforms, isIndexReport, type IndexReport } from "../../components/inspect";
import { parseElf } from "../../components/inspect/elf";
import { runCli } from "../support/capture";
import { compilePause, FakeRegistry, gzipLayer, makeTempDir, MEDIA } from "../support/fake-registry";

/** This machine's static binary with its ELF header's e_machine set to AArch64 (183): only headers are read. */
function asAarch64(binary: Buffer): Buffer {
  const copy = Buffer.from(binary);
  copy.writeUInt16LE(183, 18);
  return copy;
}

const config = (architecture: string) => ({
  architecture,
  os: "linux",
  config: { Entrypoint: ["/pausle"], User: "65532:65532" },
  rootfs: { type: "layers", diff_ids: [] },
});

describe("inspect/platforms: every platform of an index (fake registry)", () => {
  let dir: string;
  let x86: Buffer;
  let arm: Buffer;
  let dynamic: Buffer;
  let reg: FakeRegistry;

  before(function () {
    this.timeout(120_000);
    dir = makeTempDir("platforms");
    x86 = fs.readFileSync(compilePause(dir, "static", ["-static", "-Os"]));
    dynamic = fs.readFileSync(compilePause(dir, "dynamic", ["-Os"]));
    arm = asAarch64(x86);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => (reg = await new FakeRegistry().start()));
  afterEach(() => reg.close());

  /** Pushes one image per [architecture, binary] and an index of them (plus an attestation) under `multi`. */
  async function pushIndex(images: [string, Buffer][], extraEntries: object[] = []) {
    const pushed = await Promise.all(
      images.map(async ([architecture, binary]) => {
        const layer = await gzipLayer([{ name: "pausle", content: binary }]);
        const image = reg.putImage(
          "team/app",
          undefined,
          [{ body: layer }],
          config(architecture),
          MEDIA.ociManifest,
        );
        return { architecture, ...image };
      }),
    );
    const entry = (p: (typeof pushed)[number], platform: object, annotations?: object) => ({
      mediaType: MEDIA.ociManifest,
      digest: p.digest,
      size: p.body.length,
      platform,
      ...(annotations ? { annotations } : {}),
    });
    const index = reg.putManifest(
      "team/app",
      {
        schemaVersion: 2,
        mediaType: MEDIA.ociIndex,
        manifests: [
          ...pushed.map((p) => entry(p, { os: "linux", architecture: p.architecture })),
          // An attestation manifest, as BuildKit adds one per platform: skipped, never inspected.
          entry(
            pushed[0],
            { os: "unknown", architecture: "unknown" },
            { "vnd.docker.reference.type": "attestation-manifest" },
          ),
          ...extraEntries,
        ],
      },
      MEDIA.ociIndex,
      "multi",
    );
    return { pushed, index };
  }

  it("reports each platform's image by digest, in the index's order, attestations skipped", async () => {
    const { pushed, index } = await pushIndex([
      ["amd64", x86],
      ["arm64", arm],
    ]);
    const report = await inspectPlatforms(`${reg.host}/team/app:multi`);
    assert.ok(isIndexReport(report));
    assert.equal(report.digest, index.digest);
    assert.equal(report.imageRef, `${reg.host}/team/app@${index.digest}`);
    assert.deepEqual(
      report.platforms.map((p) => [p.platform, p.digest, p.machine, p.isStatic, p.binarySizeBytes]),
      [
        ["linux/amd64", pushed[0].digest, "x86-64", true, x86.length],
        ["linux/arm64", pushed[1].digest, "AArch64", true, arm.length],
      ],
    );
    assert.equal(report.platforms[1].compressedSizeBytes, pushed[1].configSize + pushed[1].layerSizes[0]);
  });

  it("inspects a single-platform image as inspectImage does, and one platform of an index with platform", async () => {
    const layer = await gzipLayer([{ name: "pausle", content: x86 }]);
    reg.putImage("team/app", "single", [{ body: layer }], config("amd64"));
    const single = await inspectPlatforms(`${reg.host}/team/app:single`);
    assert.ok(!isIndexReport(single));
    assert.equal(single.machine, "x86-64");

    await pushIndex([
      ["amd64", x86],
      ["arm64", arm],
    ]);
    const one = await inspectPlatforms(`${reg.host}/team/app:multi`, { platform: "linux/arm64" });
    assert.ok(!isIndexReport(one));
    assert.equal(one.machine, "AArch64");
  });

  it("fails naming the platform whose binary is of another machine", async () => {
    await pushIndex([
      ["amd64", x86],
      ["arm64", x86],
    ]);
    await assert.rejects(inspectPlatforms(`${reg.host}/team/app:multi`), (error: Error) => {
      assert.equal(error.name, "InspectError");
      assert.match(
        error.message,
        /is an x86-64 binary in an image for linux\/arm64, whose binaries are AArch64/,
      );
      return true;
    });
  });

  it("refuses an index of more platforms than maxPlatforms before inspecting any, naming --platform", async () => {
    const { index } = await pushIndex([
      ["amd64", x86],
      ["arm64", arm],
    ]);
    await assert.rejects(
      inspectPlatforms(`${reg.host}/team/app:multi`, {
        maxPlatforms: 1,
        inputNames: { platform: "--platform" },
      }),
      (error: Error) => {
        assert.equal(error.name, "InspectError");
        assert.match(
          error.message,
          new RegExp(
            `@${index.digest}: is an index of 2 platform images, more than maxPlatforms = 1\\. Pick one with --platform, or raise maxPlatforms`,
          ),
        );
        return true;
      },
    );
    assert.equal(reg.seen.filter((r) => r.url.includes("/blobs/")).length, 0, "no image was read");
  });

  it("caps an index at 16 platforms by default", async () => {
    const { pushed } = await pushIndex([["amd64", x86]]);
    const many = Array.from({ length: 16 }, (_, i) => ({
      mediaType: MEDIA.ociManifest,
      digest: pushed[0].digest,
      size: pushed[0].body.length,
      platform: { os: "linux", architecture: "amd64", variant: `v${i}` },
    }));
    await pushIndex([["amd64", x86]], many);
    await assert.rejects(
      inspectPlatforms(`${reg.host}/team/app:multi`),
      /17 platform images, more than maxPlatforms = 16/,
    );
  });

  it("refuses an index that lists attestations alone", async () => {
    const layer = await gzipLayer([{ name: "pausle", content: x86 }]);
    const image = reg.putImage("team/app", undefined, [{ body: layer }], config("amd64"), MEDIA.ociManifest);
    reg.putManifest(
      "team/app",
      {
        schemaVersion: 2,
        manifests: [
          {
            mediaType: MEDIA.ociManifest,
            digest: image.digest,
            size: image.body.length,
            platform: { os: "unknown", architecture: "unknown" },
          },
        ],
      },
      MEDIA.ociIndex,
      "empty",
    );
    await assert.rejects(
      inspectPlatforms(`${reg.host}/team/app:empty`),
      /is an index that lists no platform image/,
    );
  });

  describe("minimal-image inspect on an index", () => {
    it("prints one line per platform, and lists them in JSON", async () => {
      await pushIndex([
        ["amd64", x86],
        ["arm64", arm],
      ]);
      const lines = await runCli("inspect", `${reg.host}/team/app:multi`);
      assert.equal(lines.code, 0, lines.stderr);
      assert.match(
        lines.stdout,
        /^app linux\/amd64: [\d.]+ kB compressed, [\d.]+ kB on disk, 1 layer, static\napp linux\/arm64: [\d.]+ kB compressed, [\d.]+ kB on disk, 1 layer, static\n$/,
      );
      const json = await runCli("inspect", `${reg.host}/team/app:multi`, "--json");
      const report = JSON.parse(json.stdout) as IndexReport;
      assert.deepEqual(
        report.platforms.map((p) => [p.platform, p.machine]),
        [
          ["linux/amd64", "x86-64"],
          ["linux/arm64", "AArch64"],
        ],
      );
    });

    it("prints the one platform --platform picks, as for a single-platform image", async () => {
      await pushIndex([
        ["amd64", x86],
        ["arm64", arm],
      ]);
      const { code, stdout } = await runCli(
        "inspect",
        `${reg.host}/team/app:multi`,
        "--platform",
        "linux/arm64",
      );
      assert.equal(code, 0);
      assert.match(stdout, /^app: [\d.]+ kB compressed, [\d.]+ kB on disk, 1 layer, static\n$/);
    });

    it("gates every platform, naming the one that fails", async () => {
      await pushIndex([
        ["amd64", dynamic],
        ["arm64", arm],
      ]);
      const gated = await runCli(
        "inspect",
        `${reg.host}/team/app:multi`,
        "--require-static",
        "--max-bytes",
        String(arm.length - 1),
      );
      assert.equal(gated.code, 1);
      assert.equal(gated.stdout.split("\n").filter(Boolean).length, 2, "both platforms are reported first");
      const failures = gated.stderr.trimEnd().split("\n");
      assert.match(
        failures[0],
        /^minimal-image: --require-static: \/pausle \(linux\/amd64\) is not a static binary: it needs /,
      );
      assert.match(
        failures.at(-1) ?? "",
        new RegExp(
          `^minimal-image: --max-bytes: the linux/arm64 image takes ${arm.length} bytes on disk, over the budget of ${arm.length - 1}$`,
        ),
      );
      assert.equal(parseElf(dynamic).isStatic, false);
    });
  });
});
