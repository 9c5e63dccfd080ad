import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildLocally } from "../../harness/engine/build";
import { renderBuild } from "../../components/render";
import { pushLocally } from "../../harness/engine/push";
import { gateFailures } from "../../components/cli/inspect";
import { ImageReport, IndexReport } from "../../components/inspect";
import { runCli } from "../support/capture";
import { removeImages } from "../support/engine";
import { LOCAL_BUILDERS, LOCAL_REGISTRY, uniqueName } from "../support/env";
import { RegistryClient } from "../../components/oci";
import { pushImageIndex } from "../../components/publish";

const PAUSLE = path.join(__dirname, "..", "..", "examples", "pausle");
const RUST_DEPS = path.join(__dirname, "..", "..", "examples", "hello-rust-deps");

describe("minimal-image dockerfile", () => {
  it("prints the same Dockerfile the library renders", async () => {
    const { code, stdout } = await runCli(
      "dockerfile",
      PAUSLE,
      "--libc",
      "glibc",
      "--arg",
      "x",
      "--extra",
      "passwd",
    );
    assert.equal(code, 0);
    assert.equal(
      stdout,
      renderBuild(PAUSLE, { libc: "glibc", entrypointArgs: ["x"], extras: ["passwd"] }).dockerfile,
    );
  });

  it("renders a recipe option given as a flag: --cargo-lto thin, --cargo-lto off", async () => {
    const { code, stdout } = await runCli("dockerfile", RUST_DEPS, "--cargo-lto", "thin");
    assert.equal(code, 0);
    assert.equal(stdout, renderBuild(RUST_DEPS, { cargoLto: "thin" }).dockerfile);
    assert.match(stdout, /CARGO_PROFILE_RELEASE_LTO=thin /);
    const off = await runCli("dockerfile", RUST_DEPS, "--cargo-lto", "off");
    assert.equal(off.code, 0);
    assert.equal(off.stdout, renderBuild(RUST_DEPS, { cargoLto: "off" }).dockerfile);
    assert.match(off.stdout, /CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 /);
  });

  it("writes to a file with --write and lists the context with --list-context", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-cli-")), "Dockerfile");
    try {
      assert.equal((await runCli("dockerfile", PAUSLE, "--write", file)).code, 0);
      assert.match(fs.readFileSync(file, "utf8"), /^FROM scratch$/m);
      assert.equal((await runCli("dockerfile", PAUSLE, "--list-context")).stdout, "pausle.c\n");
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it("names the flag in a usage error and exits 2", async () => {
    const unknown = await runCli("dockerfile", PAUSLE, "--tolchain", "c");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--tolchain'/);

    const bad = await runCli("dockerfile", PAUSLE, "--toolchain", "java");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^minimal-image: --toolchain: "java" is not supported/);

    const lto = await runCli("dockerfile", RUST_DEPS, "--cargo-lto", "none");
    assert.equal(lto.code, 2);
    assert.match(
      lto.stderr,
      /^minimal-image: --cargo-lto: "none" is not supported\. Use one of: fat, thin, off/,
    );

    const noOutput = await runCli("dockerfile", PAUSLE, "--build-command", "make");
    assert.match(noOutput.stderr, /^minimal-image: --output: is required with --build-command/);

    const missingDir = await runCli("dockerfile", "/nonexistent/dir");
    assert.match(missingDir.stderr, /^minimal-image: <dir>: .* is not a readable folder/);
  });
});

describe("minimal-image --version and messages in flag names", () => {
  it("prints the package's version", async () => {
    const { code, stdout } = await runCli("--version");
    assert.equal(code, 0);
    const { version } = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "..", "package.json"), "utf8"));
    assert.equal(stdout, `${version}\n`);
  });

  it("runs as `npx minimal-image` from the build's bin/ (the build keeps the exec bit)", () => {
    const root = path.join(__dirname, "..", "..");
    const entry = path.join(root, "bin", "components", "cli", "main.js");
    assert.ok(fs.existsSync(entry), `${entry} is missing: run \`npm run build\` first (npm test does)`);
    assert.ok((fs.statSync(entry).mode & 0o111) !== 0, `${entry} is not executable`);
    const out = execFileSync("npx", ["--no-install", "minimal-image", "--version"], {
      cwd: root,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.match(out, /^\d+\.\d+\.\d+/);
  });

  it("names flags, never API fields, in a recipe error", async () => {
    const libc = await runCli("dockerfile", PAUSLE, "--toolchain", "go", "--libc", "musl");
    assert.match(
      libc.stderr,
      /^minimal-image: --libc: applies to the c toolchain only, not go\. Remove --libc\n/,
    );
    const extra = await runCli("dockerfile", PAUSLE, "--extra", "passwd", "--extra", "libc");
    assert.match(extra.stderr, /^minimal-image: --extra: "libc" is not a known extra/);
  });
});

describe("minimal-image inspect: gates", () => {
  const report = {
    binaryPath: "/app",
    isStatic: false,
    interpreter: "/lib/ld-musl-x86_64.so.1",
    neededLibraries: ["libc.so", "libz.so.1"],
    uncompressedSizeBytes: 5_000,
  } as ImageReport;

  it("names the binary and what it needs when --require-static is not met", () => {
    assert.deepEqual(gateFailures(report, { requireStatic: true }), [
      "--require-static: /app is not a static binary: it needs the ELF interpreter /lib/ld-musl-x86_64.so.1 and the shared libraries libc.so, libz.so.1",
    ]);
    assert.deepEqual(gateFailures({ ...report, isStatic: true }, { requireStatic: true }), []);
  });

  it("compares the on-disk size with --max-bytes", () => {
    assert.deepEqual(gateFailures(report, { maxBytes: 5_000 }), []);
    assert.deepEqual(gateFailures(report, { maxBytes: 4_999 }), [
      "--max-bytes: the image takes 5000 bytes on disk, over the budget of 4999",
    ]);
  });

  it("refuses a --max-bytes that is not a whole number", async () => {
    const { code, stderr } = await runCli("inspect", "127.0.0.1:5000/app:x", "--max-bytes", "20MB");
    assert.equal(code, 2);
    assert.match(stderr, /option '--max-bytes <n>' argument '20MB' is invalid/);
  });
});

describe("minimal-image inspect: usage errors", () => {
  it("names <image-ref> and --platform, as the user typed them, and exits 2", async () => {
    const port = await runCli("inspect", "127.0.0.1:99999/app:x");
    assert.equal(port.code, 2);
    assert.match(
      port.stderr,
      /^minimal-image: <image-ref>: port 99999 of "127\.0\.0\.1:99999\/app:x" is not a TCP port/,
    );

    const reference = await runCli("inspect", "Not/A Reference");
    assert.equal(reference.code, 2);
    assert.match(
      reference.stderr,
      /^minimal-image: <image-ref>: "Not\/A Reference" is not a valid image reference/,
    );

    const platform = await runCli("inspect", "127.0.0.1:5000/app:x", "--platform", "amd64");
    assert.equal(platform.code, 2);
    assert.match(platform.stderr, /^minimal-image: --platform: "amd64" is not a platform/);
  });
});

describe("minimal-image inspect @integration", function () {
  this.timeout(300_000);
  let imageRef: string;
  let tag: string;

  before(async () => {
    tag = `${LOCAL_REGISTRY}/minimal-image-test/${uniqueName("cli")}:t`;
    await buildLocally(renderBuild(PAUSLE, {}, { env: LOCAL_BUILDERS }), { tag });
    imageRef = await pushLocally(tag);
  });
  after(() => removeImages(tag));

  it("prints the report as JSON, with figures equal to the registry's manifest", async () => {
    const { code, stdout } = await runCli("inspect", tag, "--json");
    assert.equal(code, 0);
    const report = JSON.parse(stdout);
    assert.equal(report.imageRef, imageRef);
    assert.equal(report.isStatic, true);
    assert.ok(report.compressedSizeBytes <= 4_000, `${report.compressedSizeBytes} bytes compressed`);
    const [, repository] = /^[^/]+\/(.+)@/.exec(imageRef) ?? [];
    const manifest = (await (
      await fetch(`http://${LOCAL_REGISTRY}/v2/${repository}/manifests/${report.digest}`, {
        headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
      })
    ).json()) as { config: { size: number }; layers: { size: number }[] };
    const layers = manifest.layers.reduce((sum: number, layer: { size: number }) => sum + layer.size, 0);
    assert.equal(report.compressedSizeBytes, manifest.config.size + layers);
  });

  it("prints one human line by default", async () => {
    const { stdout } = await runCli("inspect", imageRef);
    assert.match(stdout, /^cli-.*: [\d.]+ kB compressed, [\d.]+ kB on disk, 1 layer, static\n$/);
  });

  it("exits 1 with a clear message for an unknown image or an unreachable registry", async () => {
    const unknown = await runCli("inspect", `${LOCAL_REGISTRY}/minimal-image-test/never-pushed:x`);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^minimal-image: registry 127\.0\.0\.1:5000: has no /);
    const unreachable = await runCli("inspect", "127.0.0.1:9/app:x");
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /is unreachable/);
  });

  it("exits 1 after the report when a gate fails, 0 when all pass", async () => {
    const over = await runCli("inspect", tag, "--require-static", "--max-bytes", "1");
    assert.equal(over.code, 1);
    assert.match(over.stdout, /static\n$/);
    assert.match(
      over.stderr,
      /^minimal-image: --max-bytes: the image takes \d+ bytes on disk, over the budget of 1\n$/,
    );
    const within = await runCli("inspect", tag, "--require-static", "--max-bytes", "1000000");
    assert.equal(within.code, 0);
  });

  it("is a usage error to give --username without --password-stdin", async () => {
    const { code, stderr } = await runCli("inspect", tag, "--username", "u");
    assert.equal(code, 2);
    assert.match(stderr, /^minimal-image: --username: /);
  });
});

describe("minimal-image inspect on a multi-platform image @integration", function () {
  this.timeout(600_000);
  const repository = `minimal-image-test/${uniqueName("cli-index")}`;
  const platforms = ["linux/amd64", "linux/arm64"];
  const tagOf = (platform: string) => `${LOCAL_REGISTRY}/${repository}:${platform.split("/")[1]}`;
  let dir: string;
  let indexDigest: string;

  // Each platform's image from its rendered Dockerfile, built and pushed with the docker CLI (BuildKit,
  // cross-compiled for arm64), then an index of both under `multi`.
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-cli-index-"));
    const env = { ...process.env, DOCKER_BUILDKIT: "1" };
    for (const platform of platforms) {
      const dockerfile = path.join(dir, `${platform.split("/")[1]}.Dockerfile`);
      fs.writeFileSync(dockerfile, renderBuild(PAUSLE, {}, { env: LOCAL_BUILDERS, platform }).dockerfile);
      const docker = (...args: string[]) =>
        execFileSync("/usr/bin/docker", args, { env, timeout: 300_000, stdio: ["ignore", "ignore", "pipe"] });
      docker("build", "-q", "--platform", platform, "-f", dockerfile, "-t", tagOf(platform), PAUSLE);
      docker("push", tagOf(platform));
    }
    // The index as the component pushes it: each platform's image by digest, listed under the tag.
    const client = new RegistryClient(LOCAL_REGISTRY);
    const manifests = [];
    for (const platform of platforms) {
      const { digest } = await client.fetchManifest(repository, platform.split("/")[1]);
      manifests.push({ platform, imageRef: `${LOCAL_REGISTRY}/${repository}@${digest}` });
    }
    ({ digest: indexDigest } = await pushImageIndex({
      imageName: `${LOCAL_REGISTRY}/${repository}:multi`,
      manifests,
    }));
  });
  after(async () => {
    await removeImages(...platforms.map(tagOf));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("prints one line per platform, each static, and gates every one", async () => {
    const { code, stdout, stderr } = await runCli("inspect", `${LOCAL_REGISTRY}/${repository}:multi`);
    assert.equal(code, 0, stderr);
    const name = repository.split("/")[1];
    assert.deepEqual(
      stdout
        .split("\n")
        .filter(Boolean)
        .map((line) => line.replace(/: .*, static$/, ": static")),
      [`${name} linux/amd64: static`, `${name} linux/arm64: static`],
    );
    const gated = await runCli(
      "inspect",
      `${LOCAL_REGISTRY}/${repository}:multi`,
      "--require-static",
      "--max-bytes",
      "1",
    );
    assert.equal(gated.code, 1);
    assert.match(
      gated.stderr,
      /--max-bytes: the linux\/amd64 image takes \d+ bytes .*\n.*--max-bytes: the linux\/arm64 image/s,
    );
  });

  it("lists each platform's digest, binary and ELF machine in JSON, under the index's digest", async () => {
    const { stdout } = await runCli("inspect", `${LOCAL_REGISTRY}/${repository}:multi`, "--json");
    const report = JSON.parse(stdout) as IndexReport;
    assert.equal(report.digest, indexDigest);
    assert.deepEqual(
      report.platforms.map((p) => [p.platform, p.machine, p.isStatic, p.binaryPath]),
      [
        ["linux/amd64", "x86-64", true, "/pausle"],
        ["linux/arm64", "AArch64", true, "/pausle"],
      ],
    );
    for (const p of report.platforms)
      assert.ok(p.compressedSizeBytes <= 4_000, `${p.platform}: ${p.compressedSizeBytes} B`);
  });

  it("reports the platform --platform picks alone", async () => {
    const { code, stdout } = await runCli(
      "inspect",
      `${LOCAL_REGISTRY}/${repository}:multi`,
      "--platform",
      "linux/arm64",
      "--json",
    );
    assert.equal(code, 0);
    const report = JSON.parse(stdout) as ImageReport;
    assert.equal(report.machine, "AArch64");
    assert.equal(report.digest, indexDigest);
  });
});
