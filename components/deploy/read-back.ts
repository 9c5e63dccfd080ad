/**
 * Values in the form the Docker provider reads them back. The bridged provider (terraform-provider-docker)
 * diffs declared inputs against the state its Read stored; a field declared in another spelling differs on
 * every update, and for a ForceNew field such as `cpus` that replaces every replica each time.
 */

const NANOS_PER_CPU = 1_000_000_000;
const MIB = 1024 * 1024;

/**
 * A CPU limit in thousandths of a CPU as the provider's Read stores `cpus`: its
 * `nanoInt64ToDecimalString(HostConfig.NanoCPUs)` (internal/provider/helpers.go) prints nine decimals, then
 * gives one decimal (Go's `big.Rat.FloatString(1)`, halves away from zero) when the text holds exactly nine
 * zeros, else trims trailing zeros: 1000 -> "1.0", 1500 -> "1.5", 250 -> "0.25", 10000 -> "10.".
 */
export function cpusAsReadBack(cpuMillis: number): string {
  const nanos = cpuMillis * 1_000_000;
  if (nanos === 0) return "0";
  const whole = Math.floor(nanos / NANOS_PER_CPU);
  const nine = `${whole}.${String(nanos % NANOS_PER_CPU).padStart(9, "0")}`;
  if ((nine.match(/0/g) ?? []).length === 9) {
    const tenths = Math.round(nanos / (NANOS_PER_CPU / 10));
    return `${Math.floor(tenths / 10)}.${tenths % 10}`;
  }
  return nine.replace(/0+$/, "");
}

/** The thousandths of a CPU a `cpus` text means, as Docker's `opts.ParseCPUs` reads a decimal. */
export function cpuMillisOf(cpus: string): number {
  const [whole, fraction = ""] = cpus.split(".");
  return Number(whole) * 1000 + Number(fraction.padEnd(3, "0").slice(0, 3));
}

/**
 * True when the limit survives the provider's round trip: declared as {@link cpusAsReadBack}, the container
 * gets this very limit. Not so for 117 values from 10 to 64000, e.g. 10 to 90 (read back as "0.0" or
 * "0.1") or 10001 to 10090: declaring what Read stores would set another limit, and declaring the exact
 * value would replace the replicas on every update.
 */
export function cpuMillisRoundTrips(cpuMillis: number): boolean {
  return cpuMillisOf(cpusAsReadBack(cpuMillis)) === cpuMillis;
}

/**
 * A memory limit in bytes as the provider declares and reads `memory` (and `memory_swap`) back: whole MiB
 * (Read stores `HostConfig.Memory / 1024 / 1024`). Validation admits only whole MiB, so this is exact.
 */
export function memoryMiB(bytes: number): number {
  return bytes / MIB;
}
