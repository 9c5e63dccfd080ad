import * as fs from "node:fs";
import * as path from "node:path";
import { cRecipe } from "./c";
import { checkRecipeString, checkRelativePath, checkShellSnippet } from "./check";
import { goRecipe } from "./go";
import { CARGO_BIN, rustRecipe } from "./rust";
import { resolveTarget, Target } from "./target";
import { FieldNamer, ToolchainRecipe } from "./toolchain";
import { Builder, BuildPlan, CacheMount, CargoLto, Extra, Libc, RecipeOptions, Toolchain } from "./types";
import { parseImageReference } from "../reference";
import { describe, FieldPath, formatPath, InputError } from "../validation";

export * from "./types";
export { FieldNamer, shellQuote } from "./toolchain";
export { resolveTarget, Target } from "./target";

const RECIPES: Record<Toolchain, ToolchainRecipe> = { c: cRecipe, go: goRecipe, rust: rustRecipe };
const TOOLCHAINS = Object.keys(RECIPES) as Toolchain[];
const LIBCS: Libc[] = ["musl", "glibc"];
const CARGO_LTOS: CargoLto[] = ["fat", "thin", "off"];
/** Options that mean something to one toolchain alone, and are refused for the others. */
const TOOLCHAIN_ONLY: Partial<Record<keyof RecipeOptions, Toolchain>> = { libc: "c", cargoLto: "rust" };
const EXTRAS: Extra[] = ["ca-certificates", "zoneinfo", "passwd"];
const BINARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const GO_PACKAGE = /^\.(\/[A-Za-z0-9._~-]+)*\/?$/;

/** Everything the build stage needs, validated and with every default applied. */
export interface ResolvedRecipe {
  /** Absolute path of the source folder (the build context). */
  sourceDir: string;
  toolchain: Toolchain;
  libc?: Libc;
  /** The platform the binary is compiled for. */
  target: Target;
  binaryName: string;
  builder: Builder;
  plan: BuildPlan;
  extras: Extra[];
  entrypointArgs: string[];
  /** Whether the Dockerfile records what was compiled in, for the SBOM (`RecipeOptions.sbom`). */
  sbom: boolean;
}

export interface ResolveContext {
  /** Environment consulted for builder overrides. Default: `process.env`. */
  env?: Record<string, string | undefined>;
  /** How to name an option in errors. Default: `recipe.<option>`. */
  name?: FieldNamer;
  /** How to name the source folder in errors. Default: `source`. */
  sourceField?: FieldPath;
  /** The platform to compile for, `os/arch`. Default: the default platform, linux/amd64. */
  platform?: unknown;
  /** How to name the platform in errors. Default: `platform`. */
  platformField?: FieldPath;
}

/** The pinned default builder of each toolchain variant, keyed as in `MINIMAL_IMAGE_<KEY>_BUILDER`. */
export function defaultBuilders(): Record<string, Builder> {
  return Object.assign({}, ...TOOLCHAINS.map((t) => RECIPES[t].defaultBuilders));
}

/**
 * The environment variables that override the builder of a toolchain (and libc): the image,
 * `MINIMAL_IMAGE_<KEY>_BUILDER`, and its setup, `MINIMAL_IMAGE_<KEY>_SETUP`.
 */
export function builderVariables(
  toolchain: Toolchain,
  options: RecipeOptions = {},
): { image: string; setup: string } {
  const key = RECIPES[toolchain].builderKey(options);
  return { image: `MINIMAL_IMAGE_${key}_BUILDER`, setup: `MINIMAL_IMAGE_${key}_SETUP` };
}

/**
 * Validates recipe options against a source folder and applies every default. Reads the folder (to detect
 * the toolchain, list C sources, read Cargo.toml) but builds nothing. Throws {@link InputError} naming the
 * first bad field. Every string, from the options, the environment or the folder, is checked here, once:
 * what comes out can be rendered into a Dockerfile without adding a line to it.
 */
export function resolveRecipe(source: unknown, raw: unknown, context: ResolveContext = {}): ResolvedRecipe {
  const name: FieldNamer =
    context.name ??
    ((option, index) => (index === undefined ? ["recipe", option] : ["recipe", option, index]));
  const env = context.env ?? process.env;
  const sourceDir = checkSourceDir(source, context.sourceField ?? ["source"]);
  const platformField = context.platformField ?? ["platform"];
  const target = resolveTarget(context.platform, platformField);
  if (raw !== undefined && (typeof raw !== "object" || raw === null || Array.isArray(raw))) {
    throw new InputError(
      "recipe",
      `expected an object, got ${describe(raw)}`,
      'Pass e.g. `{ toolchain: "c" }`',
    );
  }
  const options = checkOptions((raw ?? {}) as Record<string, unknown>, name);
  const toolchain = options.toolchain ?? detectToolchain(sourceDir, name);
  for (const [option, only] of Object.entries(TOOLCHAIN_ONLY) as [keyof RecipeOptions, Toolchain][]) {
    if (options[option] !== undefined && toolchain !== only) {
      throw new InputError(
        name(option),
        `applies to the ${only} toolchain only, not ${toolchain}`,
        `Remove ${formatPath(name(option))}`,
      );
    }
  }
  const recipe = RECIPES[toolchain];
  const libc = toolchain === "c" ? (options.libc ?? "musl") : undefined;
  const resolvedOptions = { ...options, libc };
  const binaryName = options.binaryName ?? defaultBinaryName(sourceDir, name);

  let command: string;
  let output: string;
  let planCaches: CacheMount[] = [];
  let linkTrace: string | undefined;
  if (options.buildCommand !== undefined) {
    if (options.output === undefined) {
      throw new InputError(
        name("output"),
        `is required with ${formatPath(name("buildCommand"))}`,
        "Give the path of the binary your command produces, relative to the source folder, e.g. `out/app`",
      );
    }
    command = options.buildCommand;
    output = `/src/${options.output}`;
  } else {
    if (options.output !== undefined) {
      throw new InputError(
        name("output"),
        `is only used with ${formatPath(name("buildCommand"))}`,
        `Remove it, or add ${formatPath(name("buildCommand"))}`,
      );
    }
    ({
      command,
      output,
      caches: planCaches,
      linkTrace,
    } = recipe.plan(sourceDir, resolvedOptions, name, binaryName, target));
  }

  return {
    sourceDir,
    toolchain,
    libc,
    target,
    binaryName,
    builder: resolveBuilder(recipe, resolvedOptions, env, name, target, platformField),
    plan: {
      toolchain,
      libc,
      env: recipe.env(resolvedOptions, target),
      crossTools: target.cross ? recipe.crossTools(resolvedOptions, target) : [],
      command,
      output,
      caches: [...recipe.envCaches, ...planCaches],
      ...(linkTrace !== undefined ? { linkTrace } : {}),
      ...(recipe.staticHint !== undefined ? { staticHint: recipe.staticHint } : {}),
    },
    extras: [...new Set(options.extras ?? [])].sort(),
    entrypointArgs: options.entrypointArgs ?? [],
    sbom: options.sbom ?? true,
  };
}

function checkSourceDir(source: unknown, field: FieldPath): string {
  if (typeof source !== "string" || source.trim() === "") {
    throw new InputError(
      field,
      `expected the path of a folder, got ${describe(source)}`,
      "Give the program's source folder, e.g. `./app`",
    );
  }
  const dir = path.resolve(source);
  let entries: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new Error("not a directory");
    entries = fs.readdirSync(dir);
  } catch {
    throw new InputError(
      field,
      `${dir} is not a readable folder`,
      "Point it at the folder that holds the program's source",
    );
  }
  if (entries.length === 0) {
    throw new InputError(field, `${dir} is empty`, "Point it at the folder that holds the program's source");
  }
  return dir;
}

function detectToolchain(sourceDir: string, name: FieldNamer): Toolchain {
  const has = (file: string) => fs.existsSync(path.join(sourceDir, file));
  if (has("go.mod")) return "go";
  if (has("Cargo.toml")) return "rust";
  if (fs.readdirSync(sourceDir).some((f) => f.endsWith(".c"))) return "c";
  throw new InputError(
    name("toolchain"),
    `cannot tell the language of ${sourceDir} (no go.mod, Cargo.toml or *.c file)`,
    `Set it to one of ${TOOLCHAINS.join(", ")}`,
  );
}

function defaultBinaryName(sourceDir: string, name: FieldNamer): string {
  const candidate = path
    .basename(sourceDir)
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "");
  if (!BINARY_NAME.test(candidate)) {
    throw new InputError(
      name("binaryName"),
      `cannot derive a binary name from the folder name "${path.basename(sourceDir)}"`,
      `Set ${formatPath(name("binaryName"))}, e.g. \`app\``,
    );
  }
  return candidate;
}

function resolveBuilder(
  recipe: ToolchainRecipe,
  options: RecipeOptions,
  env: Record<string, string | undefined>,
  name: FieldNamer,
  target: Target,
  platformField: FieldPath,
): Builder {
  const key = recipe.builderKey(options);
  const defaults = target.cross ? recipe.crossBuilders[key] : recipe.defaultBuilders[key];
  const { image: imageVar, setup: setupVar } = builderVariables(recipe.toolchain, options);
  // Empty variables mean what the README says: an unset builder, no setup.
  const imageFromEnv = env[imageVar] ? checkRecipeString(env[imageVar], [imageVar]) : undefined;
  const setupFromEnv = env[setupVar] ? checkShellSnippet(env[setupVar], [setupVar]) : env[setupVar];
  const chosen = options.builderImage ?? imageFromEnv;
  if (chosen === undefined && defaults === undefined) {
    throw new InputError(
      platformField,
      `the default ${recipe.toolchain} builder cannot cross-compile for ${target.platform}`,
      `Set ${formatPath(name("builderImage"))} (or ${imageVar}) to an image with the ${target.platform} toolchain, e.g. the README's Debian builder`,
    );
  }
  const image = chosen ?? defaults!.image;
  // A default image always parses; an override from the environment is named by its variable.
  parseImageReference(image, options.builderImage !== undefined ? name("builderImage") : [imageVar]);
  let setup: string[];
  if (options.setup !== undefined) setup = options.setup;
  else if (setupFromEnv !== undefined) setup = setupFromEnv === "" ? [] : [setupFromEnv];
  else if (options.builderImage !== undefined || imageFromEnv !== undefined) setup = [];
  else setup = defaults!.setup;
  return { image, setup };
}

/** Checks one string where it enters and returns the value to use; throws an InputError naming `field`. */
type StringCheck = (value: string, field: FieldPath) => string;

/** The binary a custom build command leaves, as a path inside the source folder (not the folder itself). */
function checkOutputPath(value: string, field: FieldPath): string {
  const output = checkRelativePath(value, field);
  if (output === "." || output === "./") {
    throw new InputError(
      field,
      `${describe(value)} is the source folder itself`,
      "Give the path of the binary, relative to the source folder, e.g. `build/app`",
    );
  }
  return output;
}

/**
 * Type-checks every field, so that JavaScript and config-file callers get the same clear errors, and checks
 * every string once (see {@link checkRecipeString}); shell snippets and paths get their own stricter checks.
 */
function checkOptions(raw: Record<string, unknown>, name: FieldNamer): RecipeOptions {
  const known = new Set<string>([
    "toolchain",
    "libc",
    "sources",
    "cflags",
    "ldflags",
    "goPackage",
    "cargoBin",
    "cargoLto",
    "buildCommand",
    "output",
    "binaryName",
    "builderImage",
    "setup",
    "extras",
    "entrypointArgs",
    "sbom",
  ]);
  for (const key of Object.keys(raw)) {
    if (!known.has(key)) {
      throw new InputError(name(key), "is not a recipe option", `Use one of: ${[...known].join(", ")}`);
    }
  }
  const oneOf = <T extends string>(key: string, allowed: readonly T[]): T | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || !allowed.includes(value as T)) {
      throw new InputError(
        name(key),
        `${describe(value)} is not supported`,
        `Use one of: ${allowed.join(", ")}`,
      );
    }
    return value as T;
  };
  const checkedString = (value: unknown, field: FieldPath, check: StringCheck): string => {
    if (typeof value !== "string") {
      throw new InputError(field, `expected a string, got ${describe(value)}`, "Quote the value as a string");
    }
    return check(value, field);
  };
  const text = (
    key: string,
    check: StringCheck = checkRecipeString,
    rule?: { pattern: RegExp; hint: string },
  ): string | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    const checked = checkedString(value, name(key), check);
    if (rule && !rule.pattern.test(checked)) {
      throw new InputError(name(key), `${describe(checked)} is not valid`, rule.hint);
    }
    return checked;
  };
  const strings = (key: string, check: StringCheck = checkRecipeString): string[] | undefined => {
    const value = raw[key];
    if (value === undefined) return undefined;
    if (!Array.isArray(value)) {
      throw new InputError(
        name(key),
        `expected a list of strings, got ${describe(value)}`,
        `Give e.g. ["a", "b"]`,
      );
    }
    return value.map((item, i) => checkedString(item, name(key, i), check));
  };
  const extras = strings("extras");
  extras?.forEach((extra, i) => {
    if (!EXTRAS.includes(extra as Extra)) {
      throw new InputError(
        name("extras", i),
        `${describe(extra)} is not a known extra`,
        `Use any of: ${EXTRAS.join(", ")}`,
      );
    }
  });
  // Narrowed by a type guard rather than by control flow, which older compilers (ts-node's) do not follow.
  const sbom = raw.sbom;
  if (!isOptionalBoolean(sbom)) {
    throw new InputError(name("sbom"), `expected true or false, got ${describe(sbom)}`, "Give a boolean");
  }
  const builderImage = text("builderImage");
  if (builderImage !== undefined) parseImageReference(builderImage, name("builderImage"));
  return {
    toolchain: oneOf("toolchain", TOOLCHAINS),
    libc: oneOf("libc", LIBCS),
    sources: strings("sources", checkRelativePath),
    cflags: strings("cflags"),
    ldflags: strings("ldflags"),
    goPackage: text(
      "goPackage",
      (value, field) => {
        checkRelativePath(value, field);
        // Kept as written: `go build` needs the leading `./` that normalizing would drop.
        return value;
      },
      {
        pattern: GO_PACKAGE,
        hint: "Give a package path relative to the module root, e.g. `.` or `./cmd/server`",
      },
    ),
    cargoBin: text("cargoBin", checkRecipeString, {
      pattern: CARGO_BIN,
      hint: "Give a cargo binary target name, e.g. `server`",
    }),
    cargoLto: oneOf("cargoLto", CARGO_LTOS),
    buildCommand: text("buildCommand", checkShellSnippet),
    output: text("output", checkOutputPath),
    binaryName: text("binaryName", checkRecipeString, {
      pattern: BINARY_NAME,
      hint: "Use 1-64 letters, digits, `.`, `_` or `-`, starting with a letter or digit",
    }),
    builderImage,
    setup: strings("setup", checkShellSnippet),
    extras: extras as Extra[] | undefined,
    entrypointArgs: strings("entrypointArgs"),
    // Narrowed above; said again for the TypeScript that Pulumi's ts-node 7 runs programs with.
    sbom,
  };
}

function isOptionalBoolean(value: unknown): value is boolean | undefined {
  return value === undefined || typeof value === "boolean";
}
