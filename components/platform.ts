/**
 * The one platform vocabulary every stage uses: `os/arch[/variant]` as OCI names it, parsed, formatted and
 * matched here, with the one default and the ELF machine a platform's binaries carry.
 */
import { describe, FieldPath, InputError, rejectDuplicates } from "./validation";

/** An OS and CPU, e.g. `{ os: "linux", architecture: "arm64" }`. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/**
 * The platform images are built for, pulled as and inspected for when none is given. Fixed, not the
 * machine's own: a laptop of one architecture and CI of another then build the same image and change nothing.
 */
export const DEFAULT_PLATFORM = "linux/amd64";

/** One lowercase component: what OCI image indexes and `docker build --platform` use. */
const COMPONENT = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * Parses `os/arch[/variant]`, e.g. `linux/arm64` or `linux/arm/v7`.
 * @param path how the input is named in the error.
 */
export function parsePlatform(value: unknown, path: FieldPath | string = ["platform"]): Platform {
  const parts = typeof value === "string" ? value.split("/") : [];
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p.length > 32 || !COMPONENT.test(p))) {
    throw new InputError(
      path,
      `${describe(value)} is not a platform`,
      "Give os/arch[/variant], e.g. `linux/amd64` or `linux/arm64`",
    );
  }
  const [os, architecture, variant] = parts;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** `linux/arm/v7` form of a platform. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/**
 * Checks a platform input and returns its canonical text; absent means {@link DEFAULT_PLATFORM}.
 * @param path how the input is named in the error.
 */
export function validatePlatform(raw: unknown, path: FieldPath | string = ["platform"]): string {
  if (raw === undefined || raw === null) return DEFAULT_PLATFORM;
  return formatPlatform(parsePlatform(raw, path));
}

/** True when `have` satisfies `want`; a missing wanted variant accepts any, and arm64 means arm64/v8. */
export function platformMatches(have: Platform, want: Platform): boolean {
  const variant = (p: Platform) => p.variant ?? (p.architecture === "arm64" ? "v8" : undefined);
  return (
    have.os === want.os &&
    have.architecture === want.architecture &&
    (want.variant === undefined || variant(have) === variant(want))
  );
}

/** OCI architecture -> the ELF `e_machine` its binaries carry: the ELF reader's name and the header's number. */
const ELF_MACHINES: Record<string, { name: string; number: number }> = {
  amd64: { name: "x86-64", number: 62 },
  "386": { name: "x86", number: 3 },
  arm64: { name: "AArch64", number: 183 },
  arm: { name: "ARM", number: 40 },
  riscv64: { name: "RISC-V", number: 243 },
  ppc64le: { name: "PowerPC64", number: 21 },
  s390x: { name: "S390", number: 22 },
  loong64: { name: "LoongArch", number: 258 },
  mips64le: { name: "MIPS", number: 8 },
};

/** The ELF machine a binary for `platform` must carry, e.g. `AArch64` for linux/arm64; undefined when unknown. */
export function elfMachine(platform: Platform): string | undefined {
  return ELF_MACHINES[platform.architecture]?.name;
}

/** The ELF header's `e_machine` number for `platform`'s binaries, e.g. 183 for linux/arm64; undefined when unknown. */
export function elfMachineNumber(platform: Platform): number | undefined {
  return ELF_MACHINES[platform.architecture]?.number;
}

/**
 * Checks a list of platforms, each named `<path>[i]` in errors, and returns their canonical texts in order.
 * A platform listed twice (also as `linux/arm64` and `linux/arm64/v8`) is refused: it would be built twice.
 */
export function validatePlatformList(values: readonly unknown[], path: FieldPath = ["platforms"]): string[] {
  const platforms = values.map((value, i) => {
    const parsed = parsePlatform(value, [...path, i]);
    // arm64 has one variant in practice: v8, which an index leaves out.
    const canonical =
      parsed.architecture === "arm64" && parsed.variant === "v8" ? { ...parsed, variant: undefined } : parsed;
    return formatPlatform(canonical);
  });
  rejectDuplicates(platforms, path, "List each platform once");
  return platforms;
}
