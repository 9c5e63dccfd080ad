/**
 * Size benchmark (issue 5): reproduces the blog post's comparison on this package's pipeline. Builds, in one
 * run, the post's dynamically linked pausle on a plain Debian base, the post's glibc `-static` pausle FROM
 * scratch (our `libc: "glibc"` recipe), and our default recipes for pausle (musl), hello-go and hello-rust;
 * measures each one's sizes, build, push and package overhead times, and the memory of one running replica.
 *
 *   npm run bench -- --json      (npm -s, or tsx bench/run.ts --json, for JSON alone on stdout)
 *
 * Writes bench/results.json and bench/results.md (see `npm run bench:chart` for bench/sizes.svg). Every
 * container and local image it creates is removed again, also on error and on Ctrl-C; every wait is bounded.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { parseArgs } from "node:util";
import Docker from "dockerode";
import * as prettier from "prettier";
import { buildLocally, renderBuild, RenderedBuild } from "../components/build";
import { pushLocally } from "../components/publish";
import { inspectImage } from "../components/inspect";
import {
  dockerReplicaSpecs,
  removeContainers,
  startContainers,
  validateReplicaOptions,
} from "../components/deploy";
import { LOCAL_BUILDERS, LOCAL_REGISTRY, uniqueName } from "../tests/support/env";
import { logger, runBench, sleep, vmRssKb, withTimeout } from "./support";

const DEBIAN_BASE = "minimal-image-bench/debian:local";
const C_BUILDER = "minimal-image-builder/c:local";
/** The ratio of on-disk sizes, glibc-static over musl, that the post's story needs (issue 5). */
const MIN_MUSL_RATIO = 40;

const BUILD_TIMEOUT_MS = 10 * 60_000;
const PUSH_TIMEOUT_MS = 2 * 60_000;
const INSPECT_TIMEOUT_MS = 2 * 60_000;
const START_TIMEOUT_MS = 60_000;
const POLL_INTERVAL_MS = 100;

/**
 * The post's dynamically linked pausle: its compiler flags, on a Debian base. Built through `buildLocally`
 * rather than with dockerode directly: `packContext` needs only the Dockerfile text, the context file list
 * and the source folder, so a real `renderBuild` of examples/pausle with this Dockerfile in place of the
 * rendered one is a well-typed RenderedBuild (no cast), and the build goes through exactly the code path
 * (context packing, BuildKit, error reporting) the other images use.
 */
const PAUSLE_DYNAMIC_DOCKERFILE = [
  `FROM ${C_BUILDER} AS build`,
  "WORKDIR /src",
  "COPY pausle.c /src/",
  "RUN gcc -Os -fdata-sections -ffunction-sections -fipa-pta -Wl,--gc-sections -Wl,-O1 -Wl,--as-needed" +
    " -Wl,--strip-all pausle.c -o /pausle-dynamic",
  "",
  `FROM ${DEBIAN_BASE}`,
  "COPY --from=build /pausle-dynamic /",
  "USER 65532:65532",
  'ENTRYPOINT ["/pausle-dynamic"]',
  "",
].join("\n");

interface Subject {
  name: string;
  render: () => RenderedBuild;
  /** A line the program logs once it serves; the RSS is read after it appears. */
  readyLine?: string;
}

const env = { ...process.env, ...LOCAL_BUILDERS };
const SUBJECTS: Subject[] = [
  {
    name: "pausle-dynamic",
    render: () => ({ ...renderBuild("examples/pausle", {}, { env }), dockerfile: PAUSLE_DYNAMIC_DOCKERFILE }),
  },
  { name: "pausle-glibc-static", render: () => renderBuild("examples/pausle", { libc: "glibc" }, { env }) },
  { name: "pausle-musl", render: () => renderBuild("examples/pausle", {}, { env }) },
  { name: "hello-go", render: () => renderBuild("examples/hello-go", {}, { env }), readyLine: "listening" },
  {
    name: "hello-rust",
    render: () => renderBuild("examples/hello-rust", {}, { env }),
    readyLine: "listening",
  },
];

/** What the benchmark reports for one image. */
export interface ImageResult {
  /** The entrypoint binary's size, read from the pushed image. */
  binaryBytes: number;
  /** `docker image inspect .Size`. */
  diskBytes: number;
  /** Config plus layers as the registry stores them: what a pull downloads. */
  compressedBytes: number;
  layers: number;
  /** `buildLocally` with `noCache: true`. */
  coldBuildSeconds: number;
  /** `buildLocally` again right after, nothing changed. */
  warmBuildSeconds: number;
  /** `pushLocally` of the cold build to a repository named for this run. */
  pushSeconds: number;
  /** VmRSS of one replica started from `dockerReplicaSpecs` + `startContainers`. */
  rssKb: number;
  /** `renderBuild`. */
  renderMs: number;
  /** `inspectImage` of the pushed digest. */
  inspectMs: number;
  /** (render + inspect) / (render + cold build + push + inspect). */
  overheadShare: number;
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

export interface BenchResults {
  machine: MachineInfo;
  images: Record<string, ImageResult>;
}

const RESULTS_JSON = path.join(__dirname, "results.json");
const RESULTS_MD = path.join(__dirname, "results.md");
const SIZE_FIELDS = ["binaryBytes", "diskBytes", "compressedBytes", "layers"] as const;

const docker = new Docker();
const log = logger("bench");
const run = uniqueName("run");
/** Containers and local image tags this run may have created, for cleanup (removal skips absent ones). */
const containers = new Set<string>();
const tags = new Set<string>();

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
const secondsSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

/** Runs `fn`, returning its value and the wall-clock seconds it took. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return [value, secondsSince(t0)];
}

async function machineInfo(): Promise<MachineInfo> {
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

/** Fails early, naming the fix, when an image the benchmark builds from is missing. */
async function checkPrerequisites(): Promise<void> {
  for (const image of [DEBIAN_BASE, ...new Set(Object.values(LOCAL_BUILDERS))]) {
    await docker
      .getImage(image)
      .inspect()
      .catch(() => {
        throw new Error(
          `bench: image ${image} is missing; run scripts/dev-env up and scripts/dev-env bench-base`,
        );
      });
  }
}

/** Starts one replica of `imageRef`, waits until it runs (and, for a server, has said it listens), reads its RSS. */
async function replicaRssKb(subject: Subject, imageRef: string): Promise<number> {
  const options = validateReplicaOptions({ count: 1, runtime: "docker" });
  if (options.runtime !== "docker") throw new Error("bench: expected Docker replica options");
  const [spec] = dockerReplicaSpecs({ name: `bench-${subject.name}-${run}`, imageRef, options });
  containers.add(spec.name);
  try {
    await withTimeout(`start of ${spec.name}`, START_TIMEOUT_MS, startContainers([spec], docker));
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const info = await docker.getContainer(spec.name).inspect();
      const logs = subject.readyLine
        ? String(await docker.getContainer(spec.name).logs({ stdout: true, stderr: true, follow: false }))
        : "";
      if (info.State.Running && info.State.Pid > 0 && logs.includes(subject.readyLine ?? "")) {
        return await vmRssKb(info.State.Pid);
      }
      if (!info.State.Running && info.State.Status !== "created") {
        throw new Error(
          `bench: ${spec.name} stopped (status ${info.State.Status}, exit ${info.State.ExitCode})`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`bench: ${spec.name} not ready within ${START_TIMEOUT_MS / 1000} s`);
      await sleep(POLL_INTERVAL_MS);
    }
  } finally {
    await withTimeout(`removal of ${spec.name}`, START_TIMEOUT_MS, removeContainers([spec.name], docker));
  }
}

async function measure(subject: Subject): Promise<ImageResult> {
  // A repository new to the registry on every run (see results.md on what the engine still mounts).
  const tag = `${LOCAL_REGISTRY}/bench-${subject.name}-${run}:latest`;
  tags.add(tag);
  const renderT0 = process.hrtime.bigint();
  const rendered = subject.render();
  const renderSeconds = secondsSince(renderT0);
  log(`${subject.name}: cold build of ${tag}`);
  const build = (noCache: boolean) =>
    withTimeout(`build of ${tag}`, BUILD_TIMEOUT_MS, buildLocally(rendered, { tag, docker, noCache }));
  const [cold, coldSeconds] = await timed(() => build(true));
  log(`${subject.name}: warm build`);
  const [warm, warmSeconds] = await timed(() => build(false));
  if (warm.imageId !== cold.imageId) log(`${subject.name}: warning: the warm build made a new image`);
  log(`${subject.name}: push`);
  const [imageRef, pushSeconds] = await timed(() =>
    withTimeout(`push of ${tag}`, PUSH_TIMEOUT_MS, pushLocally(tag, undefined, docker)),
  );
  log(`${subject.name}: inspect ${imageRef}`);
  const [report, inspectSeconds] = await timed(() =>
    withTimeout(`inspection of ${imageRef}`, INSPECT_TIMEOUT_MS, inspectImage(imageRef)),
  );
  const diskBytes = (await docker.getImage(tag).inspect()).Size;
  log(`${subject.name}: one replica`);
  const rssKb = await replicaRssKb(subject, imageRef);
  const overhead = renderSeconds + inspectSeconds;
  return {
    binaryBytes: report.binarySizeBytes,
    diskBytes,
    compressedBytes: report.compressedSizeBytes,
    layers: report.layerCount,
    coldBuildSeconds: round(coldSeconds, 2),
    warmBuildSeconds: round(warmSeconds, 2),
    pushSeconds: round(pushSeconds, 2),
    rssKb,
    renderMs: round(renderSeconds * 1000, 1),
    inspectMs: round(inspectSeconds * 1000, 1),
    overheadShare: round(overhead / (overhead + coldSeconds + pushSeconds), 4),
  };
}

/** Removes this run's containers, then its local image tags (an image still tagged elsewhere stays). */
async function cleanup(): Promise<void> {
  await removeContainers([...containers], docker);
  for (const tag of tags) {
    await docker
      .getImage(tag)
      .remove()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });
  }
}

/** Size fields that differ from the previous run's results.json, as lines; empty when all are equal. */
export function sizeDifferences(previous: BenchResults, current: BenchResults): string[] {
  const lines: string[] = [];
  for (const [name, now] of Object.entries(current.images)) {
    const before = previous.images[name];
    if (!before) continue;
    for (const field of SIZE_FIELDS) {
      if (before[field] !== now[field]) lines.push(`${name} ${field}: ${before[field]} then ${now[field]}`);
    }
  }
  return lines;
}

const bytes = (n: number) => n.toLocaleString("en-US");

/** Ratio of on-disk sizes, glibc-static over musl. */
export function muslRatio(results: BenchResults): number {
  return results.images["pausle-glibc-static"].diskBytes / results.images["pausle-musl"].diskBytes;
}

/** The Markdown report: a table of every image, the machine, the musl ratio and what varies. */
export function formatMarkdown(results: BenchResults, comparison: string): string {
  const names = Object.keys(results.images);
  const rows: [string, (r: ImageResult) => string][] = [
    ["binary bytes", (r) => bytes(r.binaryBytes)],
    ["on disk, bytes", (r) => bytes(r.diskBytes)],
    ["compressed, bytes", (r) => bytes(r.compressedBytes)],
    ["layers", (r) => String(r.layers)],
    ["cold build, s", (r) => r.coldBuildSeconds.toFixed(2)],
    ["warm build, s", (r) => r.warmBuildSeconds.toFixed(2)],
    ["push, s", (r) => r.pushSeconds.toFixed(2)],
    ["RSS of one replica, kB", (r) => String(r.rssKb)],
    ["render, ms", (r) => r.renderMs.toFixed(1)],
    ["inspect, ms", (r) => r.inspectMs.toFixed(1)],
    ["package overhead", (r) => `${(r.overheadShare * 100).toFixed(2)} %`],
  ];
  const table = [
    `| | ${names.map((n) => `\`${n}\``).join(" | ")} |`,
    `| --- | ${names.map(() => "---:").join(" | ")} |`,
    ...rows.map(([label, cell]) => `| ${label} | ${names.map((n) => cell(results.images[n])).join(" | ")} |`),
  ];
  const m = results.machine;
  return `# Size benchmark: the post's comparison on minimal-image's pipeline

\`npm run bench -- --json\` (\`tsx bench/run.ts\`), output in [\`results.json\`](results.json); chart:
\`npm run bench:chart\` writes [\`sizes.svg\`](sizes.svg).

${table.join("\n")}

- \`pausle-dynamic\`: the post's dynamically linked pausle on \`${DEBIAN_BASE}\` (a Debian minbase made
  with mmdebstrap), from a hand-written two-stage Dockerfile in \`bench/run.ts\` with the post's flags
  \`gcc -Os -fdata-sections -ffunction-sections -fipa-pta -Wl,--gc-sections -Wl,-O1 -Wl,--as-needed -Wl,--strip-all\`.
- \`pausle-glibc-static\`: the post's glibc \`-static\` FROM scratch method, our recipe with \`libc: "glibc"\`.
- \`pausle-musl\`, \`hello-go\`, \`hello-rust\`: our default recipes.
- All builders are the offline \`minimal-image-builder/*:local\` images; BuildKit; registry \`${LOCAL_REGISTRY}\`.

**musl vs glibc-static on disk: ${muslRatio(results).toFixed(1)}x smaller** (required: at least ${MIN_MUSL_RATIO}x).

## What each figure is

- **binary**: the entrypoint file's size, read from the pushed image by \`inspectImage\`. **on disk**:
  \`docker image inspect .Size\`. **compressed**: config blob plus layer blobs as the registry stores them
  (\`inspectImage\`). **layers**: from the manifest.
- **cold build**: \`buildLocally\` with \`noCache: true\` (every step runs; base and builder images are local).
  **warm build**: \`buildLocally\` again with nothing changed. **push**: \`pushLocally\` of the cold build to a
  repository whose name is unique to the run (\`bench-<image>-<run>\`). The engine still does not upload a
  layer blob the registry already holds under another repository: it mounts it ("Mounted from …" in
  \`docker push\`). Our layers are reproducible and the Debian base is the same image every run, so after the
  first run a push uploads only the new config blob and the manifest. Push times are therefore small and
  mostly fixed cost, not a measure of upload bandwidth. The run's repositories stay in the registry; its
  containers and local image tags are removed.
- **RSS**: \`VmRSS\` from \`/proc/<pid>/status\` of one replica started from the shipped Docker spec
  (\`dockerReplicaSpecs\` + \`startContainers\`: uid 65532, read-only rootfs, no capabilities, 64 MiB), read once
  it runs (the HTTP servers: once they have logged that they listen); removed afterwards.
- **package overhead**: what the package itself adds around Docker: \`renderBuild\` (recipe validation,
  Dockerfile text, context listing) plus \`inspectImage\` (manifest, config, every layer streamed and
  decompressed), as a share of render + cold build + push + inspect. For \`pausle-dynamic\` render is the
  \`renderBuild\` whose context list it reuses; its inspection streams the whole Debian layer.

**Exact by construction**: binary, on-disk and layer bytes (the compiled binaries are reproducible and every
file in our final layer has a fixed timestamp; for \`pausle-dynamic\`, as long as the Debian base image is
not rebuilt), and the layer count. **Varies slightly**: the compressed size includes the image config blob,
which carries the build's timestamp in nanoseconds with trailing zeros dropped, so it can differ by a few
bytes from run to run while the layer blobs stay identical; all times are wall-clock and noisy (the engine is
shared with other work); RSS can move by a page or two.

${comparison}

## Machine

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

async function prettierFormat(file: string, text: string): Promise<string> {
  const config = await prettier.resolveConfig(file);
  return prettier.format(text, { ...config, filepath: file });
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });
  await checkPrerequisites();
  const machine = await machineInfo();
  const images: Record<string, ImageResult> = {};
  for (const subject of SUBJECTS) images[subject.name] = await measure(subject);
  const results: BenchResults = { machine, images };

  const previous = existsSync(RESULTS_JSON)
    ? (JSON.parse(readFileSync(RESULTS_JSON, "utf8")) as BenchResults)
    : undefined;
  const differences = previous ? sizeDifferences(previous, results) : [];
  const comparison = !previous
    ? "No earlier results.json to compare sizes with."
    : differences.length === 0
      ? `Compared with the previous run (${previous.machine.date}): binary, on-disk and compressed bytes and layer counts identical for every image.`
      : `Compared with the previous run (${previous.machine.date}), these sizes differ:\n\n${differences.map((d) => `- ${d}`).join("\n")}`;
  for (const line of differences) log(`size differs from the previous run: ${line}`);

  // Formatted as `npm run lint` (prettier --check) expects, so a fresh run can be committed as it is.
  const json = await prettierFormat(RESULTS_JSON, JSON.stringify(results, null, 2));
  const markdown = await prettierFormat(RESULTS_MD, formatMarkdown(results, comparison));
  writeFileSync(RESULTS_JSON, json);
  writeFileSync(RESULTS_MD, markdown);
  process.stdout.write(values.json ? json : markdown);
  const ratio = muslRatio(results);
  if (ratio < MIN_MUSL_RATIO) {
    throw new Error(
      `bench: musl is only ${ratio.toFixed(1)}x smaller than glibc-static on disk (need ${MIN_MUSL_RATIO}x)`,
    );
  }
}

runBench("bench", main, cleanup);
