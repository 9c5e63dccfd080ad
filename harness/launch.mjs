// `npm run main`: runs the compiled main job, compiling the harness first only when a source it is built
// from changed since the last compile (an unchanged tree costs a directory walk, not tsc's ~8 s). `--help`
// runs the main job's source through tsx, so it answers at once even right after an edit. Plain JavaScript:
// it runs before anything is compiled.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const resolve = createRequire(import.meta.url).resolve;
const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "..");
const BUILD_INFO = path.join(HERE, "bin", ".tsbuildinfo");
const MAIN = path.join(HERE, "bin", "harness", "main.js");
/** What harness/tsconfig.json compiles, and the files that configure the compile. */
const SOURCES = ["index.ts", "components", "harness", "tsconfig.json", "harness/tsconfig.json"];

/** The newest modification time among the compile's inputs (TypeScript files and tsconfigs). */
function newestSource() {
  let newest = 0;
  const visit = (file) => {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(file)) {
        if (entry !== "bin" && entry !== "node_modules") visit(path.join(file, entry));
      }
    } else if (/\.(ts|json)$/.test(file)) newest = Math.max(newest, stat.mtimeMs);
  };
  for (const source of SOURCES) visit(path.join(ROOT, source));
  return newest;
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: "inherit" });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const args = process.argv.slice(2);
if (args.includes("--help") || args.includes("-h")) {
  process.exitCode = run(process.execPath, ["--import", "tsx", path.join(HERE, "main.ts"), ...args]);
} else {
  const built = fs.existsSync(BUILD_INFO) && fs.existsSync(MAIN) ? fs.statSync(BUILD_INFO).mtimeMs : -1;
  let status = 0;
  if (newestSource() > built) {
    status = run(process.execPath, [resolve("typescript/bin/tsc"), "-p", "harness/tsconfig.json"]);
    // tsc leaves its build info alone when no output changed; its time is what says "compiled from these".
    if (status === 0) fs.utimesSync(BUILD_INFO, new Date(), new Date());
  }
  process.exitCode = status === 0 ? run(process.execPath, [MAIN, ...args]) : status;
}
