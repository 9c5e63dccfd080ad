/**
 * The benchmark's linux/arm64 rows (issue 21): each program built for linux/amd64 natively and for
 * linux/arm64 by cross-compiling on the same builder, its sizes per platform, and the cross build's time
 * relative to the native one. Measured here; run by bench/run.ts.
 */
import { RecipeOptions } from "../components/recipe";
import { median, round } from "./support";

/** Issue 21's bound on arm64 build time / amd64 build time: nothing is emulated, so at most 1.5. */
export const MAX_CROSS_RATIO = 1.5;
/** Builds per platform and program, alternating which platform goes first in each round. */
export const CROSS_ROUNDS = 5;
export const PLATFORMS = ["linux/amd64", "linux/arm64"] as const;
export type BenchPlatform = (typeof PLATFORMS)[number];

export interface CrossSubject {
  name: string;
  /** The example, under examples/. */
  folder: string;
  options?: RecipeOptions;
}

export const CROSS_SUBJECTS: CrossSubject[] = [
  { name: "pausle-musl", folder: "pausle" },
  { name: "pausle-glibc-static", folder: "pausle", options: { libc: "glibc" } },
  { name: "hello-go", folder: "hello-go" },
  { name: "hello-rust", folder: "hello-rust" },
  { name: "hello-rust-deps", folder: "hello-rust-deps" },
];

/** One program on one platform. */
export interface PlatformFigures {
  /** The entrypoint binary's size, from the pushed image. */
  binaryBytes: number;
  /** `docker image inspect .Size`. */
  diskBytes: number;
  /** Config plus layers as the registry stores them. */
  compressedBytes: number;
  /** The ELF machine of the binary, as `inspectImage` reads it. */
  machine: string;
  /** Every cold build's wall-clock seconds, in the order they ran. */
  buildSeconds: number[];
  medianBuildSeconds: number;
}

export interface CrossResult {
  platforms: Record<BenchPlatform, PlatformFigures>;
  /**
   * The median of `roundRatios`: each round's two builds ran back to back, under much the same load from
   * other work, so their ratio is steadier than either time.
   */
  ratio: number;
  /** arm64 / amd64 within each round. */
  roundRatios: number[];
  /** Median arm64 build time over median amd64 build time, for comparison. */
  ratioOfMedians: number;
  maxRatio: number;
}

/** The result of one program from its per-platform figures, build times as measured. */
export function crossResult(
  figures: Record<BenchPlatform, Omit<PlatformFigures, "medianBuildSeconds">>,
): CrossResult {
  const platforms = Object.fromEntries(
    PLATFORMS.map((p) => [
      p,
      {
        ...figures[p],
        buildSeconds: figures[p].buildSeconds.map((s) => round(s, 2)),
        medianBuildSeconds: round(median(figures[p].buildSeconds), 2),
      },
    ]),
  ) as Record<BenchPlatform, PlatformFigures>;
  const [amd64, arm64] = PLATFORMS.map((p) => figures[p].buildSeconds);
  const roundRatios = arm64.map((s, i) => s / amd64[i]);
  return {
    platforms,
    ratio: round(median(roundRatios), 3),
    roundRatios: roundRatios.map((r) => round(r, 2)),
    ratioOfMedians: round(median(arm64) / median(amd64), 3),
    maxRatio: MAX_CROSS_RATIO,
  };
}

/** Programs whose cross build took more than the bound, as lines. */
export function slowCrossBuilds(cross: Record<string, CrossResult>): string[] {
  return Object.entries(cross)
    .filter(([, r]) => r.ratio > r.maxRatio)
    .map(([name, r]) => `${name}: arm64 build ${r.ratio.toFixed(2)}x the amd64 one (at most ${r.maxRatio}x)`);
}

const bytes = (n: number) => n.toLocaleString("en-US");

/** The arm64 section of results.md. */
export function formatCross(cross: Record<string, CrossResult>): string {
  const rows = Object.entries(cross).flatMap(([name, r]) =>
    PLATFORMS.map((p) => {
      const f = r.platforms[p];
      const ratio =
        p === "linux/arm64"
          ? `**${r.ratio.toFixed(2)}x** (${r.roundRatios.join(", ")}); ${r.ratioOfMedians.toFixed(2)}x`
          : "";
      return (
        `| \`${name}\` | ${p} | ${f.machine} | ${bytes(f.binaryBytes)} | ${bytes(f.diskBytes)} | ` +
        `${bytes(f.compressedBytes)} | ${f.medianBuildSeconds.toFixed(2)} (${f.buildSeconds.join(", ")}) | ${ratio} |`
      );
    }),
  );
  return `## linux/arm64, cross-compiled

| | platform | binary | binary, B | on disk, B | compressed, B | cold build, s: median (each) | arm64 / amd64: median of rounds (each round); of medians |
| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}

Each program is rendered for \`linux/amd64\` (the builder stage runs natively) and for \`linux/arm64\` (the
builder stage runs on the build machine's platform, \`FROM --platform=$BUILDPLATFORM\`, and cross-compiles:
nothing is emulated), on the same offline builder, and built ${CROSS_ROUNDS} times per platform. Every build
is cold: \`buildLocally\` with \`noCache: true\` and toolchain caches of a scope of its own (run, round and
platform), still empty. Other work shares this 2-core engine and comes and goes in bursts, so the two
platforms are **interleaved**: each round builds both back to back, amd64 first in odd rounds and arm64
first in even ones, and the ratio is the **median of the per-round ratios** (arm64 time over amd64 time of
the same round, under much the same load); the ratio of the per-platform medians is shown after it. Issue
21's bound: at most ${MAX_CROSS_RATIO}x. Sizes are those of the last round's images, pushed to the local
registry and read by \`inspectImage\` for their platform, which also checks that the binary's ELF machine is
the platform's (x86-64, AArch64) and that it is static, or the run fails. On disk, the arm64 pausle is
larger than the amd64 one because the AArch64 linker aligns segments to 64 KiB, the largest page size of
arm64 kernels, so the read-write segment starts 64 KiB into the file; compressed, the padding is nearly
nothing.
`;
}
