import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import { gzipSync } from "node:zlib";
import {
  formatBytes,
  formatSizeReport,
  inspectImage,
  type ImageReport,
  type InspectOptions,
} from "../../components/inspect";
import { parseElf } from "../../components/inspect/elf";
import {
  compilePause,
  FakeRegistry,
  gzipLayer,
  makeTar,
  makeTempDir,
  MEDIA,
  sha256,
  type TarFile,
} from "../support/fake-registry";

const LOADER = "/lib64/ld-linux-x86-64.so.2";

function config(entrypoint: string[] | null, extra: object = {}) {
  return {
    architecture: "amd64",
    os: "linux",
    config: { Entrypoint: entrypoint, User: "65532:65532", ...extra },
    rootfs: { type: "layers", diff_ids: [] },
  };
}

async function expectError(promise: Promise<unknown>, name: string, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (err: Error) => {
    assert.equal(err.name, name, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("inspect/inspect (fake registry)", () => {
  let dir: string;
  let staticBin: Buffer;
  let dynamicBin: Buffer;
  let reg: FakeRegistry;

  before(function () {
    this.timeout(120_000);
    dir = makeTempDir("inspect");
    staticBin = fs.readFileSync(compilePause(dir, "static", ["-static", "-Os"]));
    dynamicBin = fs.readFileSync(compilePause(dir, "dynamic", ["-Os"]));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => (reg = await new FakeRegistry().start()));
  afterEach(() => reg.close());

  /** Pushes an image whose layers are built from `layers`, then inspects `app:v1`. */
  async function pushAndInspect(
    layers: TarFile[][],
    cfg: object = config(["/pausle"]),
    options: InspectOptions = {},
  ): Promise<ImageReport> {
    const bodies = await Promise.all(layers.map(async (files) => ({ body: await gzipLayer(files) })));
    reg.putImage("team/app", "v1", bodies, cfg);
    return inspectImage(`${reg.host}/team/app:v1`, options);
  }

  it("reports every figure of a one-layer static image", async () => {
    const layer = await gzipLayer([{ name: "pausle", content: staticBin }]);
    const pushed = reg.putImage("team/app", "v1", [{ body: layer }], config(["/pausle", "--flag"]));
    const report = await inspectImage(`${reg.host}/team/app:v1`);
    assert.deepEqual(report, {
      reference: `${reg.host}/team/app:v1`,
      registry: reg.host,
      repository: "team/app",
      digest: sha256(pushed.body),
      imageRef: `${reg.host}/team/app@${sha256(pushed.body)}`,
      compressedSizeBytes: pushed.configSize + layer.length,
      uncompressedSizeBytes: staticBin.length,
      layerCount: 1,
      entrypoint: ["/pausle", "--flag"],
      user: "65532:65532",
      binaryPath: "/pausle",
      binarySizeBytes: staticBin.length,
      machine: parseElf(staticBin).machine,
      isStatic: true,
      neededLibraries: [],
    });
    const blobFetches = reg.seen.filter((r) => r.url.includes("/blobs/")).length;
    assert.equal(blobFetches, 2, "config and the layer, each once");
  });

  it("names the interpreter of a dynamic binary", async () => {
    const report = await pushAndInspect([[{ name: "pausle", content: dynamicBin }]]);
    assert.equal(report.isStatic, false);
    assert.deepEqual(report.neededLibraries, ["libc.so.6"]);
    if (process.arch === "x64") assert.equal(report.interpreter, LOADER);
  });

  it("inspects by pinned digest, and by tag+digest (the digest wins)", async () => {
    const first = await pushAndInspect([[{ name: "pausle", content: staticBin }]]);
    const byDigest = await inspectImage(first.imageRef);
    assert.equal(byDigest.digest, first.digest);
    assert.equal(byDigest.reference, first.imageRef);
    const both = await inspectImage(`${reg.host}/team/app:gone@${first.digest}`);
    assert.equal(both.digest, first.digest);
  });

  it("picks the platform's manifest from an index, ignoring attestations; digest is the index's", async () => {
    const amd = reg.putImage(
      "team/app",
      undefined,
      [{ body: await gzipLayer([{ name: "pausle", content: staticBin }]) }],
      config(["/pausle"]),
      MEDIA.ociManifest,
    );
    const arm = reg.putImage(
      "team/app",
      undefined,
      [{ body: await gzipLayer([{ name: "pausle", content: dynamicBin }]) }],
      { ...config(["/pausle"]), architecture: "arm64" },
      MEDIA.ociManifest,
    );
    const index = reg.putManifest(
      "team/app",
      {
        schemaVersion: 2,
        mediaType: MEDIA.ociIndex,
        manifests: [
          {
            mediaType: MEDIA.ociManifest,
            digest: amd.digest,
            size: amd.body.length,
            platform: { os: "unknown", architecture: "unknown" },
            annotations: { "vnd.docker.reference.type": "attestation-manifest" },
          },
          {
            mediaType: MEDIA.ociManifest,
            digest: arm.digest,
            size: arm.body.length,
            platform: { os: "linux", architecture: "arm64" },
          },
          {
            mediaType: MEDIA.ociManifest,
            digest: amd.digest,
            size: amd.body.length,
            platform: { os: "linux", architecture: "amd64" },
          },
        ],
      },
      MEDIA.ociIndex,
      "multi",
    );
    // The arm64 entry holds this machine's binary: picked, then refused for its ELF machine, by name.
    await expectError(
      inspectImage(`${reg.host}/team/app:multi`, { platform: "linux/arm64" }),
      "InspectError",
      new RegExp(
        `@${index.digest}: /pausle is an ${parseElf(dynamicBin).machine} binary in an image for linux/arm64, whose binaries are AArch64`,
      ),
    );
    const amd64 = await inspectImage(`${reg.host}/team/app:multi`, { platform: "linux/amd64" });
    assert.equal(amd64.isStatic, true);
    assert.equal(amd64.compressedSizeBytes, amd.configSize + amd.layerSizes[0]);
  });

  it("refuses a single-platform image of another platform when a platform is asked for", async () => {
    reg.putImage(
      "team/app",
      "v1",
      [{ body: await gzipLayer([{ name: "pausle", content: staticBin }]) }],
      config(["/pausle"]),
    );
    await expectError(
      inspectImage(`${reg.host}/team/app:v1`, { platform: "linux/s390x" }),
      "InspectError",
      /is built for linux\/amd64, not the requested linux\/s390x/,
    );
  });

  describe("layers", () => {
    it("a later layer's file wins; both copies count toward the size, as Docker counts them", async () => {
      const report = await pushAndInspect([
        [{ name: "pausle", content: dynamicBin }],
        [{ name: "pausle", content: staticBin }],
      ]);
      assert.equal(report.isStatic, true);
      assert.equal(report.layerCount, 2);
      assert.equal(report.uncompressedSizeBytes, dynamicBin.length + staticBin.length);
      assert.equal(report.binarySizeBytes, staticBin.length);
    });

    it("a whiteout removes the binary of a lower layer", async () => {
      await expectError(
        pushAndInspect([[{ name: "pausle", content: staticBin }], [{ name: ".wh.pausle" }]]),
        "InspectError",
        /has no executable for "\/pausle": \/pausle does not exist\. Fix ENTRYPOINT/,
      );
    });

    it("a whiteout applies to lower layers only, not to a file in its own layer", async () => {
      const report = await pushAndInspect([
        [{ name: "pausle", content: dynamicBin }],
        [{ name: "pausle", content: staticBin }, { name: ".wh.pausle" }],
      ]);
      assert.equal(report.isStatic, true);
    });

    it("an opaque directory hides what lower layers put in it", async () => {
      const lower = [
        { name: "opt/app/", type: "directory" as const },
        { name: "opt/app/pausle", content: staticBin },
      ];
      await expectError(
        pushAndInspect(
          [lower, [{ name: "opt/app/", type: "directory" }, { name: "opt/app/.wh..wh..opq" }]],
          config(["/opt/app/pausle"]),
        ),
        "InspectError",
        /\/opt\/app\/pausle does not exist/,
      );
    });

    it("a whited-out directory takes its files with it, and a later layer can bring them back", async () => {
      const report = await pushAndInspect(
        [
          [{ name: "opt/app/pausle", content: staticBin }],
          [{ name: "opt/.wh.app" }],
          [{ name: "opt/app/pausle", content: dynamicBin }],
        ],
        config(["/opt/app/pausle"]),
      );
      assert.equal(report.isStatic, false);
    });

    it("cleans names as the engine does: Docker runs the dynamic /app written as x/../app", async () => {
      // moby's UnpackLayer cleans `x/../.wh.app` to `.wh.app` (removing the static /pausle of layer 0) and
      // writes `x/../pausle` as /pausle: the container runs the dynamic binary, so this is not static.
      const report = await pushAndInspect([
        [{ name: "pausle", content: staticBin }],
        [{ name: "x/../.wh.pausle" }, { name: "x/../pausle", content: dynamicBin }],
      ]);
      assert.equal(report.binaryPath, "/pausle");
      assert.equal(report.isStatic, false);
      assert.equal(report.interpreter, "/lib64/ld-linux-x86-64.so.2");
    });

    it("refuses an entry that climbs out of the root, as Docker does", async () => {
      await expectError(
        pushAndInspect([[{ name: "x/../../pausle", content: staticBin }]]),
        "LayerError",
        /a layer has the entry "x\/\.\.\/\.\.\/pausle", which climbs out of the image's root\. Check how the image was built: Docker refuses/,
      );
    });

    it("follows an absolute symlink, reading the target's layer a second time", async () => {
      const report = await pushAndInspect(
        [
          [{ name: "usr/bin/pausle", content: staticBin }],
          [{ name: "entry", type: "symlink", linkname: "/usr/bin/pausle" }],
        ],
        config(["/entry"]),
      );
      assert.equal(report.binaryPath, "/usr/bin/pausle");
      assert.equal(report.binarySizeBytes, staticBin.length);
      assert.deepEqual(report.entrypoint, ["/entry"]);
      const layerDigest = sha256(await gzipLayer([{ name: "usr/bin/pausle", content: staticBin }]));
      assert.equal(reg.seen.filter((r) => r.url.endsWith(layerDigest)).length, 2);
    });

    it("follows a relative symlink in a directory component (/bin -> usr/bin)", async () => {
      const report = await pushAndInspect(
        [
          [
            { name: "usr/bin/pausle", content: dynamicBin },
            { name: "bin", type: "symlink", linkname: "usr/bin" },
          ],
        ],
        config(["/bin/pausle"]),
      );
      assert.equal(report.binaryPath, "/usr/bin/pausle");
      assert.equal(report.isStatic, false);
    });

    it("follows a hardlink to its target", async () => {
      const report = await pushAndInspect([
        [
          { name: "opt/pausle", content: staticBin },
          { name: "pausle", type: "link", linkname: "opt/pausle" },
        ],
      ]);
      assert.equal(report.binaryPath, "/opt/pausle");
      assert.equal(report.binarySizeBytes, staticBin.length);
    });

    it("reports a symlink loop instead of spinning", async () => {
      await expectError(
        pushAndInspect(
          [
            [
              { name: "a", type: "symlink", linkname: "b" },
              { name: "b", type: "symlink", linkname: "a" },
            ],
          ],
          config(["/a"]),
        ),
        "InspectError",
        /more than 40 links/,
      );
    });

    it("finds a bare command name on the image's PATH, and a relative one under WorkingDir", async () => {
      const files = [{ name: "usr/bin/pausle", content: staticBin }];
      const onPath = await pushAndInspect([files], config(["pausle"], { Env: ["PATH=/opt/bin:/usr/bin"] }));
      assert.equal(onPath.binaryPath, "/usr/bin/pausle");
      const relative = await pushAndInspect([files], config(["bin/pausle"], { WorkingDir: "/usr" }));
      assert.equal(relative.binaryPath, "/usr/bin/pausle");
    });

    it("uses CMD when there is no ENTRYPOINT", async () => {
      const report = await pushAndInspect(
        [[{ name: "pausle", content: staticBin }]],
        config(null, { Cmd: ["/pausle"] }),
      );
      assert.deepEqual(report.entrypoint, []);
      assert.equal(report.binaryPath, "/pausle");
    });

    it("reads uncompressed tar layers", async () => {
      const tarBody = await makeTar([{ name: "pausle", content: staticBin }]);
      const pushed = reg.putImage(
        "team/app",
        "v1",
        [{ body: tarBody, mediaType: MEDIA.ociTar }],
        config(["/pausle"]),
        MEDIA.ociManifest,
      );
      const report = await inspectImage(`${reg.host}/team/app:v1`);
      assert.equal(report.compressedSizeBytes, pushed.configSize + tarBody.length);
      assert.equal(report.uncompressedSizeBytes, staticBin.length);
      assert.equal(report.isStatic, true);
    });
  });

  describe("errors", () => {
    it("zstd layers: a clear error before any layer is downloaded", async () => {
      reg.putImage(
        "team/app",
        "v1",
        [{ body: Buffer.from("zstd bytes"), mediaType: MEDIA.ociZstd }],
        config(["/pausle"]),
        MEDIA.ociManifest,
      );
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "LayerError",
        /zstd-compressed.*Push the image with gzip layers/,
      );
      assert.equal(reg.seen.filter((r) => r.url.includes("/blobs/")).length, 0);
    });

    it("stops at maxUncompressedBytes and names the figure", async () => {
      await expectError(
        pushAndInspect([[{ name: "pausle", content: staticBin }]], undefined, {
          maxUncompressedBytes: 100_000,
        }),
        "LayerError",
        /decompress to more than maxUncompressedBytes = 100000 bytes \(100\.0 kB\)\. Raise maxUncompressedBytes/,
      );
    });

    it("a gzip bomb is cut off at the bound, long before it is inflated", async () => {
      const bomb = gzipSync(await makeTar([{ name: "zeros", content: Buffer.alloc(64 * 1024 * 1024) }]));
      assert.ok(bomb.length < 1_000_000);
      reg.putImage("team/app", "v1", [{ body: bomb }], config(["/pausle"]));
      const started = Date.now();
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`, { maxUncompressedBytes: 4_000_000 }),
        "LayerError",
        /4000000 bytes/,
      );
      assert.ok(Date.now() - started < 5000, "aborted early");
    });

    it("an entrypoint that is not ELF", async () => {
      await expectError(
        pushAndInspect([[{ name: "pausle", content: "#!/bin/sh\nexec sleep inf\n" }]]),
        "InspectError",
        /\/pausle is not a usable ELF executable: not an ELF file/,
      );
    });

    it("an entrypoint that is a directory", async () => {
      await expectError(
        pushAndInspect([[{ name: "pausle/", type: "directory" }]]),
        "InspectError",
        /\/pausle is a directory/,
      );
    });

    it("an image without ENTRYPOINT or CMD", async () => {
      await expectError(
        pushAndInspect([[{ name: "pausle", content: staticBin }]], config(null)),
        "InspectError",
        /has neither ENTRYPOINT nor CMD/,
      );
    });

    it("a username without a password is an input error", async () => {
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`, { username: "u" }),
        "InputError",
        /registry\.password: is missing/,
      );
    });

    it("a malformed reference is an input error", async () => {
      await expectError(
        inspectImage("Not A Reference"),
        "InputError",
        /reference: "Not A Reference" is not a valid image reference/,
      );
    });
  });

  describe("formatSizeReport", () => {
    const base: ImageReport = {
      reference: "r",
      registry: "127.0.0.1:5000",
      repository: "pausle",
      digest: sha256("x"),
      imageRef: "x",
      compressedSizeBytes: 3712,
      uncompressedSizeBytes: 13_421,
      layerCount: 1,
      entrypoint: ["/pausle"],
      user: "65532:65532",
      binaryPath: "/pausle",
      binarySizeBytes: 13_421,
      machine: "x86-64",
      isStatic: true,
      neededLibraries: [],
    };

    it("static, one layer", () => {
      assert.equal(
        formatSizeReport("pausle", base),
        "pausle: 3.7 kB compressed, 13.4 kB on disk, 1 layer, static",
      );
    });

    it("dynamic with an interpreter, several layers", () => {
      const r = {
        ...base,
        layerCount: 3,
        isStatic: false,
        interpreter: LOADER,
        neededLibraries: ["libc.so.6"],
      };
      assert.equal(
        formatSizeReport("app", r),
        `app: 3.7 kB compressed, 13.4 kB on disk, 3 layers, not static (interpreter ${LOADER})`,
      );
    });

    it("dynamic without an interpreter names the libraries", () => {
      const r = {
        ...base,
        compressedSizeBytes: 2_500_000,
        isStatic: false,
        neededLibraries: ["libc.so.6", "libm.so.6"],
      };
      assert.equal(
        formatSizeReport("lib", r),
        "lib: 2.5 MB compressed, 13.4 kB on disk, 1 layer, not static (needs libc.so.6, libm.so.6)",
      );
    });

    it("formatBytes uses decimal units and rounds up across a unit boundary", () => {
      assert.deepEqual([0, 999, 1000, 1049, 999_949, 999_950, 1_500_000, 12_345_678_901].map(formatBytes), [
        "0 B",
        "999 B",
        "1.0 kB",
        "1.0 kB",
        "999.9 kB",
        "1.0 MB",
        "1.5 MB",
        "12.3 GB",
      ]);
    });
  });
});
