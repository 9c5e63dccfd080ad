/**
 * Size benchmark (issue 5): reproduces the blog post's comparison on this package's pipeline. Builds, in one
 * run, the post's dynamically linked pausle on a plain Debian base, the post's glibc `-static` pausle FROM
 * scratch (our `libc: "glibc"` recipe), and our default recipes for pausle (musl), hello-go, hello-rust and
 * hello-rust-deps; measures each one's sizes, build, push and package overhead times, and the memory of one
 * running replica. Rebuild benchmark (issues 12 and 20): for pausle, hello-go, hello-rust and hello-rust-deps
 * (with each `cargoLto` mode: fat, thin, off), a cold build with empty toolchain caches, a warm one, and one
 * after a one-line source change, in a copy of the example; then the size of the caches. Cross builds
 * (issue 21, bench/cross.ts): pausle (musl, glibc), hello-go, hello-rust and hello-rust-deps built for
 * linux/amd64 and, cross-compiled, linux/arm64, interleaved and repeated; sizes per platform and the ratio.
 *
 *   npm run bench -- --json      (npm -s, or tsx bench/run.ts --json, for JSON alone on stdout)
 *
 * Writes bench/results.json and bench/results.md (see `npm run bench:chart` for bench/sizes.svg). Every
 * container and local image it creates is removed again, also on error and on Ctrl-C; every wait is bounded.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs, promisify } from "node:util";
import Docker from "dockerode";
import { buildLocally } from "../harness/engine/build";
import { renderBuild, RenderedBuild } from "../components/render";
import { pushLocally } from "../harness/engine/push";
import { inspectImage } from "../components/inspect";
import { parseElf } from "../components/inspect/elf";
import { RecipeOptions } from "../components/recipe";
import { buildCacheRecords, cacheMountsSince, pruneBuildCacheRecord } from "../tests/support/build-cache";
import { LOCAL_BUILDERS, LOCAL_REGISTRY, uniqueName } from "../tests/support/env";
import { imageFiles } from "../tests/support/engine";
import { containersOf, TestStack } from "../tests/support/stack";
import {
  BenchPlatform,
  CROSS_ROUNDS,
  CROSS_SUBJECTS,
  CrossResult,
  crossResult,
  CrossSubject,
  formatCross,
  PLATFORMS,
  PlatformFigures,
  slowCrossBuilds,
} from "./cross";
import {
  formatMachine,
  logger,
  MachineInfo,
  machineInfo,
  prettierFormat,
  progress,
  removeReplicaStack,
  replicaStack,
  round,
  runBench,
  sleep,
  vmRssKb,
  withTimeout,
} from "./support";

const DEBIAN_BASE = "minimal-image-bench/debian:local";
const C_BUILDER = "minimal-image-builder/c:local";
/** The ratio of on-disk sizes, glibc-static over musl, that the post's story needs (issue 5). */
const MIN_MUSL_RATIO = 40;

const BUILD_TIMEOUT_MS = 10 * 60_000;
const PUSH_TIMEOUT_MS = 2 * 60_000;
const INSPECT_TIMEOUT_MS = 2 * 60_000;
const START_TIMEOUT_MS = 60_000;
/** A stack run loads the program (compiling the package's TypeScript) before it starts anything. */
const STACK_RUN_TIMEOUT_MS = 5 * 60_000;
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
/** Toolchain caches of this run's own, empty until its first build, so that a cold build is cold. */
const sizeRun = () => ({ env, cacheScope: `${run}-sizes` });
const SUBJECTS: Subject[] = [
  {
    name: "pausle-dynamic",
    render: () => ({
      ...renderBuild("examples/pausle", {}, sizeRun()),
      dockerfile: PAUSLE_DYNAMIC_DOCKERFILE,
    }),
  },
  { name: "pausle-glibc-static", render: () => renderBuild("examples/pausle", { libc: "glibc" }, sizeRun()) },
  { name: "pausle-musl", render: () => renderBuild("examples/pausle", {}, sizeRun()) },
  { name: "hello-go", render: () => renderBuild("examples/hello-go", {}, sizeRun()), readyLine: "listening" },
  {
    name: "hello-rust",
    render: () => renderBuild("examples/hello-rust", {}, sizeRun()),
    readyLine: "listening",
  },
  {
    name: "hello-rust-deps",
    render: () => renderBuild("examples/hello-rust-deps", {}, sizeRun()),
    readyLine: "listening",
  },
];

interface RebuildSubject {
  name: string;
  /** The example, under examples/. */
  folder: string;
  /** Recipe options other than the defaults. */
  options?: RecipeOptions;
  /**
   * The one-line change: in `file`, `from` becomes `to(run)`. It names the run, so that its build step is
   * never a layer cache hit left by an earlier run (C has no cache mounts, whose ids would differ per run).
   */
  edit: { file: string; from: string; to: (runName: string) => string };
  /** The bound on rebuild / cold, where an issue sets one (12: hello-go; 20: hello-rust-deps with LTO off). */
  maxRebuildRatio?: number;
}

/** hello-rust-deps's one-line change, the same for every LTO mode. */
const RUST_DEPS_EDIT: RebuildSubject["edit"] = {
  file: "src/main.rs",
  from: "a static Rust binary",
  to: (r) => `a static Rust binary (${r})`,
};

const REBUILD_SUBJECTS: RebuildSubject[] = [
  {
    name: "pausle-musl",
    folder: "pausle",
    edit: { file: "pausle.c", from: "return pause();", to: (r) => `pause(); return 0; /* ${r} */` },
  },
  {
    name: "hello-go",
    folder: "hello-go",
    edit: { file: "main.go", from: "hello from", to: (r) => `hello (${r}) from` },
    maxRebuildRatio: 0.2,
  },
  {
    name: "hello-rust",
    folder: "hello-rust",
    edit: { file: "src/main.rs", from: "hello from", to: (r) => `hello (${r}) from` },
  },
  // The same program in each LTO mode, side by side: fat (the default) and thin re-run LTO at every link and
  // are reported without a bound; off rebuilds only the program's own crate, and issue 20 bounds it.
  { name: "hello-rust-deps, cargoLto fat", folder: "hello-rust-deps", edit: RUST_DEPS_EDIT },
  {
    name: "hello-rust-deps, cargoLto thin",
    folder: "hello-rust-deps",
    options: { cargoLto: "thin" },
    edit: RUST_DEPS_EDIT,
  },
  {
    name: "hello-rust-deps, cargoLto off",
    folder: "hello-rust-deps",
    options: { cargoLto: "off" },
    edit: RUST_DEPS_EDIT,
    maxRebuildRatio: 0.1,
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
  /** VmRSS of one replica, declared by bench/density-stack and started by the local executor. */
  rssKb: number;
  /** `renderBuild`. */
  renderMs: number;
  /** `inspectImage` of the pushed digest. */
  inspectMs: number;
  /** (render + inspect) / (render + cold build + push + inspect). */
  overheadShare: number;
}

/** Build times of one program with toolchain caches, each also as a share of the cold build. */
export interface RebuildResult {
  /** `buildLocally` with `noCache: true` and toolchain caches of the run's own, still empty. */
  coldSeconds: number;
  /** Again, nothing changed. */
  warmSeconds: number;
  /** Again, after a one-line change to the source. */
  rebuildSeconds: number;
  /** `docker image inspect .Size` of the cold build: the binary, as the image holds nothing else. */
  imageBytes: number;
  warmRatio: number;
  rebuildRatio: number;
  maxRebuildRatio?: number;
}

/** The engine's build cache after the run, from `/system/df`. */
export interface BuildCacheUse {
  /** Cache mounts this run made (records absent when it started): the toolchain caches of its cold builds. */
  runCacheMounts: { target: string; bytes: number }[];
  runCacheMountBytes: number;
  /** Everything the engine's build cache holds: layers and cache mounts of every build on this engine. */
  engineBytes: number;
  engineRecords: number;
}

export interface BenchResults {
  machine: MachineInfo;
  /** The compiler each offline builder image holds, as it reports its version. */
  compilers?: Record<string, string>;
  images: Record<string, ImageResult>;
  rebuilds: Record<string, RebuildResult>;
  /** Each program for linux/amd64 and, cross-compiled, linux/arm64. */
  cross?: Record<string, CrossResult>;
  buildCache: BuildCacheUse;
}

const RESULTS_JSON = path.join(__dirname, "results.json");
const RESULTS_MD = path.join(__dirname, "results.md");
const SIZE_FIELDS = ["binaryBytes", "diskBytes", "compressedBytes", "layers"] as const;

const docker = new Docker();
const log = logger("bench");
const step = progress("bench");
const run = uniqueName("run");
/** Replica stacks, local image tags and folders this run may have created, for cleanup (removal skips absent ones). */
const stacks = new Set<TestStack>();
const tags = new Set<string>();
const folders = new Set<string>();
/** Build cache records that are not this run's: present when it started. */
let earlierCacheRecords: Set<string> | undefined;

const secondsSince = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e9;

/** Runs `fn`, returning its value and the wall-clock seconds it took. */
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return [value, secondsSince(t0)];
}

/** The command each offline builder answers its compiler's version with. */
const COMPILER_VERSIONS: Record<string, string[]> = {
  "minimal-image-builder/c:local": ["gcc", "--version"],
  "minimal-image-builder/go:local": ["go", "version"],
  "minimal-image-builder/rust:local": ["rustc", "-V"],
};

/** The first line of each builder's compiler version, so the figures name the compiler that made them. */
async function compilerVersions(): Promise<Record<string, string>> {
  const versions: Record<string, string> = {};
  for (const [image, command] of Object.entries(COMPILER_VERSIONS)) {
    const { stdout } = await promisify(execFile)(
      "docker",
      ["run", "--rm", "--network", "none", image, ...command],
      { timeout: START_TIMEOUT_MS },
    );
    versions[image] = stdout.split("\n")[0].trim();
  }
  return versions;
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

/**
 * Runs one replica of `imageRef` through a stack of bench/density-stack, waits until it runs (and, for a
 * server, has said it listens), reads its RSS, and destroys the stack.
 */
async function replicaRssKb(subject: Subject, imageRef: string): Promise<number> {
  const stack = replicaStack(`bench-${subject.name}`);
  stacks.add(stack);
  try {
    const result = await stack.run(
      { name: stack.stack, imageRef, replicas: "1" },
      { timeoutMs: STACK_RUN_TIMEOUT_MS },
    );
    const containers = [...(await containersOf(result, docker))];
    if (containers.length !== 1) {
      throw new Error(`bench: ${stack.stack} ran ${containers.length} containers instead of 1`);
    }
    const [[name, started]] = containers;
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      const info = await docker.getContainer(started.Id).inspect();
      const logs = subject.readyLine
        ? String(await docker.getContainer(started.Id).logs({ stdout: true, stderr: true, follow: false }))
        : "";
      if (info.State.Running && info.State.Pid > 0 && logs.includes(subject.readyLine ?? "")) {
        return await vmRssKb(info.State.Pid);
      }
      if (!info.State.Running && info.State.Status !== "created") {
        throw new Error(`bench: ${name} stopped (status ${info.State.Status}, exit ${info.State.ExitCode})`);
      }
      if (Date.now() > deadline)
        throw new Error(`bench: ${name} not ready within ${START_TIMEOUT_MS / 1000} s`);
      await sleep(POLL_INTERVAL_MS);
    }
  } finally {
    await withTimeout(`removal of ${stack.stack}`, STACK_RUN_TIMEOUT_MS, removeReplicaStack(stack, docker));
    stacks.delete(stack);
  }
}

async function measure(subject: Subject): Promise<ImageResult> {
  // A repository new to the registry on every run (see results.md on what the engine still mounts).
  const tag = `${LOCAL_REGISTRY}/bench-${subject.name}-${run}:latest`;
  tags.add(tag);
  const renderT0 = process.hrtime.bigint();
  const rendered = subject.render();
  const renderSeconds = secondsSince(renderT0);
  const build = (noCache: boolean) => buildWithin(rendered, tag, noCache);
  const [cold, coldSeconds] = await step(`${subject.name}: cold build`, () => timed(() => build(true)));
  const [warm, warmSeconds] = await step(`${subject.name}: warm build`, () => timed(() => build(false)));
  if (warm.imageId !== cold.imageId) log(`${subject.name}: warning: the warm build made a new image`);
  const [imageRef, pushSeconds] = await step(`${subject.name}: push`, () =>
    timed(() => withTimeout(`push of ${tag}`, PUSH_TIMEOUT_MS, pushLocally(tag, undefined, docker))),
  );
  const [report, inspectSeconds] = await step(`${subject.name}: inspect`, () =>
    timed(() => withTimeout(`inspection of ${imageRef}`, INSPECT_TIMEOUT_MS, inspectImage(imageRef))),
  );
  const diskBytes = (await docker.getImage(tag).inspect()).Size;
  const rssKb = await step(`${subject.name}: one replica`, () => replicaRssKb(subject, imageRef));
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

/** Fails the run unless the image's entrypoint binary is static: no PT_INTERP, no DT_NEEDED (the ELF parser). */
async function assertStatic(tag: string, binary: string, what: string): Promise<void> {
  const file = (await imageFiles(tag)).get(`/${binary}`);
  if (!file) throw new Error(`bench: ${what}: /${binary} is not in ${tag}`);
  const elf = parseElf(file.data);
  if (elf.interpreter !== undefined || elf.neededLibraries.length > 0) {
    throw new Error(
      `bench: ${what}: /${binary} is not static (interpreter ${elf.interpreter ?? "none"}, needs ${elf.neededLibraries.join(", ") || "nothing"})`,
    );
  }
}

function buildWithin(rendered: RenderedBuild, tag: string, noCache: boolean, platform?: string) {
  return withTimeout(
    `build of ${tag}`,
    BUILD_TIMEOUT_MS,
    buildLocally(rendered, { tag, docker, noCache, platform }),
  );
}

/**
 * Cold builds of one program for each platform, interleaved round by round (see `formatCross`), then the
 * last round's images pushed and inspected for their platform.
 */
async function measureCross(subject: CrossSubject): Promise<CrossResult> {
  const tagOf = (platform: BenchPlatform) =>
    `${LOCAL_REGISTRY}/bench-cross-${subject.name}-${run}:${platform.split("/")[1]}`;
  const seconds: Record<BenchPlatform, number[]> = { "linux/amd64": [], "linux/arm64": [] };
  for (let i = 0; i < CROSS_ROUNDS; i++) {
    const order = i % 2 === 0 ? PLATFORMS : [...PLATFORMS].reverse();
    for (const platform of order) {
      const tag = tagOf(platform);
      tags.add(tag);
      // A cache scope per round and platform: every build starts from empty toolchain caches.
      const rendered = renderBuild(path.join("examples", subject.folder), subject.options ?? {}, {
        env,
        cacheScope: `${run}-cross-${i}-${platform.split("/")[1]}`,
        platform,
      });
      const [, took] = await step(`${subject.name}: ${platform} cold build ${i + 1}`, () =>
        timed(() => buildWithin(rendered, tag, true, platform)),
      );
      seconds[platform].push(took);
    }
  }
  const figures = {} as Record<BenchPlatform, Omit<PlatformFigures, "medianBuildSeconds">>;
  for (const platform of PLATFORMS) {
    const tag = tagOf(platform);
    const imageRef = await withTimeout(
      `push of ${tag}`,
      PUSH_TIMEOUT_MS,
      pushLocally(tag, undefined, docker),
    );
    const report = await withTimeout(
      `inspection of ${imageRef}`,
      INSPECT_TIMEOUT_MS,
      inspectImage(imageRef, { platform }),
    );
    if (!report.isStatic) throw new Error(`bench: ${subject.name} for ${platform} is not static`);
    figures[platform] = {
      binaryBytes: report.binarySizeBytes,
      diskBytes: (await docker.getImage(tag).inspect()).Size,
      compressedBytes: report.compressedSizeBytes,
      machine: report.machine,
      buildSeconds: seconds[platform],
    };
  }
  return crossResult(figures);
}

/**
 * Cold, warm and one-line-change builds of a copy of the example (same folder name, so the same binary
 * name and per-program cache keys), with toolchain caches of the run's own.
 */
async function measureRebuild(subject: RebuildSubject): Promise<RebuildResult> {
  const parent = mkdtempSync(path.join(os.tmpdir(), "minimal-image-bench-"));
  folders.add(parent);
  const folder = path.join(parent, subject.folder);
  cpSync(path.join("examples", subject.folder), folder, { recursive: true });
  const render = () => renderBuild(folder, subject.options ?? {}, { env, cacheScope: `${run}-rebuilds` });
  const tag = `minimal-image-bench/rebuild-${subject.name.replace(/[^a-z0-9-]+/g, "-")}:${run}`;
  tags.add(tag);
  const [cold, coldSeconds] = await step(`${subject.name}: cold build, empty caches`, () =>
    timed(() => buildWithin(render(), tag, true)),
  );
  const imageBytes = (await docker.getImage(tag).inspect()).Size;
  await assertStatic(tag, subject.folder, `${subject.name}, cold build`);
  const [, warmSeconds] = await step(`${subject.name}: warm build`, () =>
    timed(() => buildWithin(render(), tag, false)),
  );
  const file = path.join(folder, subject.edit.file);
  const source = readFileSync(file, "utf8");
  if (!source.includes(subject.edit.from)) {
    throw new Error(
      `bench: ${subject.edit.file} of ${subject.folder} no longer holds "${subject.edit.from}"`,
    );
  }
  writeFileSync(file, source.replace(subject.edit.from, subject.edit.to(run)));
  const [rebuilt, rebuildSeconds] = await step(`${subject.name}: rebuild after a one-line change`, () =>
    timed(() => buildWithin(render(), tag, false)),
  );
  if (rebuilt.imageId === cold.imageId)
    throw new Error(`bench: the edit of ${subject.name} changed no image`);
  await assertStatic(tag, subject.folder, `${subject.name}, rebuild`);
  return {
    coldSeconds: round(coldSeconds, 2),
    warmSeconds: round(warmSeconds, 2),
    rebuildSeconds: round(rebuildSeconds, 2),
    imageBytes,
    warmRatio: round(warmSeconds / coldSeconds, 4),
    rebuildRatio: round(rebuildSeconds / coldSeconds, 4),
    ...(subject.maxRebuildRatio !== undefined ? { maxRebuildRatio: subject.maxRebuildRatio } : {}),
  };
}

async function buildCacheUse(): Promise<BuildCacheUse> {
  const all = await buildCacheRecords(docker);
  const mounts = (await cacheMountsSince(docker, earlierCacheRecords ?? new Set()))
    // The description reads "cached mount <target> from exec <command>".
    .map((record) => ({
      target: /^cached mount (\S+)/.exec(record.Description)?.[1] ?? "?",
      bytes: record.Size,
    }))
    .sort((a, b) => a.target.localeCompare(b.target) || b.bytes - a.bytes);
  return {
    runCacheMounts: mounts,
    runCacheMountBytes: mounts.reduce((sum, mount) => sum + mount.bytes, 0),
    engineBytes: all.reduce((sum, record) => sum + record.Size, 0),
    engineRecords: all.length,
  };
}

/**
 * Removes this run's containers, then its local image tags (an image still tagged elsewhere stays), its
 * folders, and the cache mounts it made: their ids are the run's own, so no later build would use them.
 * Docker 20.10 prunes build cache by record, not by cache id; the records are those new since the start.
 */
async function cleanup(): Promise<void> {
  for (const stack of stacks) await removeReplicaStack(stack, docker);
  for (const tag of tags) {
    await docker
      .getImage(tag)
      .remove()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });
  }
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
  if (earlierCacheRecords === undefined) return;
  for (const record of await cacheMountsSince(docker, earlierCacheRecords)) {
    await pruneBuildCacheRecord(docker, record.ID);
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

/** Rebuilds whose share of the cold build is over their bound, as lines. */
export function slowRebuilds(results: BenchResults): string[] {
  return Object.entries(results.rebuilds)
    .filter(([, r]) => r.maxRebuildRatio !== undefined && r.rebuildRatio > r.maxRebuildRatio)
    .map(
      ([name, r]) =>
        `${name} ${percent(r.rebuildRatio)} of cold (at most ${percent(r.maxRebuildRatio ?? 0)})`,
    );
}

const percent = (ratio: number) => `${(ratio * 100).toFixed(1)} %`;
const megabytes = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** The rebuild section: cold, warm and one-line-change builds, and the caches they leave. */
function formatRebuilds(results: BenchResults): string {
  const rows = Object.entries(results.rebuilds).map(
    ([name, r]) =>
      `| \`${name}\` | ${r.coldSeconds.toFixed(2)} | ${r.warmSeconds.toFixed(2)} | ${r.rebuildSeconds.toFixed(2)} | ` +
      `${percent(r.warmRatio)} | **${percent(r.rebuildRatio)}** | ${r.maxRebuildRatio !== undefined ? `at most ${percent(r.maxRebuildRatio)}` : "none"} | ` +
      `${r.imageBytes.toLocaleString("en-US")} |`,
  );
  const cache = results.buildCache;
  const byTarget = new Map<string, number>();
  for (const mount of cache.runCacheMounts)
    byTarget.set(mount.target, (byTarget.get(mount.target) ?? 0) + mount.bytes);
  const compilers = Object.entries(results.compilers ?? {})
    .map(([image, version]) => `- \`${image}\`: ${version}`)
    .join("\n");
  return `## Rebuilds with toolchain caches

| | cold, s | warm, s | one-line change, s | warm / cold | change / cold | bound | image, B |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

Each program is built from a copy of its example in a temporary folder (the same folder name, so the same
binary name and cache keys), with BuildKit cache mounts whose ids carry a scope of this run's own, so the
**cold** build starts from empty toolchain caches: \`buildLocally\` with \`noCache: true\`. **warm**: again,
nothing changed (every step is a layer cache hit). **one-line change**: again after the benchmark replaced one
line of the copy (a string the program prints; for pausle, its one statement), naming the run so that no
earlier run left it in the layer cache: \`COPY . /src\` and every step after it run again, with the caches
the cold build filled. Go then recompiles the one changed package
and links; cargo recompiles the program's own crate and links, with every dependency taken from the cached
target directory. pausle is one C file compiled and linked in one call: nothing to cache, and no cache is
mounted for C, so its rebuild costs what its cold build does. The three \`hello-rust-deps\` rows build the
same program with each \`cargoLto\` mode. With \`fat\` (the default: whole-program LTO, one codegen unit) and
\`thin\` (ThinLTO, one codegen unit) a Rust rebuild cannot cost less than the release profile's link, which
optimises the program together with every dependency it uses after any change; no cache can hold that
result. \`hello-rust\` has no dependencies to cache, so its cold build already is little more than that.
With \`off\` (no LTO across crates, 16 codegen units) a rebuild compiles the program's own crate and links
the cached dependencies as they are, for the larger image in the last column. Every mode passes the static
check: the offline builder's rustc (Debian's \`rustc-web\`, listed below) prefers static libraries
for a static output. Bounds: issue 12's for \`hello-go\`, issue 20's for \`hello-rust-deps\` with \`off\`; the
fat and thin rows are reported without one. The cold and the rebuilt binary of every row are read from their
images with the package's ELF parser: neither has an ELF interpreter or a \`DT_NEEDED\` entry, or the run fails.

**Compilers** of the offline builders, as they report their version:

${compilers || "- not recorded"}

**Build cache after the run** (\`/system/df\` \`BuildCache\`):

- the cache mounts this run's builds made: ${megabytes(cache.runCacheMountBytes)} in all
  (${[...byTarget].map(([target, size]) => `\`${target}\` ${megabytes(size)}`).join(", ")}), two sets, as
  the size table's cold builds use a scope of their own too;
- the engine's whole build cache, every layer and mount of every build on this shared engine:
  ${megabytes(cache.engineBytes)} in ${cache.engineRecords} records.

The run then removes its own cache mounts, which no later build would use. Docker 20.10 prunes build cache by
record, not by cache id, so it prunes the \`exec.cachemount\` records that appeared during the run, one by
one (\`/build/prune\` with an \`id\` filter).
`;
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
  return `# Size benchmark: the post's comparison on minimal-image's pipeline

\`npm run bench -- --json\` (\`tsx bench/run.ts\`), output in [\`results.json\`](results.json); chart:
\`npm run bench:chart\` writes [\`sizes.svg\`](sizes.svg).

${table.join("\n")}

- \`pausle-dynamic\`: the post's dynamically linked pausle on \`${DEBIAN_BASE}\` (a Debian minbase made
  with mmdebstrap), from a hand-written two-stage Dockerfile in \`bench/run.ts\` with the post's flags
  \`gcc -Os -fdata-sections -ffunction-sections -fipa-pta -Wl,--gc-sections -Wl,-O1 -Wl,--as-needed -Wl,--strip-all\`.
- \`pausle-glibc-static\`: the post's glibc \`-static\` FROM scratch method, our recipe with \`libc: "glibc"\`.
- \`pausle-musl\`, \`hello-go\`, \`hello-rust\`, \`hello-rust-deps\`: our default recipes.
- All builders are the offline \`minimal-image-builder/*:local\` images; BuildKit; registry \`${LOCAL_REGISTRY}\`.

**musl vs glibc-static on disk: ${muslRatio(results).toFixed(1)}x smaller** (required: at least ${MIN_MUSL_RATIO}x).

## What each figure is

- **binary**: the entrypoint file's size, read from the pushed image by \`inspectImage\`. **on disk**:
  \`docker image inspect .Size\`. **compressed**: config blob plus layer blobs as the registry stores them
  (\`inspectImage\`). **layers**: from the manifest.
- **cold build**: \`buildLocally\` with \`noCache: true\` (every step runs; base and builder images are local)
  and toolchain caches of the run's own, empty until then.
  **warm build**: \`buildLocally\` again with nothing changed. **push**: \`pushLocally\` of the cold build to a
  repository whose name is unique to the run (\`bench-<image>-<run>\`). The engine still does not upload a
  layer blob the registry already holds under another repository: it mounts it ("Mounted from …" in
  \`docker push\`). Our layers are reproducible and the Debian base is the same image every run, so after the
  first run a push uploads only the new config blob and the manifest. Push times are therefore small and
  mostly fixed cost, not a measure of upload bandwidth. The run's repositories stay in the registry; its
  containers and local image tags are removed.
- **RSS**: \`VmRSS\` from \`/proc/<pid>/status\` of one replica of the pushed digest, declared by the
  stack program \`bench/density-stack\` with the component's own replica resources and started by the local
  executor (uid 65532, read-only rootfs, no capabilities, 64 MiB), read once it runs (the HTTP servers: once
  they have logged that they listen); the stack is destroyed afterwards.
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

${formatRebuilds(results)}
${results.cross ? formatCross(results.cross) : ""}
${formatMachine(results.machine)}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { json: { type: "boolean", default: false } } });
  await checkPrerequisites();
  const machine = await machineInfo(docker);
  const compilers = await compilerVersions();
  earlierCacheRecords = new Set((await buildCacheRecords(docker)).map((record) => record.ID));
  const cross: Record<string, CrossResult> = {};
  for (const subject of CROSS_SUBJECTS) cross[subject.name] = await measureCross(subject);
  const images: Record<string, ImageResult> = {};
  for (const subject of SUBJECTS) images[subject.name] = await measure(subject);
  const rebuilds: Record<string, RebuildResult> = {};
  for (const subject of REBUILD_SUBJECTS) rebuilds[subject.name] = await measureRebuild(subject);
  const results: BenchResults = {
    machine,
    compilers,
    images,
    rebuilds,
    cross,
    buildCache: await buildCacheUse(),
  };

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
  const slow = [...slowRebuilds(results), ...slowCrossBuilds(cross)];
  if (slow.length > 0) throw new Error(`bench: builds over their bound: ${slow.join("; ")}`);
}

runBench("bench", main, cleanup);
