import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import Docker from "dockerode";
import * as tar from "tar-stream";
import { traceLogText } from "./buildkit-trace";
import { engineError } from "./engine-error";
import { outsideText } from "../../components/outside-text";
import { DockerBuilder, RenderedBuild } from "../../components/render";

/** Name the Dockerfile gets inside the context tarball; it never touches the source folder. */
export const DOCKERFILE_IN_CONTEXT = ".minimal-image.Dockerfile";

export interface LocalBuildOptions {
  /** Tag for the built image, e.g. `127.0.0.1:5000/app:dev`. */
  tag: string;
  /** Default `buildkit`, as the Pulumi provider uses. */
  builder?: DockerBuilder;
  /** e.g. `linux/amd64`. Default: the engine's own platform. */
  platform?: string;
  buildArgs?: Record<string, string>;
  /** Images to take build cache from, as `docker build --cache-from`. */
  cacheFrom?: string[];
  /** Build every step afresh, ignoring the engine's cache (a cold build). Default false. */
  noCache?: boolean;
  /** Engine client. Default: the one `DOCKER_HOST` or the default socket points at. */
  docker?: Docker;
  /** Called with each event of the build stream, e.g. to show progress. */
  onEvent?: (event: BuildEvent) => void;
}

export interface LocalBuildResult {
  tag: string;
  /** `sha256:…` image ID as the engine reports it. */
  imageId: string;
  /** The build's text output: the classic builder's stream, or the step output decoded from BuildKit's traces. */
  log: string;
}

/** One event of the engine's build stream. */
export interface BuildEvent {
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

/** What a build sends to the engine: a folder's context files plus a Dockerfile's text. */
export interface BuildContext {
  /** The folder the files are read from. */
  sourceDir: string;
  /** Files to send, relative to `sourceDir` (as {@link listContextFiles} gives them). */
  contextFiles: string[];
  /** The Dockerfile's text; it travels in the tarball as {@link DOCKERFILE_IN_CONTEXT}. */
  dockerfile: string;
}

/** The build context of a rendered build. */
export function renderedContext(rendered: RenderedBuild): BuildContext {
  return {
    sourceDir: rendered.recipe.sourceDir,
    contextFiles: rendered.contextFiles,
    dockerfile: rendered.dockerfile,
  };
}

/**
 * Packs the context files and the Dockerfile into one tarball, as the Pulumi provider does for a Dockerfile
 * outside its context: the Dockerfile travels beside the files instead of being written into the folder.
 * Each file is streamed into the tarball only as fast as the engine takes it.
 */
export function packContext(context: BuildContext): NodeJS.ReadableStream {
  const pack = tar.pack();
  const addAll = async () => {
    pack.entry({ name: DOCKERFILE_IN_CONTEXT, mode: 0o644 }, context.dockerfile);
    for (const file of context.contextFiles) {
      const full = path.join(context.sourceDir, file);
      const stat = fs.lstatSync(full);
      if (stat.isSymbolicLink()) {
        pack.entry({
          name: file,
          type: "symlink",
          linkname: fs.readlinkSync(full),
          mode: stat.mode & 0o7777,
        });
      } else {
        // Streamed: the pack waits for the engine to read, so memory stays flat whatever the files' size.
        const entry = pack.entry({ name: file, mode: stat.mode & 0o7777, size: stat.size });
        await pipeline(fs.createReadStream(full), entry as unknown as NodeJS.WritableStream);
      }
    }
    pack.finalize();
  };
  addAll().catch((error) => pack.destroy(error));
  // tar-stream's pack is a streamx Readable: pipeable like a Node stream, which is all the engine client needs.
  return pack as unknown as NodeJS.ReadableStream;
}

/** Builds a rendered build on a Docker engine: {@link buildContext} of its Dockerfile and files. */
export function buildLocally(rendered: RenderedBuild, options: LocalBuildOptions): Promise<LocalBuildResult> {
  return buildContext(renderedContext(rendered), options);
}

/**
 * Builds a context on a Docker engine through the API the Pulumi provider uses, and reports the image this
 * build made: its ID is read from the build's own stream, never from the tag, which a concurrent build of
 * the same tag may have moved.
 */
export async function buildContext(
  context: BuildContext,
  options: LocalBuildOptions,
): Promise<LocalBuildResult> {
  const docker = options.docker ?? new Docker();
  const doing = `docker build of ${options.tag}`;
  const stream = await docker
    .buildImage(packContext(context), {
      t: options.tag,
      dockerfile: DOCKERFILE_IN_CONTEXT,
      version: options.builder === "classic" ? "1" : "2",
      platform: options.platform,
      buildargs: options.buildArgs,
      nocache: options.noCache ?? false,
      // The engine takes the list JSON-encoded.
      cachefrom: options.cacheFrom?.length ? JSON.stringify(options.cacheFrom) : undefined,
      rm: true,
      forcerm: true,
    })
    .catch((error: unknown) => {
      throw engineError(doing, error);
    });
  const events = await new Promise<BuildEvent[]>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error, result) => (error ? reject(error) : resolve(result)),
      options.onEvent,
    ),
  ).catch((error: Error) => {
    throw new BuildError(`minimal-image: ${doing} failed: ${outsideText(error.message)}`, "");
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
      .split("\n")
      .map((line) => outsideText(line))
      .filter((line) => line.startsWith("minimal-image:"));
    const reason = ours.length > 0 ? ours.join("\n") : outsideText(String(failure.error));
    throw new BuildError(`minimal-image: ${doing} failed:\n${reason}`, log);
  }
  // BuildKit reports the image as `moby.image.id`, the classic builder as a bare aux; both carry `ID`.
  const imageId = events
    .map((event) => (event.aux as { ID?: unknown } | undefined)?.ID)
    .filter((id): id is string => typeof id === "string" && /^sha256:[a-f0-9]{64}$/.test(id))
    .pop();
  if (imageId === undefined) {
    throw new BuildError(`minimal-image: ${doing} finished without reporting the image it built`, log);
  }
  return { tag: options.tag, imageId, log };
}
