/**
 * The render stage's standing adversarial cases: special files where the tool reads its configuration,
 * reserved build arguments, format characters, a context past 2 GiB. Every case asserts a named error
 * (or success) and a bound: wall time, and peak RSS where memory could grow.
 */
import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildArgNames, renderBuild } from "../../components/render";

const RENDER_MODULE = path.join(__dirname, "..", "..", "components", "render");
const MIB = 1024 ** 2;

/**
 * Runs `call` (an expression using `render`, the render module) in a child Node with a 512 MB heap and a
 * time limit, so a read that blocks on a FIFO or never ends fails the test instead of hanging it. Returns
 * the outcome, the child's wall time and peak RSS.
 */
function inChild(
  call: string,
  timeoutMs = 15_000,
): { name: string; message: string; value?: unknown; ms: number; rss: number } {
  const script = `
    const render = require(${JSON.stringify(RENDER_MODULE)});
    const started = Date.now();
    let outcome;
    try { outcome = { name: "success", message: "", value: ${call} }; }
    catch (error) { outcome = { name: error.name, message: error.message }; }
    outcome.ms = Date.now() - started;
    outcome.rss = process.resourceUsage().maxRSS * 1024;
    console.log(JSON.stringify(outcome));`;
  const result = spawnSync(
    process.execPath,
    ["--max-old-space-size=512", "--require", require.resolve("tsx/cjs"), "-e", script],
    { encoding: "utf8", timeout: timeoutMs },
  );
  assert.equal(result.signal, null, `the child was stopped after ${timeoutMs} ms (hung?): ${result.stderr}`);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout);
}

describe("render against hostile input", () => {
  let dir: string;
  let outside: string;
  /** Peak RSS of a child that only loads the code (its second run, once tsx's cache is warm). */
  let loaded: number;
  before(function () {
    this.timeout(60_000);
    inChild("0", 45_000);
    loaded = inChild("0", 45_000).rss;
  });
  /** How far a child's peak RSS rose above one that only loads the code. */
  const growth = (rss: number) => (rss - loaded) / MIB;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-hostile-render-"));
    outside = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-hostile-outside-"));
    fs.writeFileSync(path.join(dir, "main.c"), "int main(void) { return 0; }\n");
    fs.mkdirSync(path.join(dir, "src"));
    fs.writeFileSync(path.join(dir, "src", "main.rs"), "fn main() {}\n");
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  const specials: [string, (file: string) => void, RegExp][] = [
    ["a FIFO", (file) => execFileSync("mkfifo", [file]), /is a FIFO \(named pipe\), not a regular file/],
    [
      "a symlink to /dev/zero",
      (file) => fs.symlinkSync("/dev/zero", file),
      /is a symlink out of the source folder \(to \/dev\/zero\)/,
    ],
    ["a directory", (file) => fs.mkdirSync(file), /is a directory, not a regular file/],
    ["a symlink to nothing", (file) => fs.symlinkSync("missing", file), /is a symlink to nothing/],
    ["2 MiB", (file) => fs.writeFileSync(file, "#".repeat(2 * MIB)), /is 2097152 bytes, more than 1048576/],
  ];
  const readers: [string, string, string][] = [
    [".dockerignore", `render.listContextFiles(DIR)`, "source"],
    [
      "Cargo.toml",
      `render.renderBuild(DIR, { toolchain: "rust" }, { env: {} }).dockerfile`,
      "recipe.cargoBin",
    ],
  ];
  for (const [name, call, field] of readers) {
    for (const [kind, make, problem] of specials) {
      it(`${name} as ${kind} fails naming the file, within 5 s, within 64 MiB of a child that only loads the code`, () => {
        const file = path.join(dir, name);
        make(file);
        const outcome = inChild(call.replace("DIR", JSON.stringify(dir)));
        assert.equal(outcome.name, "InputError", outcome.message);
        assert.ok(outcome.message.startsWith(`minimal-image: ${field}: ${file} `), outcome.message);
        assert.match(outcome.message, problem);
        assert.match(outcome.message, new RegExp(`or remove ${name.replace(".", "\\.")}$`));
        assert.ok(outcome.ms < 5_000, `${outcome.ms} ms`);
        assert.ok(
          growth(outcome.rss) < 64,
          `peak RSS ${(outcome.rss / MIB).toFixed(0)} MiB, ${growth(outcome.rss).toFixed(0)} MiB over loading`,
        );
      });
    }
  }

  it("a .dockerignore symlinked inside the folder is read", () => {
    fs.writeFileSync(path.join(dir, "ignore-list"), "main.c\n");
    fs.symlinkSync("ignore-list", path.join(dir, ".dockerignore"));
    const outcome = inChild(`render.listContextFiles(${JSON.stringify(dir)})`);
    assert.deepEqual(outcome.value, [".dockerignore", "ignore-list", "src/main.rs"]);
  });

  it("hashes a 3 GiB context (one sparse file past 2 GiB) at flat memory: within 64 MiB of a child that only loads the code, in 60 s", function () {
    this.timeout(120_000);
    const quoted = JSON.stringify(dir);
    // Sparse: 3 GiB of zeros that take no disk.
    fs.writeFileSync(path.join(dir, "big.bin"), "");
    fs.truncateSync(path.join(dir, "big.bin"), 3 * 1024 ** 3);
    const outcome = inChild(
      `render.contextDigest(${quoted}, render.listContextFiles(${quoted}), "")`,
      80_000,
    );
    assert.equal(outcome.name, "success", outcome.message);
    assert.match(String(outcome.value), /^[a-f0-9]{64}$/);
    assert.ok(outcome.ms < 60_000, `${outcome.ms} ms`);
    assert.ok(
      growth(outcome.rss) < 64,
      `peak RSS ${(outcome.rss / MIB).toFixed(0)} MiB, ${growth(outcome.rss).toFixed(0)} MiB over loading`,
    );
  });

  describe("reserved build arguments", () => {
    for (const name of ["BUILDKIT_SYNTAX", "BUILDKIT_INLINE_CACHE", "buildkit_cache_mount_ns"]) {
      it(`refuses ${name}, saying BuildKit reads it`, () => {
        assert.throws(() => buildArgNames({ [name]: "docker.io/evil/frontend" }), {
          name: "InputError",
          message: new RegExp(
            `^minimal-image: buildArgs\\.${name}: is reserved: BuildKit reads BUILDKIT_\\* build arguments as settings of the build itself \\(BUILDKIT_SYNTAX would replace the Dockerfile frontend\\)\\. Remove it`,
          ),
        });
      });
    }
    for (const name of ["TARGETPLATFORM", "TARGETARCH", "BUILDOS", "buildvariant"]) {
      it(`refuses ${name}, which the engine sets from the platform`, () => {
        assert.throws(() => buildArgNames({ [name]: "x" }), {
          name: "InputError",
          message:
            /: is reserved: the engine sets it from the build's platform\. Remove it, or rename the argument/,
        });
      });
    }
    it("accepts ordinary names", () => {
      assert.deepEqual(buildArgNames({ VERSION: "1", BUILDKITTEN: "2" }), ["BUILDKITTEN", "VERSION"]);
    });
  });

  describe("format characters in recipe strings", () => {
    const cases: [string, string][] = [
      ["a right-to-left override", "app\u202e"],
      ["a zero-width space", "a\u200bpp"],
      ["a line separator", "app\u2028RUN id"],
      ["a byte-order mark", "\ufeffapp"],
    ];
    for (const [title, value] of cases) {
      it(`refuses ${title} and shows it escaped`, () => {
        assert.throws(
          () => renderBuild(dir, { toolchain: "c", binaryName: value }, { env: {} }),
          (err: Error) => {
            assert.equal(err.name, "InputError");
            assert.match(
              err.message,
              /^minimal-image: recipe\.binaryName: ".*\\u[0-9a-f]{4}.*" contains U\+[0-9A-F]{4} \(a control or format character/,
            );
            assert.doesNotMatch(err.message, /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
            return true;
          },
        );
      });
    }
  });
});
