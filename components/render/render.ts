import { createHash } from "node:crypto";
import { builderVariables, resolveRecipe, ResolveContext, ResolvedRecipe, shellQuote } from "../recipe";
import { CacheMount, Extra, Libc, Toolchain } from "../recipe/types";
import { BUILD_DIR } from "../recipe/toolchain";
import { exclusionPattern, ignorePatterns, listContextFiles } from "./context";
import { sbomStages } from "./sbom-facts";
import { staticCheckCommand } from "./static-check";
import { describe, FieldPath, InputError } from "../validation";

/** Which of Docker's two builders a Dockerfile is rendered for. Generated Dockerfiles work with both. */
export type DockerBuilder = "buildkit" | "classic";

/** The user the final image runs as: not root, and the same number distroless images use. */
export const RUNTIME_USER = "65532:65532";
const ROOTFS = "/minimal-image/rootfs";
/** The labels of the final image that name how it was built. */
const TOOLCHAIN_LABEL = "io.minimal-image.toolchain";
const LIBC_LABEL = "io.minimal-image.libc";
/** The builder stage's name in a rendered Dockerfile. */
const BUILD_STAGE = "build";

/** A rendered build: the Dockerfile text and the files of the build context. */
export interface RenderedBuild {
  dockerfile: string;
  /** Files sent as the build context (the source folder less `.dockerignore`), relative and sorted. */
  contextFiles: string[];
  recipe: ResolvedRecipe;
  /**
   * When a folder had to be kept out of the context (see {@link RenderBuildContext.keepOut}): the context's
   * `.dockerignore` patterns plus that folder's, for a `<Dockerfile>.dockerignore` beside the Dockerfile,
   * which Docker and the provider read instead of the context's own.
   */
  ignorePatterns?: string[];
}

/** Statements that copy an extra from the builder into the final root filesystem, failing clearly if absent. */
const EXTRA_STEPS: Record<Extra, string> = {
  "ca-certificates": copyFromBuilder(
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/ssl/certs",
    "ca-certificates",
  ),
  zoneinfo: copyFromBuilder("/usr/share/zoneinfo", "/usr/share", "zoneinfo (tzdata)"),
  passwd:
    `mkdir -p ${ROOTFS}/etc` +
    ` && printf 'nonroot:x:65532:65532:nonroot:/nonexistent:/sbin/nologin\\n' > ${ROOTFS}/etc/passwd` +
    ` && printf 'nonroot:x:65532:\\n' > ${ROOTFS}/etc/group`,
};

function copyFromBuilder(source: string, targetDir: string, what: string): string {
  return (
    `{ [ -e ${source} ] || { echo "minimal-image: extras: the builder has no ${source}; install ${what} in the setup commands" >&2; exit 1; }; }` +
    ` && mkdir -p ${ROOTFS}${targetDir} && cp -R ${source} ${ROOTFS}${targetDir}/`
  );
}

/** How a resolved recipe is rendered. */
export interface RenderOptions {
  /**
   * The builder the Dockerfile is for. Default `buildkit`, which mounts the toolchain caches; `classic`
   * renders the same build without them, as the classic builder has no cache mounts.
   */
  builder?: DockerBuilder;
  /**
   * Mixed into every cache id: builds with different scopes share no cache. Default none. The benchmark
   * gives each cold build a scope of its own, so that it starts from empty caches.
   */
  cacheScope?: string;
  /** What the build itself refuses: see {@link BuildGates}. */
  gates?: BuildGates;
}

/** Where a build's options came from and how it is rendered. */
export interface RenderBuildContext extends RenderOptions, ResolveContext {
  /** A folder to keep out of the build context when it lies inside it, e.g. where Dockerfiles are written. */
  keepOut?: string;
}

/**
 * The `--mount` flag of one toolchain cache. The id names the toolchain and the cache, and hashes the
 * builder (image and setup: another compiler is another cache), for per-program state the recipe's build
 * (binary name, environment, command), and the scope.
 */
function cacheMountFlag(cache: CacheMount, recipe: ResolvedRecipe, scope: string): string {
  const { builder, plan, binaryName } = recipe;
  const program = cache.keyedBy === "program" ? [binaryName, plan.env, plan.command] : [];
  const key = createHash("sha256")
    .update(JSON.stringify([scope, builder.image, builder.setup, program]))
    .digest("hex")
    .slice(0, 16);
  const id = `minimal-image-${plan.toolchain}-${cache.name}-${key}`;
  return `--mount=type=cache,id=${id},target=${cache.target},sharing=${cache.sharing}`;
}

/** Renders the multi-stage Dockerfile for an already resolved recipe. Pure: same recipe, same bytes. */
export function renderDockerfile(recipe: ResolvedRecipe, options: RenderOptions = {}): string {
  const { plan, builder, binaryName, target } = recipe;
  const gates = options.gates ?? {};
  const installed = shellQuote(`${ROOTFS}/${binaryName}`);
  const mountFlags = (caches: CacheMount[]) =>
    options.builder === "classic"
      ? []
      : caches.map((cache) => `${cacheMountFlag(cache, recipe, options.cacheScope ?? "")} \\\n    `);
  const mounts = mountFlags(plan.caches);
  const envAssignments = Object.entries(plan.env)
    .map(([key, value]) => `${key}=${value}`)
    .join(" ");
  const finish = [
    staticCheckCommand(plan.output, recipe.target, "; \\\n    ", plan.staticHint),
    `mkdir -p ${ROOTFS}`,
    `cp ${shellQuote(plan.output)} ${installed}`,
    `chmod 0555 ${installed}`,
    ...recipe.extras.map((extra) => EXTRA_STEPS[extra]),
    // A fixed timestamp makes the layer's bytes, and so its digest and compressed size, reproducible.
    `find ${ROOTFS} -exec touch -h -d @0 {} +`,
    ...(gates.maxImageBytes === undefined ? [] : [budgetCheck(gates.maxImageBytes)]),
  ];
  const labels = {
    "org.opencontainers.image.title": binaryName,
    [TOOLCHAIN_LABEL]: plan.toolchain,
    ...(plan.libc ? { [LIBC_LABEL]: plan.libc } : {}),
  };
  const lines = [
    `# Generated by minimal-image (${plan.toolchain}${plan.libc ? `, ${plan.libc}` : ""}). Re-render it rather than editing it.`,
    "# Stage 1 compiles a static binary; stage 2 holds that binary alone, in one layer, on an empty base.",
    ...(target.cross
      ? // The builder runs natively on the build machine and cross-compiles: nothing is emulated.
        [`FROM --platform=$BUILDPLATFORM ${builder.image} AS ${BUILD_STAGE}`, "ARG TARGETPLATFORM"]
      : [`FROM ${builder.image} AS ${BUILD_STAGE}`]),
    ...(gates.buildArgNames ?? []).map((arg) => `ARG ${arg}`),
    ...(builder.setup.length > 0 ? [`RUN ${builder.setup.join(" && ")}`] : []),
    ...(target.cross ? [`RUN ${crossCheck(target.platform, plan.crossTools)}`] : []),
    "WORKDIR /src",
    "COPY . /src",
    `RUN ${mounts.join("")}mkdir -p ${BUILD_DIR} && export ${envAssignments} && ${plan.command}`,
    `RUN ${finish.join(" \\\n && ")}`,
    "",
    // The classic builder would run every stage on every build; BuildKit runs these only for their target.
    ...(recipe.sbom && options.builder !== "classic"
      ? sbomStages(
          recipe,
          BUILD_STAGE,
          ROOTFS,
          envAssignments,
          gates.buildArgNames ?? [],
          // `cargo tree` reads cargo's registry; nothing else in the facts stage uses a cache.
          mountFlags(plan.caches.filter((cache) => plan.toolchain === "rust" && cache.keyedBy === "builder")),
        )
      : []),
    "FROM scratch",
    `COPY --from=build ${ROOTFS}/ /`,
    `USER ${RUNTIME_USER}`,
    `ENTRYPOINT ${JSON.stringify([`/${binaryName}`, ...recipe.entrypointArgs])}`,
    `LABEL ${Object.entries(labels)
      .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
      .join(" ")}`,
    "",
  ];
  return lines.join("\n");
}

/**
 * The builder stage of a Dockerfile {@link renderDockerfile} wrote: its image, and the variables that
 * override it for the toolchain and libc its labels name. Undefined for any other Dockerfile.
 */
export function renderedBuilder(
  dockerfile: string,
): { image: string; variables: { image: string; setup: string } } | undefined {
  const image = new RegExp(`^FROM (?:--platform=\\S+ )?(\\S+) AS ${BUILD_STAGE}$`, "m").exec(dockerfile)?.[1];
  const label = (name: string) =>
    new RegExp(` ${name.replace(/\./g, "\\.")}="([a-z]+)"`).exec(dockerfile)?.[1];
  const toolchain = label(TOOLCHAIN_LABEL) as Toolchain | undefined;
  if (image === undefined || toolchain === undefined || !Object.values(Toolchain).includes(toolchain)) {
    return undefined;
  }
  return { image, variables: builderVariables(toolchain, { libc: label(LIBC_LABEL) as Libc | undefined }) };
}

/**
 * A cross build's first step: the engine builds for the platform the file was rendered for (an image
 * labelled amd64 holding an arm64 binary would fail only where it runs), and the builder has its tools.
 */
function crossCheck(platform: string, tools: string[]): string {
  const wrongPlatform =
    `{ echo "minimal-image: this Dockerfile compiles for ${platform}, but the build is for \${TARGETPLATFORM:-an unknown platform};` +
    ` build it with BuildKit and --platform ${platform}, or render it for that platform" >&2; exit 1; }`;
  const missingTool =
    `{ echo "minimal-image: the builder has no $t to compile for ${platform}; use a builder image` +
    ` with the ${platform} cross toolchain (see the README)" >&2; exit 1; }`;
  return (
    `[ "$TARGETPLATFORM" = ${platform} ] || ${wrongPlatform}` +
    (tools.length > 0
      ? ` && for t in ${tools.join(" ")}; do command -v "$t" >/dev/null || ${missingTool}; done`
      : "")
  );
}

/**
 * What the build itself refuses, so that a bad image fails before anything is pushed or any tag moves.
 */
export interface BuildGates {
  /** Build arguments to declare (`ARG`), so that their values reach the build's RUN steps. */
  buildArgNames?: string[];
  /** The final root filesystem's file bytes (what the image takes on disk) may not exceed this. */
  maxImageBytes?: number;
}

/** A shell step that fails the build when the final root filesystem holds more file bytes than `limit`. */
function budgetCheck(limit: number): string {
  return (
    `size=$(( $(find ${ROOTFS} -type f -exec cat {} + | wc -c) ))` +
    ` && { [ "$size" -le ${limit} ] || { echo "minimal-image: the image would take $size bytes on disk, over maxImageBytes (${limit}); drop extras, trim the program, or raise the budget" >&2; exit 1; }; }`
  );
}

/** Checks build-argument names: each becomes an `ARG` line, so only shell variable names fit. */
export function buildArgNames(args: unknown, field: FieldPath = ["buildArgs"]): string[] {
  if (args === undefined || args === null) return [];
  if (typeof args !== "object" || Array.isArray(args)) {
    throw new InputError(
      field,
      `expected an object of names to values, got ${describe(args)}`,
      'Give e.g. `{ GREETING: "hi" }`',
    );
  }
  const names = Object.keys(args).sort();
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
      throw new InputError(
        [...field, name],
        "is not a build-argument name",
        "Use letters, digits and `_`, not starting with a digit",
      );
    }
    const reserved = reservedBuildArg(name);
    if (reserved) throw new InputError([...field, name], reserved, "Remove it, or rename the argument");
  }
  return names;
}

/** Build arguments the engine sets from the build's platform (BuildKit's automatic platform ARGs). */
const PLATFORM_ARGS = new Set(
  ["BUILD", "TARGET"].flatMap((side) => ["PLATFORM", "OS", "ARCH", "VARIANT"].map((p) => side + p)),
);

/** Why the engine treats `name` specially, for a name a build argument may not take. */
function reservedBuildArg(name: string): string | undefined {
  // A frontend image of the caller's choice would replace the generated Dockerfile, its static check and
  // its budget; other BUILDKIT_* arguments change cache mounts, the inline cache or the build's hostname.
  if (name.toUpperCase().startsWith("BUILDKIT_")) {
    return "is reserved: BuildKit reads BUILDKIT_* build arguments as settings of the build itself (BUILDKIT_SYNTAX would replace the Dockerfile frontend)";
  }
  if (PLATFORM_ARGS.has(name.toUpperCase())) {
    return "is reserved: the engine sets it from the build's platform";
  }
  return undefined;
}

/**
 * Validates the options against the source folder and renders the build: Dockerfile text plus the list of
 * context files. Deterministic: the same folder and options give byte-identical output.
 */
export function renderBuild(
  source: unknown,
  options: unknown,
  context: RenderBuildContext = {},
): RenderedBuild {
  const recipe = resolveRecipe(source, options, context);
  const excluded = context.keepOut && exclusionPattern(recipe.sourceDir, context.keepOut);
  const patterns = excluded ? [...ignorePatterns(recipe.sourceDir), excluded] : undefined;
  const contextFiles = listContextFiles(recipe.sourceDir, context.sourceField ?? ["source"], patterns);
  return {
    dockerfile: renderDockerfile(recipe, context),
    contextFiles,
    recipe,
    ...(patterns ? { ignorePatterns: patterns } : {}),
  };
}
