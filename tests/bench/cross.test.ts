import * as assert from "node:assert/strict";
import { crossResult, formatCross, slowCrossBuilds } from "../../bench/cross";

const figures = (buildSeconds: number[]) => ({
  binaryBytes: 1,
  diskBytes: 1,
  compressedBytes: 1,
  machine: "x86-64",
  buildSeconds,
});

describe("bench/cross: the arm64 / amd64 build-time ratio", () => {
  it("is the median of the per-round ratios, so one round slowed by other work does not decide it", () => {
    // Round 2's arm64 build ran while the engine was busy: the per-platform medians would say 1.5x.
    const result = crossResult({
      "linux/amd64": figures([10, 10, 12]),
      "linux/arm64": figures([10.5, 30, 15]),
    });
    assert.deepEqual(result.roundRatios, [1.05, 3, 1.25]);
    assert.equal(result.ratio, 1.25);
    assert.equal(result.ratioOfMedians, 1.5);
    assert.deepEqual(slowCrossBuilds({ p: result }), []);
  });

  it("names a program over the 1.5x bound, and the table shows each round", () => {
    const slow = crossResult({ "linux/amd64": figures([10, 10]), "linux/arm64": figures([16, 17]) });
    assert.deepEqual(slowCrossBuilds({ "hello-go": slow }), [
      "hello-go: arm64 build 1.65x the amd64 one (at most 1.5x)",
    ]);
    assert.match(
      formatCross({ "hello-go": slow }),
      /\| linux\/arm64 \| x86-64 .* \| \*\*1\.65x\*\* \(1\.6, 1\.7\); 1\.65x \|/,
    );
  });
});
