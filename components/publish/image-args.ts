import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { RenderedBuild } from "../render";
import { describe, InputError } from "../validation";
import { parseImageReference } from "../reference";

/** At most this many cache sources: each is pulled before the build. */
const MAX_CACHE_FROM = 16;

/** The folder, in the program's folder, where the component writes Dockerfiles (add it to `.gitignore`). */
export const DOCKERFILE_FOLDER = ".minimal-image";

/**
 * Where the component writes a rendered build's Dockerfile, relative to the Pulumi program's folder:
 * `.minimal-image/<hash of its text and ignore patterns>/Dockerfile`. The path follows the content alone, not
 * the stack, the resource's name or its parent, so renaming a stack or aliasing the component rebuilds
 * nothing; two builds that render alike share one file, which is harmless as it holds the same text.
 */
export function dockerfilePath(rendered: RenderedBuild): string {
  const key = createHash("sha256")
    .update(JSON.stringify([rendered.dockerfile, rendered.ignorePatterns ?? null]))
    .digest("hex")
    .slice(0, 16);
  return path.posix.join(DOCKERFILE_FOLDER, key, "Dockerfile");
}

/**
 * Writes the rendered Dockerfile at `relative` (from {@link dockerfilePath}) under `programDir`, and beside it
 * the `Dockerfile.dockerignore` of a build whose context holds `.minimal-image/` itself, each only when its
 * text changed. The provider hashes the Dockerfile's content with the context, and diffs its path as an
 * input, so a stable path plus unchanged text means no rebuild. It is written during previews too: the
 * provider's check reads it then.
 * @returns `relative`, as the provider resolves it against its working directory.
 */
export function writeDockerfile(rendered: RenderedBuild, relative: string, programDir: string): string {
  const full = path.join(programDir, relative);
  writeIfChanged(full, rendered.dockerfile);
  if (rendered.ignorePatterns)
    writeIfChanged(`${full}.dockerignore`, `${rendered.ignorePatterns.join("\n")}\n`);
  return relative;
}

function writeIfChanged(file: string, text: string): void {
  const current = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
  if (current === text) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

/** The parts of `docker.Image`'s `build` input that minimal-image decides. */
export interface BuildInput {
  /** The source folder, relative to the program's folder so state is the same on every machine. */
  context: string;
  dockerfile: string;
  builderVersion: "BuilderBuildKit";
  platform?: string;
  args?: Record<string, string>;
  cacheFrom?: { images: string[] };
}

/**
 * Checks `cacheFrom`: a list of image references to take build cache from.
 * @returns the references, or undefined when none are given.
 */
export function validateCacheFrom(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > MAX_CACHE_FROM) {
    throw new InputError(
      "cacheFrom",
      `expected a list of at most ${MAX_CACHE_FROM} image references, got ${describe(value)}`,
      'Give e.g. `["registry.example:5000/app:latest"]`',
    );
  }
  value.forEach((image, i) => parseImageReference(image, `cacheFrom[${i}]`));
  return value.length > 0 ? (value as string[]) : undefined;
}

/** The `build` input for `docker.Image`, from a rendered build and the Dockerfile's written path. */
export function buildInput(
  rendered: RenderedBuild,
  dockerfile: string,
  programDir: string,
  extra: { platform?: string; args?: Record<string, string>; cacheFrom?: string[] } = {},
): BuildInput {
  const context = path.relative(programDir, rendered.recipe.sourceDir).split(path.sep).join("/") || ".";
  // With cache sources, the pushed image carries BuildKit's inline cache too, so that it can be the cache
  // source of the next build (BuildKit reads cache only from images built so).
  const args =
    extra.cacheFrom !== undefined ? { ...extra.args, BUILDKIT_INLINE_CACHE: "1" } : (extra.args ?? {});
  return {
    context,
    dockerfile,
    builderVersion: "BuilderBuildKit",
    ...(extra.platform !== undefined ? { platform: extra.platform } : {}),
    ...(Object.keys(args).length > 0 ? { args } : {}),
    ...(extra.cacheFrom !== undefined ? { cacheFrom: { images: extra.cacheFrom } } : {}),
  };
}
