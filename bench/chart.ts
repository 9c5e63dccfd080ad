/**
 * Draws two charts from bench/results.json. bench/sizes.svg: on-disk and compressed bytes per image as
 * horizontal bars on a logarithmic axis, with a byte label on each bar. bench/rebuilds.svg: cold, warm and
 * one-line-change build seconds per program, labelled with their share of the cold build. Vega-Lite compiles
 * the specs; Vega renders the SVGs headless (no canvas: text widths are estimated).
 *
 *   npm run bench:chart
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as vega from "vega";
import * as vegaLite from "vega-lite";
import type { TopLevelSpec } from "vega-lite";
import type { BenchResults } from "./run";

const RESULTS_JSON = path.join(__dirname, "results.json");
const SIZES_SVG = path.join(__dirname, "sizes.svg");
const REBUILDS_SVG = path.join(__dirname, "rebuilds.svg");
const BUILD_KINDS = ["cold", "warm", "one-line change"];

/** Decimal units with up to three significant digits, like registries and `docker images`: 5.04 kB. */
export function formatBytes(n: number): string {
  const units = ["B", "kB", "MB", "GB"];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))} ${units[unit]}`;
}

/** The Vega-Lite spec of the chart, data inline. */
export function sizesSpec(results: BenchResults): TopLevelSpec {
  const rows = Object.entries(results.images).flatMap(([image, r]) => [
    { image, measure: "on disk", bytes: r.diskBytes, label: formatBytes(r.diskBytes) },
    {
      image,
      measure: "compressed (registry)",
      bytes: r.compressedBytes,
      label: formatBytes(r.compressedBytes),
    },
  ]);
  const max = Math.max(...rows.map((row) => row.bytes));
  const min = Math.min(...rows.map((row) => row.bytes));
  const y = { field: "image", type: "nominal", sort: null, title: "image" } as const;
  const low = Math.floor(Math.log10(min));
  const high = Math.ceil(Math.log10(max * 4));
  const decades = Array.from({ length: high - low + 1 }, (_, i) => 10 ** (low + i));
  const domain = [decades[0], decades[decades.length - 1]];
  const x = {
    field: "bytes",
    type: "quantitative",
    // Whole decades around the data, plus room on the right for the labels.
    scale: { type: "log", domain },
    axis: {
      title: "bytes (log scale)",
      values: decades,
      labelExpr: "format(datum.value, '~s') + 'B'",
      grid: true,
    },
  } as const;
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: { text: "Image size per build method", subtitle: `minimal-image bench, ${results.machine.date}` },
    width: 560,
    height: { step: 44 },
    background: "white",
    data: { values: rows },
    encoding: {
      y,
      yOffset: { field: "measure", sort: ["on disk", "compressed (registry)"] },
      x,
      color: {
        field: "measure",
        type: "nominal",
        sort: ["on disk", "compressed (registry)"],
        title: null,
        legend: { orient: "bottom", labelLimit: 300 },
      },
    },
    layer: [
      // On a log scale a bar has no zero to start from: start it at the left end of the axis.
      { mark: { type: "bar" }, encoding: { x2: { datum: domain[0] } } },
      {
        mark: { type: "text", align: "left", dx: 4, fontSize: 10 },
        encoding: { text: { field: "label" }, color: { value: "black" } },
      },
    ],
  };
}

/** The Vega-Lite spec of the rebuild chart, data inline: seconds on a linear axis, share of cold as labels. */
export function rebuildsSpec(results: BenchResults): TopLevelSpec {
  const rows = Object.entries(results.rebuilds).flatMap(([program, r]) =>
    (
      [
        ["cold", r.coldSeconds, 1],
        ["warm", r.warmSeconds, r.warmRatio],
        ["one-line change", r.rebuildSeconds, r.rebuildRatio],
      ] as const
    ).map(([build, seconds, ratio]) => ({
      program,
      build,
      seconds,
      label:
        build === "cold"
          ? `${seconds.toFixed(1)} s`
          : `${seconds.toFixed(1)} s (${(ratio * 100).toFixed(1)} %)`,
    })),
  );
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: {
      text: "Build time with toolchain caches: cold, warm, after a one-line change",
      subtitle: `minimal-image bench, ${results.machine.date}; label: seconds (share of the cold build)`,
    },
    width: 560,
    height: { step: 22 },
    background: "white",
    data: { values: rows },
    encoding: {
      y: { field: "program", type: "nominal", sort: null, title: "program" },
      yOffset: { field: "build", sort: BUILD_KINDS },
      x: {
        field: "seconds",
        type: "quantitative",
        title: "seconds",
        // Room on the right for the labels.
        scale: { domainMax: Math.max(...rows.map((row) => row.seconds)) * 1.35 },
      },
      color: {
        field: "build",
        type: "nominal",
        sort: BUILD_KINDS,
        title: null,
        legend: { orient: "bottom" },
      },
    },
    layer: [
      { mark: { type: "bar" } },
      {
        mark: { type: "text", align: "left", dx: 4, fontSize: 10 },
        encoding: { text: { field: "label" }, color: { value: "black" } },
      },
    ],
  };
}

async function writeChart(spec: TopLevelSpec, file: string): Promise<void> {
  const compiled = vegaLite.compile(spec).spec;
  writeFileSync(file, await new vega.View(vega.parse(compiled), { renderer: "none" }).toSVG());
  process.stderr.write(`chart: wrote ${file}\n`);
}

async function main(): Promise<void> {
  const results = JSON.parse(readFileSync(RESULTS_JSON, "utf8")) as BenchResults;
  await writeChart(sizesSpec(results), SIZES_SVG);
  await writeChart(rebuildsSpec(results), REBUILDS_SVG);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
