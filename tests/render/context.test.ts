import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import nodeFs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import dockerignore from "@balena/dockerignore";
import fc from "fast-check";
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

  /** What listContextFiles lists with `patterns`, and the folders it reads meanwhile, relative to `dir`. */
  const foldersRead = (patterns: string[]): { files: string[]; read: string[] } => {
    const read: string[] = [];
    const readdir = nodeFs.readdirSync;
    nodeFs.readdirSync = ((folder: fs.PathLike, ...rest: unknown[]) => {
      read.push(path.relative(dir, String(folder)).split(path.sep).join("/"));
      return (readdir as (...args: unknown[]) => unknown)(folder, ...rest);
    }) as typeof nodeFs.readdirSync;
    try {
      return { files: listContextFiles(dir, ["source"], patterns), read: read.sort() };
    } finally {
      nodeFs.readdirSync = readdir;
    }
  };

  /** The files a walk of every folder keeps once the ignore library has filtered them: what must be listed. */
  const keptByEveryFolderWalk = (patterns: string[]): string[] => {
    const ignore = dockerignore({ ignorecase: false }).add(patterns);
    return listContextFiles(dir, ["source"], []).filter((file) => !ignore.ignores(file));
  };

  /** Writes `count` files spread over nested folders below `folder`. */
  const manyFiles = (folder: string, count: number) => {
    for (let i = 0; i < count; i++) {
      const file = path.join(dir, folder, `pkg${i % 10}`, "lib", `f${i}.js`);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, "");
    }
  };

  it("does not enter an ignored folder that no exception reaches into", () => {
    manyFiles("node_modules", 500);
    const patterns = ["node_modules", "*.md", "!README.md", "!build/keep.txt"];
    const { files, read } = foldersRead(patterns);
    assert.deepEqual(files, keptByEveryFolderWalk(patterns));
    assert.ok(files.includes("README.md") && !files.some((file) => file.startsWith("node_modules/")));
    assert.deepEqual(read, ["", "build", "docs", "docs/a"]);
  });

  it("enters an ignored folder only where an exception may re-include a file", () => {
    manyFiles("node_modules", 50);
    fs.mkdirSync(path.join(dir, "node_modules", "keep"));
    fs.writeFileSync(path.join(dir, "node_modules", "keep", "a.txt"), "");
    const patterns = ["node_modules", "build", "docs", "!node_modules/keep/*.txt", "!*/a/b.txt"];
    const { files, read } = foldersRead(patterns);
    assert.deepEqual(files, keptByEveryFolderWalk(patterns));
    assert.ok(files.includes("node_modules/keep/a.txt") && files.includes("docs/a/b.txt"));
    // `*/a/b.txt` may match below any top folder, but below it only in a folder named `a`;
    // `node_modules/keep/*.txt` only in node_modules/keep: no package folder is read.
    assert.deepEqual(read, ["", "build", "docs", "docs/a", "node_modules", "node_modules/keep"]);
  });

  it("lists what a walk of every folder filtered by the ignore patterns lists, for any patterns", () => {
    // A fixed tree; random patterns, exceptions and wildcards among them, in random order.
    fs.rmSync(dir, { recursive: true, force: true });
    const names = ["a", "b", "ab", "node_modules"];
    for (const x of names)
      for (const y of names)
        for (const z of ["f", "a.md"]) {
          fs.mkdirSync(path.join(dir, x, y), { recursive: true });
          fs.writeFileSync(path.join(dir, x, y, z), "");
        }
    assert.equal(keptByEveryFolderWalk([]).length, names.length * names.length * 2);
    const segment = fc.constantFrom(...names, "*", "a*", "?b", "**", "*.md", "f", "[ab]", "x");
    const pattern = fc
      .tuple(fc.boolean(), fc.array(segment, { minLength: 1, maxLength: 3 }))
      .map(([exception, segments]) => `${exception ? "!" : ""}${segments.join("/")}`);
    fc.assert(
      fc.property(fc.array(pattern, { minLength: 1, maxLength: 5 }), (patterns) => {
        assert.deepEqual(listContextFiles(dir, ["source"], patterns), keptByEveryFolderWalk(patterns));
      }),
      { numRuns: 300 },
    );
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
