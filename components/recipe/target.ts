import { DEFAULT_PLATFORM, elfMachine, elfMachineNumber, parsePlatform, validatePlatform } from "../platform";
import { FieldPath, InputError } from "../validation";

/** The platform a recipe compiles for, and what its toolchains call it. */
export interface Target {
  /** Canonical `os/arch`, e.g. `linux/arm64`. */
  platform: string;
  /** The OCI (and Go) architecture, e.g. `arm64`. */
  architecture: string;
  /** The CPU as GNU and Rust triplets begin, e.g. `aarch64`. */
  cpu: string;
  /**
   * Cross-compiled: the builder stage runs on the build machine's platform (`$BUILDPLATFORM`) and calls the
   * target's tools by their triplet names. The default platform is built as it always was, natively.
   */
  cross: boolean;
  /** Prefix of the target's binutils and gcc, e.g. `aarch64-linux-gnu-`; empty for the native tools. */
  toolPrefix: string;
  /** The ELF `e_machine` its binaries carry, as number and name, e.g. 183 and `AArch64`. */
  machine: { number: number; name: string };
}

/** The CPU name GNU and Rust triplets use for each architecture minimal-image compiles for. */
const CPUS: Record<string, string> = { amd64: "x86_64", arm64: "aarch64" };

/**
 * Checks the platform a program is compiled for; absent means {@link DEFAULT_PLATFORM}.
 * @param field how the platform is named in errors (`platform`, `--platform`).
 */
export function resolveTarget(raw: unknown, field: FieldPath): Target {
  const platform = validatePlatform(raw, field);
  const parsed = parsePlatform(platform, field);
  const cpu = CPUS[parsed.architecture];
  // arm64 is always v8 in practice; any other variant names a CPU no toolchain here targets.
  if (parsed.os !== "linux" || cpu === undefined || (parsed.variant ?? "v8") !== "v8") {
    throw new InputError(
      field,
      `minimal-image compiles for linux/amd64 and linux/arm64, not ${platform}`,
      "Set it to linux/amd64 or linux/arm64",
    );
  }
  const cross = `${parsed.os}/${parsed.architecture}` !== DEFAULT_PLATFORM;
  return {
    platform: `${parsed.os}/${parsed.architecture}`,
    architecture: parsed.architecture,
    cpu,
    cross,
    toolPrefix: cross ? `${cpu}-linux-gnu-` : "",
    machine: { number: elfMachineNumber(parsed)!, name: elfMachine(parsed)! },
  };
}
