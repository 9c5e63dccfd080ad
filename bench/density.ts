/**
 * Density benchmark: runs N replicas of examples/pausle built with the musl recipe and N built with the
 * glibc-static recipe, each variant as a stack of bench/density-stack (a MinimalImage) carried out by the
 * local executor, and reports per variant how long the replicas took to start and the resident memory
 * (VmRSS) of each replica's process.
 *
 *   npm run bench:density -- --replicas 100 --json
 *
 * Writes bench/density.json and bench/density.md. Every stack it runs is destroyed again, also on error and
 * on Ctrl-C; every wait is bounded.
 */
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import Docker from "dockerode";
import { MAX_COUNT } from "../components/deploy";
import { containersOf, TestStack } from "../tests/support/stack";
import {
  formatMachine,
  logger,
  MachineInfo,
  machineInfo,
  median,
  prettierFormat,
  removeReplicaStack,
  replicaStack,
  runBench,
  vmRssKb,
  withTimeout,
} from "./support";

type Variant = "musl" | "glibc";
const VARIANTS: readonly Variant[] = ["musl", "glibc"];
const DEFAULT_REPLICAS = 100;

/** The first run builds and pushes the image (cold or warm); a generous bound. */
const BUILD_RUN_TIMEOUT_MS = 15 * 60_000;
/** The second run loads the program and starts the replicas: a generous base plus a per-replica allowance. */
const startRunTimeoutMs = (replicas: number) => 3 * 60_000 + replicas * 1_000;
const CLEANUP_TIMEOUT_MS = 5 * 60_000;

const IMAGE_TYPE = "docker:index/image:Image";

/** What the benchmark reports for one variant. */
export interface VariantResult {
  replicas: number;
  /**
   * Wall-clock seconds of the executor run that adds the replicas to the image built by the run before:
   * loading the program, finding the image unchanged, then creating and starting every replica.
   */
  runSeconds: number;
  /** Seconds from the first replica's creation to the last one's start, by the engine's own timestamps. */
  startSpanSeconds: number;
  /** Median VmRSS of the replicas' main processes, in kB as /proc reports it. */
  medianRssKb: number;
  maxRssKb: number;
  /** Size of the image as the engine reports it. */
  imageBytes: number;
}

export interface DensityResults {
  machine: MachineInfo;
  /** Containers running on the engine, not this benchmark's, when it started. */
  otherContainers: number;
  variants: Partial<Record<Variant, VariantResult>>;
}

const DENSITY_JSON = path.join(__dirname, "density.json");
const DENSITY_MD = path.join(__dirname, "density.md");

/** Stacks this run may have left, for the cleanup paths (destroying one twice is harmless). */
const stacks = new Set<TestStack>();
// Every engine call is bounded: a hung daemon fails the benchmark instead of stalling it.
const docker = new Docker({ timeout: 60_000 });

const log = logger("density");
const secondsSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;
const round3 = (value: number) => Math.round(value * 1000) / 1000;

/** Builds and pushes one variant with no replicas, then runs `replicas` of it, measures them, and destroys the stack. */
async function measureVariant(variant: Variant, replicas: number): Promise<VariantResult> {
  const stack = replicaStack(`density-${variant}`);
  stacks.add(stack);
  const config = (count: number) => ({ name: stack.stack, libc: variant, replicas: String(count) });
  try {
    log(`${variant}: building and pushing pausle (stack ${stack.stack})`);
    await stack.run(config(0), { timeoutMs: BUILD_RUN_TIMEOUT_MS });
    log(`${variant}: starting ${replicas} replicas`);
    const t0 = process.hrtime.bigint();
    const result = await stack.run(config(replicas), { timeoutMs: startRunTimeoutMs(replicas) });
    const runSeconds = secondsSince(t0);
    const rebuilt = result.records.filter((r) => r.type === IMAGE_TYPE && r.operation !== "same");
    if (rebuilt.length > 0) {
      throw new Error(`density: the replica run also rebuilt ${rebuilt.map((r) => r.name).join(", ")}`);
    }
    const containers = [...(await containersOf(result, docker)).values()];
    if (containers.length !== replicas) {
      throw new Error(`density: the stack declared ${containers.length} replicas, not ${replicas}`);
    }
    const rss: number[] = [];
    for (const info of containers) {
      if (!info.State.Running || info.State.Pid <= 0) {
        throw new Error(`density: ${info.Name} is not running (status ${info.State.Status})`);
      }
      rss.push(await vmRssKb(info.State.Pid));
    }
    const firstCreated = Math.min(...containers.map((info) => Date.parse(info.Created)));
    const lastStarted = Math.max(...containers.map((info) => Date.parse(info.State.StartedAt)));
    const image = await docker.getImage(containers[0].Image).inspect();
    log(`${variant}: ${replicas} running after a ${runSeconds.toFixed(2)} s run`);
    return {
      replicas,
      runSeconds: round3(runSeconds),
      startSpanSeconds: round3((lastStarted - firstCreated) / 1000),
      medianRssKb: median(rss),
      maxRssKb: Math.max(...rss),
      imageBytes: image.Size,
    };
  } finally {
    log(`${variant}: destroying the stack`);
    const leftovers = await withTimeout(
      `destroying ${stack.stack}`,
      CLEANUP_TIMEOUT_MS,
      removeReplicaStack(stack, docker),
    );
    stacks.delete(stack);
    if (leftovers > 0)
      log(`${variant}: removed ${leftovers} containers or networks the stack's state lacked`);
  }
}

/** The results as a small plain-text table. */
export function formatTable(variants: DensityResults["variants"]): string {
  const header = [
    "variant",
    "replicas",
    "run s",
    "start span s",
    "median RSS kB",
    "max RSS kB",
    "image bytes",
  ];
  const rows = Object.entries(variants).map(([variant, r]) => [
    variant,
    String(r.replicas),
    r.runSeconds.toFixed(2),
    r.startSpanSeconds.toFixed(2),
    String(r.medianRssKb),
    String(r.maxRssKb),
    String(r.imageBytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i])).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/** The Markdown report: the table, what each figure is, and the machine. */
export function formatMarkdown(results: DensityResults): string {
  const replicas = Object.values(results.variants)[0]?.replicas ?? 0;
  return `# Density benchmark: pausle, musl vs glibc-static

\`npm run bench:density -- --replicas ${replicas} --json\` (\`tsx bench/density.ts\`), output in
[\`density.json\`](density.json). Each variant of \`examples/pausle\` is a stack of the program
\`bench/density-stack\`: a \`MinimalImage\` with \`recipe: { toolchain: "c", libc }\` and
\`replicas: { count, runtime: "docker" }\`, carried out by the local executor on this engine (builders
\`minimal-image-builder/c:local\`, registry \`127.0.0.1:5000\`). The replicas have the component's default
options: uid 65532, read-only rootfs, all capabilities dropped, 64 MiB memory limit, on a network of their own.
Each variant's stack runs twice: once with \`count: 0\` (build, push, inspection), then with
\`count: ${replicas}\`; it is destroyed (\`runStack\` with \`destroy\`) before the next variant starts.

\`\`\`
${formatTable(results.variants)}
\`\`\`

- **run s**: wall-clock time of the second executor run, which finds the image unchanged and creates and
  starts the replicas (the executor carries out their registrations concurrently); it includes loading the
  stack program and the component's inspection of the pushed image.
- **start span s**: from the first replica's \`Created\` to the last one's \`State.StartedAt\`, as the
  engine reports them.
- **RSS**: \`VmRSS\` from \`/proc/<pid>/status\` of each replica's main process (\`State.Pid\`), read once the
  run has returned, when every replica runs.
- **image bytes**: the image size as the engine reports it.

Containers of other work running on the engine when the benchmark started: ${results.otherContainers}. The
engine may be shared, so the times are indicative; the RSS figures do not depend on it.

${formatMachine(results.machine)}`;
}

function parseReplicas(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_REPLICAS;
  const count = Number(raw);
  if (!/^\d+$/.test(raw) || count < 1 || count > MAX_COUNT.docker) {
    throw new Error(`density: --replicas must be a whole number from 1 to ${MAX_COUNT.docker}, got "${raw}"`);
  }
  return count;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { replicas: { type: "string" }, json: { type: "boolean", default: false } },
  });
  const replicas = parseReplicas(values.replicas);
  const machine = await machineInfo(docker);
  const otherContainers = (await docker.listContainers()).length;
  const variants: DensityResults["variants"] = {};
  for (const variant of VARIANTS) variants[variant] = await measureVariant(variant, replicas);
  const results: DensityResults = { machine, otherContainers, variants };
  const json = await prettierFormat(DENSITY_JSON, JSON.stringify(results, null, 2));
  const markdown = await prettierFormat(DENSITY_MD, formatMarkdown(results));
  writeFileSync(DENSITY_JSON, json);
  writeFileSync(DENSITY_MD, markdown);
  process.stdout.write(values.json ? json : `${formatTable(variants)}\n`);
}

runBench("density", main, async () => {
  for (const stack of stacks) await removeReplicaStack(stack, docker);
});
