import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { listContextFiles } from "../../components/render";
import { InputError } from "../../components/validation";

const RENDER_MODULE = path.join(__dirname, "..", "..", "components", "render");
// The harness's context packer: what would block on a FIFO were one listed.
const PACK_MODULE = path.join(__dirname, "..", "..", "harness", "engine", "build");

/**
 * Runs a script in a child Node that can load the TypeScript sources, and returns what it printed. A read
 * that blocks on a FIFO would stall this process for good, where no mocha timeout can fire; the child's
 * time limit turns such a hang into a failure.
 */
function runBounded(script: string): string {
  const result = spawnSync(process.execPath, ["--require", require.resolve("tsx/cjs"), "-e", script], {
    encoding: "utf8",
    timeout: 15_000,
  });
  assert.equal(result.signal, null, `the child was stopped after 15 s (hung?): ${result.stderr}`);
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

describe("build context", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-context-"));
    for (const file of ["main.c", "README.md", "build/out.o", "build/keep.txt", "docs/a/b.txt", "z.c"]) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), file);
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lists every file, sorted, with / separators", () => {
    assert.deepEqual(listContextFiles(dir), [
      "README.md",
      "build/keep.txt",
      "build/out.o",
      "docs/a/b.txt",
      "main.c",
      "z.c",
    ]);
  });

  it("respects .dockerignore, exceptions included", () => {
    fs.writeFileSync(
      path.join(dir, ".dockerignore"),
      "# comment\nbuild\n!build/keep.txt\n**/*.md\ndocs/**/b.txt\n",
    );
    assert.deepEqual(listContextFiles(dir), [".dockerignore", "build/keep.txt", "main.c", "z.c"]);
  });

  describe("special files", () => {
    beforeEach(() => execFileSync("mkfifo", [path.join(dir, "pipe")], { timeout: 5_000 }));

    it("refuses a FIFO, naming the file and the fix, without opening it", () => {
      const printed = runBounded(`
        const { renderBuild } = require(${JSON.stringify(RENDER_MODULE)});
        const { packContext, renderedContext } = require(${JSON.stringify(PACK_MODULE)});
        try {
          // Were the FIFO listed, packing would block on it: the time limit catches that.
          const rendered = renderBuild(${JSON.stringify(dir)}, { toolchain: "c" }, { env: {}, sourceField: ["<dir>"] });
          packContext(renderedContext(rendered)).resume().on("end", () => console.log(JSON.stringify({ packed: true })));
        } catch (error) {
          console.log(JSON.stringify({ name: error.name, field: error.field, message: error.message }));
        }
      `);
      const error = JSON.parse(printed);
      assert.equal(error.name, "InputError");
      assert.equal(error.field, "<dir>");
      assert.match(
        error.message,
        /"pipe" in .* is a FIFO \(named pipe\), which a build context cannot carry/,
      );
      assert.match(error.message, /List it in .*\.dockerignore, or move it out of the folder/);
    });

    it("skips a FIFO that .dockerignore excludes, and packs the rest", () => {
      fs.writeFileSync(path.join(dir, ".dockerignore"), "pipe\nbuild\ndocs\n*.md\n");
      const printed = runBounded(`
        const { renderBuild } = require(${JSON.stringify(RENDER_MODULE)});
        const { packContext, renderedContext } = require(${JSON.stringify(PACK_MODULE)});
        const rendered = renderBuild(${JSON.stringify(dir)}, { toolchain: "c" }, { env: {} });
        let bytes = 0;
        packContext(renderedContext(rendered))
          .on("data", (chunk) => (bytes += chunk.length))
          .on("end", () => console.log(JSON.stringify({ files: rendered.contextFiles, bytes })));
      `);
      const packed = JSON.parse(printed);
      assert.deepEqual(packed.files, [".dockerignore", "main.c", "z.c"]);
      assert.ok(packed.bytes > 0);
    });

    it("refuses a socket", async () => {
      fs.rmSync(path.join(dir, "pipe"));
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(path.join(dir, "control.sock"), resolve));
      try {
        assert.throws(
          () => listContextFiles(dir),
          (error: unknown) =>
            error instanceof InputError && /"control\.sock" .* is a socket/.test(error.message),
        );
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    });
  });
});
