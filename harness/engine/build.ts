import * as fs from "node:fs";
import * as path from "node:path";
import { pipeline } from "node:stream/promises";
import Docker from "dockerode";
import * as tar from "tar-stream";
import { builderImageFailure } from "./builder-image";
import { engineError } from "./engine-error";
import { BuildTranscript, EngineEvent, StepReporter } from "./progress";
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
  /** The stage to build, as `docker build --target`; default the last one. */
  target?: string;
  /** Images to take build cache from, as `docker build --cache-from`. */
  cacheFrom?: string[];
  /** Build every step afresh, ignoring the engine's cache (a cold build). Default false. */
  noCache?: boolean;
  /** Engine client. Default: the one `DOCKER_HOST` or the default socket points at. */
  docker?: Docker;
  /** Called with each event of the build stream. */
  onEvent?: (event: BuildEvent) => void;
  /** Shows each step as it starts and ends, and the running step's elapsed time. */
  progress?: StepReporter;
}

export interface LocalBuildResult {
  tag: string;
  /** `sha256:…` image ID as the engine reports it. */
  imageId: string;
  /** The build's text output: the classic builder's stream, or the step output decoded from BuildKit's traces. */
  log: string;
}

/** One event of the engine's build stream. */
export type BuildEvent = EngineEvent;

/**
 * The build failed; `message` names the failing step and carries the end of its output (the compiler's own
 * error among it), or the lines our own checks printed; `log` is the whole build output.
 */
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
      target: options.target,
      nocache: options.noCache ?? false,
      // The engine takes the list JSON-encoded.
      cachefrom: options.cacheFrom?.length ? JSON.stringify(options.cacheFrom) : undefined,
      rm: true,
      forcerm: true,
    })
    .catch((error: unknown) => {
      throw engineError(doing, error);
    });
  const transcript = new BuildTranscript(options.progress);
  const events = await new Promise<BuildEvent[]>((resolve, reject) =>
    docker.modem.followProgress(
      stream,
      (error, result) => (error ? reject(error) : resolve(result)),
      (event: BuildEvent) => {
        transcript.add(event);
        options.onEvent?.(event);
      },
    ),
  )
    .catch((error: Error) => {
      throw new BuildError(`minimal-image: ${doing} failed: ${outsideText(error.message)}`, transcript.log);
    })
    .finally(() => transcript.finish());
  const log = transcript.log;
  const failure = events.find((event) => event.error !== undefined);
  if (failure) {
    const message = String(failure.error);
    throw new BuildError(
      builderImageFailure(doing, transcript.failedStep().name, message, context.dockerfile) ??
        failureMessage(doing, message, transcript),
      log,
    );
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

/**
 * What a failed build says: the lines our own checks printed (they start with `minimal-image:` and say more
 * than anything else), or else the failing step's command and the last 30 lines of its output, each line
 * whole and without control characters; then the engine's exit status.
 */
function failureMessage(doing: string, engineMessage: string, transcript: BuildTranscript): string {
  const { name, tail } = transcript.failedStep();
  const ours = tail.map((line) => line.trim()).filter((line) => line.startsWith("minimal-image:"));
  const exit = /exit code: \d+/.exec(engineMessage)?.[0];
  const lines = [`minimal-image: ${doing} failed${exit ? ` (${exit})` : ""}:`];
  if (ours.length > 0) lines.push(...ours);
  else {
    if (name) lines.push(`failing step: ${name}`);
    if (tail.length > 0) lines.push("its last lines of output:", ...tail.map((line) => `  | ${line}`));
    if (!exit) lines.push(outsideText(engineMessage, Infinity));
  }
  return lines.join("\n");
}
