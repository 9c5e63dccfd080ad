/**
 * Draws bench/sizes.svg from bench/results.json: on-disk and compressed bytes per image as horizontal bars
 * on a logarithmic axis, with a byte label on each bar. Vega-Lite compiles the spec; Vega renders the SVG
 * headless (no canvas: text widths are estimated).
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

async function main(): Promise<void> {
  const results = JSON.parse(readFileSync(RESULTS_JSON, "utf8")) as BenchResults;
  const { spec } = vegaLite.compile(sizesSpec(results));
  const svg = await new vega.View(vega.parse(spec), { renderer: "none" }).toSVG();
  writeFileSync(SIZES_SVG, svg);
  process.stderr.write(`chart: wrote ${SIZES_SVG}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
