/**
 * Density benchmark: starts N replicas of examples/pausle built with the musl recipe and N built with
 * the glibc-static recipe, through the package's own build, push and deploy functions, and reports per
 * variant the seconds until all replicas run and the resident memory (VmRSS) of each replica's process.
 *
 *   npm run bench:density -- --replicas 100 --json
 *
 * Every container it starts is removed again, also on error and on Ctrl-C; every wait is bounded.
 */
import { parseArgs } from "node:util";
import Docker from "dockerode";
import { buildLocally, renderBuild } from "../components/build";
import { pushLocally } from "../components/publish";
import {
  dockerReplicaSpecs,
  listReplicas,
  MAX_COUNT,
  removeContainers,
  startContainers,
  validateReplicaOptions,
} from "../components/deploy";
import { logger, median, runBench, sleep, vmRssKb, withTimeout } from "./support";

type Variant = "musl" | "glibc";
const VARIANTS: readonly Variant[] = ["musl", "glibc"];
const SOURCE = "examples/pausle";
const BUILDER = "minimal-image-builder/c:local";
const DEFAULT_REPLICAS = 100;

const BUILD_TIMEOUT_MS = 10 * 60_000;
const PUSH_TIMEOUT_MS = 2 * 60_000;
const POLL_INTERVAL_MS = 100;
/** Starting and polling: a generous base plus a per-replica allowance. */
const startTimeoutMs = (replicas: number) => 60_000 + replicas * 1_000;
const CLEANUP_TIMEOUT_MS = 2 * 60_000;

/** What the benchmark reports for one variant. */
export interface VariantResult {
  replicas: number;
  /** Seconds from just before `startContainers` until every replica reports State.Running. */
  startSeconds: number;
  /** Median VmRSS of the replicas' main processes, in kB as /proc reports it. */
  medianRssKb: number;
  maxRssKb: number;
  /** Size of the image as the engine reports it. */
  imageBytes: number;
}

/** Names of every container this run may have created, for the cleanup paths (removal skips absent ones). */
const started = new Set<string>();
const docker = new Docker();

const log = logger("density");

/** Builds and pushes one variant; returns the digest reference and the image size. */
async function buildVariant(variant: Variant): Promise<{ imageRef: string; imageBytes: number }> {
  const rendered = renderBuild(
    SOURCE,
    { libc: variant },
    {
      env: {
        ...process.env,
        MINIMAL_IMAGE_C_BUILDER: BUILDER,
        MINIMAL_IMAGE_C_GLIBC_BUILDER: BUILDER,
      },
    },
  );
  const tag = `127.0.0.1:5000/bench-pausle-${variant}:latest`;
  log(`${variant}: building ${tag}`);
  await withTimeout(`build of ${tag}`, BUILD_TIMEOUT_MS, buildLocally(rendered, { tag, docker }));
  log(`${variant}: pushing ${tag}`);
  const imageRef = await withTimeout(`push of ${tag}`, PUSH_TIMEOUT_MS, pushLocally(tag, undefined, docker));
  const image = await docker.getImage(imageRef).inspect();
  return { imageRef, imageBytes: image.Size };
}

/** Starts `replicas` replicas of one variant, measures them, and removes them again. */
async function measureVariant(variant: Variant, replicas: number): Promise<VariantResult> {
  const { imageRef, imageBytes } = await buildVariant(variant);
  const options = validateReplicaOptions({ count: replicas, runtime: "docker" });
  if (options.runtime !== "docker") throw new Error("density: expected Docker replica options");
  const name = `bench-${variant}`;
  const specs = dockerReplicaSpecs({ name, imageRef, options });
  const names = specs.map((spec) => spec.name);
  // Leftovers of an interrupted earlier run would be kept by startContainers and skew the timing.
  await withTimeout("removal of leftover replicas", CLEANUP_TIMEOUT_MS, removeContainers(names, docker));
  for (const container of names) started.add(container);
  try {
    log(`${variant}: starting ${replicas} replicas of ${imageRef}`);
    const deadline = Date.now() + startTimeoutMs(replicas);
    const t0 = process.hrtime.bigint();
    await withTimeout(
      `start of ${replicas} ${variant} replicas`,
      startTimeoutMs(replicas),
      startContainers(specs, docker),
    );
    for (;;) {
      const listed = await listReplicas(name, docker);
      const running = listed.filter((c) => c.state === "running").length;
      if (running === replicas) break;
      if (Date.now() > deadline) {
        throw new Error(
          `density: only ${running} of ${replicas} ${variant} replicas running before the deadline`,
        );
      }
      await sleep(POLL_INTERVAL_MS);
    }
    const startSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const rss: number[] = [];
    for (const container of names) {
      const info = await docker.getContainer(container).inspect();
      if (!info.State.Running || info.State.Pid <= 0) {
        throw new Error(`density: ${container} is not running (status ${info.State.Status})`);
      }
      rss.push(await vmRssKb(info.State.Pid));
    }
    log(`${variant}: all running after ${startSeconds.toFixed(2)} s`);
    return {
      replicas,
      startSeconds: Math.round(startSeconds * 1000) / 1000,
      medianRssKb: median(rss),
      maxRssKb: Math.max(...rss),
      imageBytes,
    };
  } finally {
    log(`${variant}: removing ${names.length} replicas`);
    await withTimeout(`removal of ${variant} replicas`, CLEANUP_TIMEOUT_MS, removeContainers(names, docker));
  }
}

/** The results as a small plain-text table. */
export function formatTable(results: Partial<Record<Variant, VariantResult>>): string {
  const header = ["variant", "replicas", "start s", "median RSS kB", "max RSS kB", "image bytes"];
  const rows = Object.entries(results).map(([variant, r]) => [
    variant,
    String(r.replicas),
    r.startSeconds.toFixed(2),
    String(r.medianRssKb),
    String(r.maxRssKb),
    String(r.imageBytes),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i])).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
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
  const results: Partial<Record<Variant, VariantResult>> = {};
  for (const variant of VARIANTS) results[variant] = await measureVariant(variant, replicas);
  process.stdout.write(values.json ? `${JSON.stringify(results, null, 2)}\n` : `${formatTable(results)}\n`);
}

runBench("density", main, () => removeContainers([...started], docker));
