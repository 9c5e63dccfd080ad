// Every Node.js stack program in the repository, as `pulumi up` in its folder would run it: Pulumi.yaml's
// `main:` names the program (never the package's `exports`), and Pulumi's runner loads it with the folder's
// tsconfig or none. A preview through the local executor proves it loads, type-checks and declares a
// MinimalImage, without carrying anything out.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { runStack } from "../../harness/executor";
import { LOCAL_BUILDERS } from "../support/env";

const ROOT = path.join(__dirname, "..", "..");

/** Folders holding a Pulumi.yaml whose runtime is Node.js: the root and every example. */
function nodeStackFolders(): string[] {
  const examples = fs
    .readdirSync(path.join(ROOT, "examples"))
    .map((name) => path.join(ROOT, "examples", name))
    .filter((dir) => fs.existsSync(path.join(dir, "Pulumi.yaml")));
  return [ROOT, ...examples].filter((dir) => {
    const { runtime } = yaml.load(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as {
      runtime: string | { name: string };
    };
    return (typeof runtime === "string" ? runtime : runtime.name) === "nodejs";
  });
}

describe("stack programs load as Pulumi loads them", function () {
  this.timeout(300_000);
  const folders = nodeStackFolders();

  it("every Pulumi.yaml in the repository, whatever its runtime, names its main:", () => {
    const projects = [
      ROOT,
      ...fs.readdirSync(path.join(ROOT, "examples")).map((name) => path.join(ROOT, "examples", name)),
    ]
      .map((dir) => path.join(dir, "Pulumi.yaml"))
      .filter((file) => fs.existsSync(file));
    assert.ok(projects.length >= 7, projects.join(", "));
    for (const file of projects) {
      const { main } = yaml.load(fs.readFileSync(file, "utf8")) as { main?: string };
      assert.ok(main, `${path.relative(ROOT, file)} names no main:`);
      const program = path.resolve(path.dirname(file), main);
      assert.ok(fs.existsSync(program), `${path.relative(ROOT, file)}: ${main} exists`);
      // The runner loads `main:`, so it must be the stack's own program, not the package's entry re-exported.
      if (fs.statSync(program).isFile()) {
        assert.doesNotMatch(fs.readFileSync(program, "utf8"), /^export \* from/m, `${main} is a program`);
      }
    }
  });

  it("finds the root stack and the Node.js examples", () => {
    const names = folders.map((dir) => path.relative(ROOT, dir) || ".");
    for (const expected of [".", "examples/pausle", "examples/hello-go", "examples/hello-rust"]) {
      assert.ok(names.includes(expected), `${expected} in ${names.join(", ")}`);
    }
  });

  it("examples: each has a README, imports minimal-image as a user would, and no two share a host port", () => {
    const owners = new Map<string, string>();
    for (const dir of folders.filter((folder) => folder !== ROOT)) {
      const where = path.relative(ROOT, dir);
      assert.ok(fs.existsSync(path.join(dir, "README.md")), `${where} has a README.md`);
      const program = fs.readFileSync(path.join(dir, "index.ts"), "utf8");
      assert.match(program, /from "minimal-image";/, `${where} imports "minimal-image"`);
      assert.doesNotMatch(program, /from "\.\.?\//, `${where} imports nothing by a relative path`);
      for (const [, port] of program.matchAll(/hostPort: (\d+)/g)) {
        assert.ok(!owners.has(port), `${where} and ${owners.get(port)} both publish host port ${port}`);
        owners.set(port, where);
      }
    }
  });

  for (const dir of folders) {
    const where = path.relative(ROOT, dir) || "the root";
    it(`${where}: loads, type-checks and declares a MinimalImage under the runner's settings @integration`, async () => {
      const state = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-preview-"));
      try {
        const preview = await runStack({
          dir,
          stack: "load-test",
          preview: true,
          statePath: path.join(state, "state.json"),
          env: LOCAL_BUILDERS,
        });
        assert.ok(preview.records.some((record) => record.type === "minimal-image:index:MinimalImage"));
        assert.ok(
          preview.records.every(
            (record) => record.operation === "create" || record.operation === "component",
          ),
        );
      } finally {
        fs.rmSync(state, { recursive: true, force: true });
      }
    });
  }
});
