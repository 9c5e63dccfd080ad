import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import * as tar from "tar-stream";
import { traceLogText } from "./buildkit-trace";
import { RenderedBuild } from "./render";

/** Name the Dockerfile gets inside the context tarball; it never touches the source folder. */
export const DOCKERFILE_IN_CONTEXT = ".minimal-image.Dockerfile";

/** Which of Docker's two builders runs the build. Generated Dockerfiles work with both. */
export type DockerBuilder = "buildkit" | "classic";

export interface LocalBuildOptions {
  /** Tag for the built image, e.g. `127.0.0.1:5000/app:dev`. */
  tag: string;
  /** Default `buildkit`, as the Pulumi provider uses. */
  builder?: DockerBuilder;
  /** e.g. `linux/amd64`. Default: the engine's own platform. */
  platform?: string;
  buildArgs?: Record<string, string>;
  /** Build every step afresh, ignoring the engine's cache (a cold build). Default false. */
  noCache?: boolean;
  /** Engine client. Default: the one `DOCKER_HOST` or the default socket points at. */
  docker?: Docker;
}

export interface LocalBuildResult {
  tag: string;
  /** `sha256:…` image ID as the engine reports it. */
  imageId: string;
  /** The build's text output: the classic builder's stream, or the step output decoded from BuildKit's traces. */
  log: string;
}

interface BuildEvent {
  id?: string;
  aux?: unknown;
  stream?: string;
  error?: string;
}

/** The build failed; `message` carries the engine's error and the tail of the build output. */
export class BuildError extends Error {
  constructor(
    message: string,
    readonly log: string,
  ) {
    super(message);
    this.name = "BuildError";
  }
}

/**
 * Packs the context files and the Dockerfile into one tarball, as the Pulumi provider does: the Dockerfile
 * travels beside the context instead of being written into the user's folder.
 */
export function packContext(rendered: RenderedBuild): NodeJS.ReadableStream {
  const pack = tar.pack();
  const addAll = async () => {
    pack.entry({ name: DOCKERFILE_IN_CONTEXT, mode: 0o644 }, rendered.dockerfile);
    for (const file of rendered.contextFiles) {
      const full = path.join(rendered.recipe.sourceDir, file);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) {
        pack.entry({
          name: file,
          type: "symlink",
          linkname: fs.readlinkSync(full),
          mode: stat.mode & 0o7777,
        });
      } else {
        pack.entry({ name: file, mode: stat.mode & 0o7777, size: stat.size }, fs.readFileSync(full));
      }
    }
    pack.finalize();
  };
  addAll().catch((error) => pack.destroy(error));
  // tar-stream's pack is a streamx Readable: pipeable like a Node stream, which is all the engine client needs.
  return pack as unknown as NodeJS.ReadableStream;
}

/** Builds a rendered build on a Docker engine, through the same API the Pulumi provider uses. */
export async function buildLocally(
  rendered: RenderedBuild,
  options: LocalBuildOptions,
): Promise<LocalBuildResult> {
  const docker = options.docker ?? new Docker();
  const stream = await docker.buildImage(packContext(rendered), {
    t: options.tag,
    dockerfile: DOCKERFILE_IN_CONTEXT,
    version: options.builder === "classic" ? "1" : "2",
    platform: options.platform,
    buildargs: options.buildArgs,
    nocache: options.noCache ?? false,
    rm: true,
    forcerm: true,
  } as Docker.ImageBuildOptions);
  const events = await new Promise<BuildEvent[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (error, result) => (error ? reject(error) : resolve(result))),
  ).catch((error: Error) => {
    throw new BuildError(`minimal-image: docker build of ${options.tag} failed: ${error.message}`, "");
  });
  const log = events
    .map((event) =>
      event.id === "moby.buildkit.trace" && typeof event.aux === "string"
        ? traceLogText(event.aux)
        : (event.stream ?? ""),
    )
    .join("");
  const failure = events.find((event) => event.error !== undefined);
  if (failure) {
    // Our own checks print lines starting with "minimal-image:"; they say more than the engine's summary.
    const ours = log
      // eslint-disable-next-line no-control-regex -- strips the terminal colours the classic builder adds
      .replace(/\x1b\[[0-9;]*m/g, "")
      .split("\n")
      .filter((line) => line.startsWith("minimal-image:"));
    const reason = ours.length > 0 ? ours.join("\n") : String(failure.error).slice(0, 500);
    throw new BuildError(`minimal-image: docker build of ${options.tag} failed:\n${reason}`, log);
  }
  const image = await docker.getImage(options.tag).inspect();
  return { tag: options.tag, imageId: image.Id, log };
}
