import * as fs from "node:fs";
import * as path from "node:path";
import { RenderedBuild } from "../build";

/** Where the component writes a resource's Dockerfile, relative to the Pulumi program's folder. */
export function dockerfilePath(resourceName: string): string {
  return path.posix.join(".minimal-image", resourceName.replace(/[^A-Za-z0-9._-]/g, "_"), "Dockerfile");
}

/**
 * Writes the rendered Dockerfile outside the user's source folder, at a path that depends only on the
 * resource name, and only when its text changed. The provider hashes the Dockerfile's content with the
 * context, and diffs its path as an input, so a stable path plus unchanged text means no rebuild.
 * @returns the path relative to `programDir`, as the provider resolves it against its working directory.
 */
export function writeDockerfile(rendered: RenderedBuild, resourceName: string, programDir: string): string {
  const relative = dockerfilePath(resourceName);
  const full = path.join(programDir, relative);
  const current = fs.existsSync(full) ? fs.readFileSync(full, "utf8") : undefined;
  if (current !== rendered.dockerfile) {
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, rendered.dockerfile);
  }
  return relative;
}

/** The parts of `docker.Image`'s `build` input that minimal-image decides. */
export interface BuildInput {
  /** The source folder, relative to the program's folder so state is the same on every machine. */
  context: string;
  dockerfile: string;
  builderVersion: "BuilderBuildKit";
  platform?: string;
  args?: Record<string, string>;
}

/** The `build` input for `docker.Image`, from a rendered build and the Dockerfile's written path. */
export function buildInput(
  rendered: RenderedBuild,
  dockerfile: string,
  programDir: string,
  extra: { platform?: string; args?: Record<string, string> } = {},
): BuildInput {
  const context = path.relative(programDir, rendered.recipe.sourceDir).split(path.sep).join("/") || ".";
  return {
    context,
    dockerfile,
    builderVersion: "BuilderBuildKit",
    ...(extra.platform !== undefined ? { platform: extra.platform } : {}),
    ...(extra.args !== undefined && Object.keys(extra.args).length > 0 ? { args: extra.args } : {}),
  };
}
