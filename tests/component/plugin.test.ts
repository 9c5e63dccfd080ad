import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// `pulumi package add <git URL or path>` clones (or takes) the package, installs its dependencies with
// npm, loads the package entry as a plugin and generates the schema from the TypeScript sources. These
// tests do the same without the Pulumi CLI: from a fresh clone of the committed tree, installed offline
// from the npm cache, and from the tarball `npm pack` makes of it.

const ROOT = path.join(__dirname, "..", "..");

/**
 * What the plugin host does with a package folder (@pulumi/pulumi's cmd/run-plugin): require it, collect
 * the exported components, and serve a ComponentProvider named after package.json, whose schema the
 * analyzer reads from the sources. Prints the component names and the schema as JSON.
 */
const LOAD_PLUGIN = `
const dir = process.argv[1];
const host = require(require.resolve("@pulumi/pulumi/provider/experimental", { paths: [dir] }));
const components = host.getPulumiComponents(require(dir));
const { name } = require(dir + "/package.json");
new host.ComponentProvider({ name, dirname: dir, components })
  .getSchema()
  .then((schema) => process.stdout.write(JSON.stringify({ components: components.map((c) => c.name), schema: JSON.parse(schema) })));
`;

function loadPlugin(dir: string): { components: string[]; schema: unknown } {
  const output = execFileSync(process.execPath, ["-e", LOAD_PLUGIN, dir], {
    encoding: "utf8",
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  return JSON.parse(output);
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): string {
  return execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: timeoutMs,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

describe("plugin package: a fresh clone and the packed tarball load as Pulumi loads them @integration", function () {
  this.timeout(600_000);
  let scratch: string;
  let clone: string;
  let committedSchema: unknown;

  before(function () {
    scratch = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-plugin-"));
    clone = path.join(scratch, "clone");
    // The committed tree only: a git clone has no bin/ and no node_modules.
    run("git", ["clone", "--quiet", "--no-hardlinks", ROOT, clone], scratch, 60_000);
    committedSchema = JSON.parse(fs.readFileSync(path.join(clone, "schema.json"), "utf8"));
    assert.ok(!fs.existsSync(path.join(clone, "bin")), "a clone starts without compiled output");
    // What the language host runs for a git or path package; `prepare` builds bin/ on the way. Offline:
    // every package and packument comes from the npm cache that `npm ci` filled in this checkout.
    run("npm", ["install", "--offline", "--prefer-offline", "--no-audit", "--no-fund"], clone, 480_000);
  });

  after(() => fs.rmSync(scratch, { recursive: true, force: true }));

  it("a fresh clone plus `npm install` is a loadable plugin whose schema is the committed one", () => {
    assert.ok(fs.existsSync(path.join(clone, "PulumiPlugin.yaml")));
    assert.match(fs.readFileSync(path.join(clone, "PulumiPlugin.yaml"), "utf8"), /^runtime: nodejs$/m);
    assert.ok(fs.existsSync(path.join(clone, "bin", "index.js")), "prepare built the package entry");
    const plugin = loadPlugin(clone);
    assert.deepEqual(plugin.components, ["MinimalImage"]);
    assert.deepEqual(plugin.schema, committedSchema);
  });

  it("the packed tarball carries the entry, the sources the analyzer reads, and the same schema", () => {
    const packed = JSON.parse(
      run("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", scratch], clone, 120_000),
    ) as { filename: string; files: { path: string }[] }[];
    const files = packed[0].files.map((file) => file.path);
    for (const needed of [
      "PulumiPlugin.yaml",
      "package.json",
      "tsconfig.json",
      "index.ts",
      "components/index.ts",
      "components/minimal-image.ts",
      "bin/index.js",
      "schema.json",
    ]) {
      assert.ok(files.includes(needed), `${needed} is not in the tarball`);
    }
    assert.ok(
      !files.some((file) => file.startsWith("tests/") || file === "stack.ts"),
      "tests and the stack stay out",
    );

    const unpacked = path.join(scratch, "unpacked");
    fs.mkdirSync(unpacked);
    run("tar", ["-xzf", path.join(scratch, packed[0].filename), "-C", unpacked], scratch, 60_000);
    // As installed into a program: its dependencies and peers sit in the node_modules above it, and
    // nothing else (no TypeScript, no @types: the analyzer must do without the dev dependencies).
    const manifest = JSON.parse(fs.readFileSync(path.join(clone, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      peerDependencies: Record<string, string>;
    };
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      const link = path.join(unpacked, "node_modules", name);
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.symlinkSync(path.join(clone, "node_modules", name), link, "dir");
    }
    const plugin = loadPlugin(path.join(unpacked, "package"));
    assert.deepEqual(plugin.components, ["MinimalImage"]);
    assert.deepEqual(plugin.schema, committedSchema);
  });
});
