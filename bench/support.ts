/**
 * Helpers shared by the benchmarks: bounded waits, /proc memory readings, a median, and a main wrapper that
 * cleans up on success, on error and on Ctrl-C.
 */
import { readFile } from "node:fs/promises";

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
