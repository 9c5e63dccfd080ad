import type { Target } from "./target";
import { Builder, BuildPlan, CacheMount, RecipeOptions, Toolchain } from "./types";
import type { FieldPath } from "../validation";

/** Where built-in toolchains put the binary inside the builder stage. */
export const BUILD_DIR = "/minimal-image/build";
/** Where the SBOM's facts stage links a C program again, with the linker's trace on. */
export const RELINK = "/minimal-image/relink";
/** Where toolchain caches are mounted inside the builder stage. */
export const CACHE_DIR = "/minimal-image/cache";

/** Names an option the way the caller knows it (`recipe.libc` for the component, `--libc` for the CLI). */
/**
 * How an option (and, for a list, one of its items) is named in errors: `recipe.extras[0]` for the API; a
 * CLI names the flag alone (`--extra`), since a repeated flag has no index the user typed.
 */
export type FieldNamer = (option: keyof RecipeOptions | string, index?: number) => FieldPath;

/** The small interface every toolchain module implements. */
export interface ToolchainRecipe {
  toolchain: Toolchain;
  /**
   * Which default builder applies; also names the environment variables that override it
   * (`MINIMAL_IMAGE_<KEY>_BUILDER`, `MINIMAL_IMAGE_<KEY>_SETUP`).
   */
  builderKey(options: RecipeOptions): string;
  /** Small official images pinned by digest, with the setup that installs what the build needs. */
  defaultBuilders: Record<string, Builder>;
  /**
   * The default builders that cross-compile for a target other than the default platform, by the same keys;
   * a key without one has no default cross builder, and the recipe must name one.
   */
  crossBuilders: Record<string, Builder>;
  /**
   * Variables exported before the build command (the default one or the user's own), as shell words:
   * values are already quoted or are command substitutions meant to run in the builder. They name the
   * target's toolchain, so one custom build command builds for every platform.
   */
  env(options: RecipeOptions, target: Target): Record<string, string>;
  /** Commands a cross build needs in the builder, checked before it starts so a missing one is named. */
  crossTools(options: RecipeOptions, target: Target): string[];
  /** The likely cause and fix the static check names when a binary is not static; default: a generic one. */
  staticHint?: string;
  /** Caches that `env` alone points the tool at, so they serve a custom `buildCommand` too. */
  envCaches: CacheMount[];
  /** The toolchain's own build command, where it leaves the binary, and the caches only it uses. */
  plan(
    sourceDir: string,
    options: RecipeOptions,
    name: FieldNamer,
    binaryName: string,
    target: Target,
  ): Pick<BuildPlan, "command" | "output" | "caches" | "linkTrace">;
}

/** Quotes one word for POSIX sh, leaving plain words as they are so generated files stay readable. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
