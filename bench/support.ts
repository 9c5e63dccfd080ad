/**
 * Helpers shared by the benchmarks: bounded waits, /proc memory readings, a median, the machine's facts,
 * stacks of bench/density-stack run by the local executor, and a main wrapper that cleans up on success, on
 * error and on Ctrl-C.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import Docker from "dockerode";
import * as prettier from "prettier";
import { REPLICA_OF_LABEL } from "../components/deploy";
import { uniqueName } from "../tests/support/env";
import { TestStack } from "../tests/support/stack";

/** Writes `<prefix>: <message>` to stderr, keeping stdout for results. */
export function logger(prefix: string): (message: string) => void {
  return (message) => process.stderr.write(`${prefix}: ${message}\n`);
}

const TICK_MS = 1_000;

/**
 * Progress for someone watching a terminal: while `work` runs, a line with the step and a running clock,
 * replaced by the step and its duration when it ends. Silent when stderr is not a terminal (CI, a pipe).
 */
export function progress(prefix: string): <T>(step: string, work: () => Promise<T>) => Promise<T> {
  return async (step, work) => {
    if (!process.stderr.isTTY) return work();
    const t0 = Date.now();
    const show = (suffix: string) =>
      process.stderr.write(`\r\x1b[K${prefix}: ${step} ${((Date.now() - t0) / 1000).toFixed(0)} s${suffix}`);
    show("");
    const ticker = setInterval(() => show(""), TICK_MS);
    try {
      return await work();
    } finally {
      clearInterval(ticker);
      show("\n");
    }
  };
}

/** Resolves as `promise` does, or rejects when it has not settled within `ms`. */
export async function withTimeout<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: ${what} did not finish within ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `value` rounded to `digits` decimals, for figures in the committed results. */
export const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** VmRSS of a process in kB, from /proc/<pid>/status. */
export async function vmRssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`bench: /proc/${pid}/status has no VmRSS line`);
  return Number(match[1]);
}

export interface MachineInfo {
  nproc: number;
  cpu: string;
  memoryKb: number;
  dockerClient: string;
  dockerServer: string;
  storageDriver: string;
  cgroup: string;
  kernel: string;
  node: string;
  date: string;
}

/** The facts a reader needs to compare figures across machines. */
export async function machineInfo(docker: Docker): Promise<MachineInfo> {
  const meminfo = readFileSync("/proc/meminfo", "utf8");
  const client = await promisify(execFile)("docker", ["version", "--format", "{{.Client.Version}}"]).then(
    (out) => out.stdout.trim(),
    () => "unknown (no docker CLI)",
  );
  const version = await docker.version();
  const info = (await docker.info()) as { Driver?: string; CgroupVersion?: string; CgroupDriver?: string };
  return {
    nproc: os.availableParallelism(),
    cpu: os.cpus()[0]?.model ?? "unknown",
    memoryKb: Number(/^MemTotal:\s+(\d+) kB$/m.exec(meminfo)?.[1] ?? 0),
    dockerClient: client,
    dockerServer: version.Version,
    storageDriver: info.Driver ?? "unknown",
    cgroup: `v${info.CgroupVersion ?? "?"}, ${info.CgroupDriver ?? "?"}`,
    kernel: `${os.type()} ${os.release()} ${os.machine()}`,
    node: process.version,
    date: new Date().toISOString(),
  };
}

/** The machine as a Markdown section. */
export function formatMachine(m: MachineInfo): string {
  return `## Machine

| | |
| --- | --- |
| CPUs (\`nproc\`) | ${m.nproc} (${m.cpu}) |
| Memory | ${m.memoryKb} kB (${(m.memoryKb / 1024 ** 2).toFixed(1)} GiB) |
| Docker | client ${m.dockerClient}, server ${m.dockerServer} (${m.storageDriver}, cgroup ${m.cgroup}) |
| Kernel | ${m.kernel} |
| Node.js | ${m.node} |
| Date | ${m.date} |
`;
}

/** `text` formatted as `npm run lint` (prettier --check) expects, so a fresh run can be committed as it is. */
export async function prettierFormat(file: string, text: string): Promise<string> {
  const config = await prettier.resolveConfig(file);
  return prettier.format(text, { ...config, filepath: file });
}

const REPLICA_STACK_DIR = path.join(__dirname, "density-stack");

/**
 * A stack of bench/density-stack under a name unique to this run (also its component's name), with state of
 * its own in a temporary folder.
 */
export function replicaStack(prefix: string): TestStack {
  return new TestStack(REPLICA_STACK_DIR, uniqueName(prefix));
}

const ignoreNotFound = (error: { statusCode?: number }) => {
  if (error.statusCode !== 404) throw error;
};

/**
 * Destroys a replica stack through the executor, then removes what a run cut short left without state (a
 * Ctrl-C reaches the executor's process too, which then writes none): replicas whose replica-of label, and
 * networks whose name, begin with the stack's name, which no other run uses. Returns how many it found so.
 */
export async function removeReplicaStack(stack: TestStack, docker: Docker): Promise<number> {
  let failure: unknown;
  await stack.destroy().catch((error: unknown) => (failure = error));
  const ours = (name = "") => name === stack.stack || name.startsWith(`${stack.stack}-`);
  const containers = (
    await docker.listContainers({ all: true, filters: { label: [REPLICA_OF_LABEL] } })
  ).filter((container) => ours(container.Labels[REPLICA_OF_LABEL]));
  for (const container of containers) {
    await docker.getContainer(container.Id).remove({ force: true }).catch(ignoreNotFound);
  }
  const networks = (await docker.listNetworks({ filters: { name: [stack.stack] } })).filter((network) =>
    ours(network.Name),
  );
  for (const network of networks) await docker.getNetwork(network.Id).remove().catch(ignoreNotFound);
  if (failure !== undefined) throw failure;
  return containers.length + networks.length;
}

const CLEANUP_TIMEOUT_MS = 2 * 60_000;

/**
 * Runs a benchmark's `main`, then `cleanup` (which must tolerate things already removed) in every case:
 * after success; after an error, twice with a pause between (requests already sent to the engine, e.g. by a
 * start that timed out, may land after the first sweep), exiting 1; and on the first Ctrl-C, exiting 130.
 * Each cleanup is bounded.
 */
export function runBench(prefix: string, main: () => Promise<void>, cleanup: () => Promise<void>): void {
  const log = logger(prefix);
  const sweep = () =>
    withTimeout("cleanup", CLEANUP_TIMEOUT_MS, cleanup()).catch((error: Error) =>
      log(`cleanup failed: ${error.message}`),
    );
  let interrupted = false;
  process.on("SIGINT", () => {
    if (interrupted) return;
    interrupted = true;
    log("interrupted: cleaning up");
    void sweep().finally(() => process.exit(130));
  });
  main()
    .then(sweep)
    .catch(async (error: Error) => {
      process.stderr.write(`${error.stack ?? error.message}\n`);
      await sweep();
      await sleep(2_000);
      await sweep();
      process.exit(1);
    });
}
