import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { RunRecord } from "./executor";
import { ChildJob, ChildResult } from "./protocol";

export { RunRecord } from "./executor";

/** How to run one stack program through the local executor. */
export interface StackRunOptions {
  /** The folder holding Pulumi.yaml. */
  dir: string;
  /** Stack name; state is kept per project and stack. Default `dev`. */
  stack?: string;
  /** `pulumi preview`: carry out nothing. */
  preview?: boolean;
  /** `pulumi destroy`: delete everything the stack's state holds, without running the program. */
  destroy?: boolean;
  /** Stack configuration, plain values (`pulumi config set key value`), on top of Pulumi.yaml's defaults. */
  config?: Record<string, string>;
  /** Stack configuration to treat as secrets (`pulumi config set --secret`). */
  secrets?: Record<string, string>;
  /** Where the stack's state lives. Default `~/.minimal-image/local-state/<project>/<stack>.json`. */
  statePath?: string;
  /** Extra environment for the program. */
  env?: Record<string, string>;
  /** Upper bound on the whole run. Default 20 minutes. */
  timeoutMs?: number;
}

/** What a run declared and did. */
export interface StackRunResult {
  project: string;
  outputs: Record<string, unknown>;
  records: RunRecord[];
}

/** The program failed, or a registration could not be carried out; `records` says how far it got. */
export class StackRunError extends Error {
  constructor(
    readonly errors: string[],
    readonly records: RunRecord[],
  ) {
    super(`stack program failed:\n${errors.map((error) => `  ${error}`).join("\n")}`);
    this.name = "StackRunError";
  }
}

interface ProjectFile {
  name: string;
  main?: string;
  runtime: string | { name: string; options?: { typescript?: boolean } };
  config?: Record<string, unknown>;
}

/** Reads Pulumi.yaml as the CLI does: name, runtime, `main:` and the project's config defaults. */
export function readProject(dir: string): ProjectFile {
  const file = path.join(dir, "Pulumi.yaml");
  const project = yaml.load(fs.readFileSync(file, "utf8")) as ProjectFile;
  if (typeof project?.name !== "string") throw new Error(`${file}: no project name`);
  const runtime = typeof project.runtime === "string" ? project.runtime : project.runtime?.name;
  if (runtime !== "nodejs") throw new Error(`${file}: runtime ${String(runtime)} is not nodejs`);
  return project;
}

/**
 * Where Pulumi's Node language host runs a program: a `main:` file runs from its folder as that file, a
 * `main:` folder (or none) runs from that folder as `.` so the runner resolves package.json `exports`/`main`.
 */
export function programLocation(
  dir: string,
  main: string | undefined,
): { programDir: string; entry: string } {
  if (main === undefined) return { programDir: dir, entry: "." };
  const full = path.resolve(dir, main);
  if (fs.existsSync(full) && fs.statSync(full).isDirectory()) return { programDir: full, entry: "." };
  return { programDir: path.dirname(full), entry: path.basename(full) };
}

/** Config as the CLI hands it to a program: `<project>:<key>` names, Pulumi.yaml defaults first. */
function configEnv(project: ProjectFile, options: StackRunOptions): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, spec] of Object.entries(project.config ?? {})) {
    const fallback =
      typeof spec === "object" && spec !== null ? (spec as { default?: unknown }).default : spec;
    if (fallback !== undefined) values[`${project.name}:${key}`] = String(fallback);
  }
  for (const [key, value] of Object.entries({ ...options.config, ...options.secrets })) {
    values[key.includes(":") ? key : `${project.name}:${key}`] = value;
  }
  const secretKeys = Object.keys(options.secrets ?? {}).map((key) =>
    key.includes(":") ? key : `${project.name}:${key}`,
  );
  return { PULUMI_CONFIG: JSON.stringify(values), PULUMI_CONFIG_SECRET_KEYS: JSON.stringify(secretKeys) };
}

/** The compiled child entry (the executor runs programs under plain Node, never a TypeScript loader). */
function childEntry(): string {
  const compiled = __filename.endsWith(".ts")
    ? path.join(__dirname, "..", "bin", "harness", "executor", "child.js")
    : path.join(__dirname, "child.js");
  if (!fs.existsSync(compiled))
    throw new Error(`${compiled} is missing: run \`npm run build:harness\` first`);
  return compiled;
}

/**
 * Runs a stack program the way `pulumi up` (or preview, or destroy) would, without the Pulumi CLI: Pulumi's
 * own Node runner loads it in a child process, and each resource it declares is carried out on the real
 * Docker engine by the local executor, with state kept between runs.
 * @throws StackRunError when the program or a registration fails.
 */
export async function runStack(options: StackRunOptions): Promise<StackRunResult> {
  const project = readProject(options.dir);
  const stack = options.stack ?? "dev";
  const { programDir, entry } = programLocation(options.dir, project.main);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-run-"));
  const runtimeOptions = typeof project.runtime === "object" ? project.runtime.options : undefined;
  const job: ChildJob = {
    programDir,
    entry,
    typescript: runtimeOptions?.typescript ?? true,
    project: project.name,
    stack,
    preview: options.preview ?? false,
    destroy: options.destroy ?? false,
    statePath:
      options.statePath ??
      path.join(os.homedir(), ".minimal-image", "local-state", project.name, `${stack}.json`),
    resultPath: path.join(work, "result.json"),
  };
  const jobFile = path.join(work, "job.json");
  fs.writeFileSync(jobFile, JSON.stringify(job));
  const release = lockState(job.statePath, `${project.name}/${stack}`);
  try {
    const child = spawn(process.execPath, [childEntry(), jobFile], {
      cwd: programDir,
      env: { ...process.env, ...options.env, ...configEnv(project, options) },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const timeoutMs = options.timeoutMs ?? 20 * 60_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve)).finally(() =>
      clearTimeout(timer),
    );
    if (!fs.existsSync(job.resultPath)) {
      throw new StackRunError(
        [`the program's process ended (code ${code}) without a result, within ${timeoutMs} ms`],
        [],
      );
    }
    const result = JSON.parse(fs.readFileSync(job.resultPath, "utf8")) as ChildResult;
    if (result.errors.length > 0) throw new StackRunError(result.errors, result.records);
    return { project: project.name, outputs: result.outputs, records: result.records };
  } finally {
    release();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Takes a stack's lock, as the Pulumi backends do, so that a second concurrent run fails at once with the
 * fix instead of racing the first on the engine and the state. Returns the release.
 */
function lockState(statePath: string, what: string): () => void {
  const lock = `${statePath}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  try {
    fs.writeFileSync(lock, `${process.pid}\n`, { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const holder = Number(fs.readFileSync(lock, "utf8").trim());
    if (Number.isInteger(holder) && holder > 0 && processAlive(holder)) {
      throw new StackRunError(
        [
          `stack ${what} is being changed by another run (process ${holder}); wait for it to finish, then run again`,
        ],
        [],
      );
    }
    // The run that held it is gone: the lock is stale.
    fs.writeFileSync(lock, `${process.pid}\n`);
  }
  return () => fs.rmSync(lock, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
