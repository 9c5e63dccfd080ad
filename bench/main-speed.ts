/**
 * Main-job speed: how long a no-op `npm run main` takes against one full `tsc -p tsconfig.json` of the
 * package, measured in one run on one machine (issue 19's bound: at most 40 %).
 *
 *   npm run bench:main
 *
 * First a warm-up `npm run main` (it compiles the harness if a source changed and brings the stack up to
 * date), then the timed no-op run, then the full compile (into a temporary folder, not incremental, so it
 * does every file's work and leaves bin/ alone). Writes bench/main-speed.md, then takes the stack down.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { formatMachine, logger, machineInfo, prettierFormat, runBench } from "./support";

const ROOT = path.join(__dirname, "..");
const log = logger("bench:main");

/** Runs a command to its end (bounded to 10 minutes) and returns its wall time in seconds. */
function timed(what: string, command: string, args: string[]): number {
  log(what);
  const t0 = process.hrtime.bigint();
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    timeout: 600_000,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (result.status !== 0) throw new Error(`${what} failed (exit ${result.status ?? result.signal})`);
  return seconds;
}

runBench(
  "bench:main",
  async () => {
    const machine = await machineInfo(new Docker());
    timed("warm-up: npm run main", "npm", ["run", "-s", "main"]);
    const noop = timed("no-op: npm run main", "npm", ["run", "-s", "main"]);
    const help = timed("npm run main -- --help", "npm", ["run", "-s", "main", "--", "--help"]);
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-tsc-"));
    let tsc: number;
    try {
      tsc = timed("full tsc -p tsconfig.json", process.execPath, [
        require.resolve("typescript/bin/tsc"),
        "-p",
        "tsconfig.json",
        "--outDir",
        out,
        "--incremental",
        "false",
      ]);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
    const text = `# Main-job speed

Measured by \`npm run bench:main\` (bench/main-speed.ts) in one run, ${new Date().toISOString().slice(0, 10)}.
${formatMachine(machine)}

| run                                                     | wall time, s |
| ------------------------------------------------------- | -----------: |
| one full \`tsc -p tsconfig.json\` (the package, not incremental) | ${tsc.toFixed(2)} |
| a no-op \`npm run main\` (nothing changed since the last run)     | ${noop.toFixed(2)} |
| \`npm run main -- --help\`                                        | ${help.toFixed(2)} |

A no-op \`npm run main\` takes **${((noop / tsc) * 100).toFixed(0)} %** of the full compile (issue 19's bound:
at most 40 %). It compiles nothing (harness/launch.mjs finds no source newer than the last compile), runs the
root stack through the local executor, and finds every resource unchanged. The figures vary between runs
with the machine's load.
`;
    const file = path.join(__dirname, "main-speed.md");
    fs.writeFileSync(file, await prettierFormat(file, text));
    process.stdout.write(text);
  },
  // The runs made the main job's stack: take it down again (`npm run main -- --down`).
  async () => {
    spawnSync("npm", ["run", "-s", "main", "--", "--down"], { cwd: ROOT, stdio: "ignore", timeout: 300_000 });
  },
);
