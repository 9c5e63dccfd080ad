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

/** The most a child's result may hold; a larger one is refused rather than buffered. */
const MAX_RESULT_BYTES = 64 * 1024 * 1024;

/**
 * Runs a stack program the way `pulumi up` (or preview, or destroy) would, without the Pulumi CLI: Pulumi's
 * own Node runner loads it in a child process, and each resource it declares is carried out on the real
 * Docker engine by the local executor, with state kept between runs.
 *
 * Nothing touches the disk but the state: the job goes to the child as an argument and its result comes
 * back on a pipe (fd 3), whose end also tells the child that this process died, so it never outlives it.
 * @throws StackRunError when the program or a registration fails.
 */
export async function runStack(options: StackRunOptions): Promise<StackRunResult> {
  const project = readProject(options.dir);
  const stack = options.stack ?? "dev";
  const { programDir, entry } = programLocation(options.dir, project.main);
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
  };
  const lock = lockState(job.statePath, `${project.name}/${stack}`);
  try {
    const child = spawn(process.execPath, [childEntry(), JSON.stringify(job)], {
      cwd: programDir,
      env: { ...process.env, ...options.env, ...configEnv(project, options) },
      stdio: ["ignore", "inherit", "inherit", "pipe"],
    });
    if (child.pid !== undefined) lock.addHolder(child.pid);
    const timeoutMs = options.timeoutMs ?? 20 * 60_000;
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    const [code, text] = await Promise.all([
      new Promise<number | null>((resolve) => child.on("exit", resolve)),
      readBounded(child.stdio[3] as NodeJS.ReadableStream, MAX_RESULT_BYTES),
    ]).finally(() => clearTimeout(timer));
    if (text === "") {
      throw new StackRunError(
        [
          `the program's process ended (code ${code}) without a result, within ${timeoutMs} ms; ` +
            "what it made is in the state or carries the stack's labels, so a rerun or --down converges",
        ],
        [],
      );
    }
    const result = JSON.parse(text) as ChildResult;
    if (result.errors.length > 0) throw new StackRunError(result.errors, result.records);
    return { project: project.name, outputs: result.outputs, records: result.records };
  } finally {
    lock.release();
  }
}

/** Everything a stream sends until it ends, or an error past `limit` bytes. */
function readBounded(stream: NodeJS.ReadableStream, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error(`local executor: the program's result is over ${limit} bytes`));
        (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      } else chunks.push(chunk);
    });
    stream.on("error", reject);
    stream.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")));
  });
}

/** A process, told apart from a later one with its pid by its start time (see {@link startTime}). */
interface LockHolder {
  pid: number;
  start: string;
}

/**
 * When a process started, in clock ticks since boot (`/proc/<pid>/stat` field 22), or undefined when it has
 * ended; `"unknown"` where there is no /proc and only the pid can be checked.
 */
export function startTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || fs.existsSync("/proc/self/stat"))
      return undefined;
    return processAlive(pid) ? "unknown" : undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count the fields after its closing one.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // A zombie (state Z, field 3) has ended; only its parent has yet to reap it.
  return fields[0] === "Z" ? undefined : fields[19];
}

/** True while that very process runs: its pid is taken and it started when the lock says. */
function holding(holder: LockHolder): boolean {
  const start = startTime(holder.pid);
  return start !== undefined && (start === holder.start || start === "unknown");
}

/**
 * Takes a stack's lock, as the Pulumi backends do, so that a second concurrent run fails at once with the
 * fix instead of racing the first on the engine and the state. The lock names this process and the child
 * it starts, each with its start time: it is stale only when neither still runs, and a reused pid does not
 * hold it.
 */
function lockState(statePath: string, what: string): { addHolder(pid: number): void; release(): void } {
  const lock = `${statePath}.lock`;
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  const holders: LockHolder[] = [{ pid: process.pid, start: startTime(process.pid) ?? "unknown" }];
  const text = () => `${JSON.stringify({ holders })}\n`;
  try {
    fs.writeFileSync(lock, text(), { flag: "wx" });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const recover = `if no run of ${what} is going on, remove ${lock} and run again`;
    let previous: LockHolder[];
    try {
      previous = (JSON.parse(fs.readFileSync(lock, "utf8")) as { holders: LockHolder[] }).holders;
      if (!Array.isArray(previous)) throw new Error("no holders");
    } catch {
      throw new StackRunError([`the lock file of stack ${what} is unreadable; ${recover}`], []);
    }
    const alive = previous.filter(holding);
    if (alive.length > 0) {
      throw new StackRunError(
        [
          `stack ${what} is being changed by another run (process ${alive.map((h) => h.pid).join(", ")}); ` +
            `wait for it to finish, then run again; ${recover}`,
        ],
        [],
      );
    }
    // Every process that held it is gone (a pid now used by another process does not count): stale.
    fs.writeFileSync(lock, text());
  }
  return {
    addHolder(pid) {
      holders.push({ pid, start: startTime(pid) ?? "unknown" });
      const temporary = `${lock}.${process.pid}.tmp`;
      fs.writeFileSync(temporary, text());
      fs.renameSync(temporary, lock);
    },
    release: () => fs.rmSync(lock, { force: true }),
  };
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
