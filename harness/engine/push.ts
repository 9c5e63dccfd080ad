import Docker from "dockerode";
import { engineError } from "./engine-error";
import { EngineEvent, StepReporter } from "./progress";
import { outsideText } from "../../components/outside-text";

/** Credentials for a push; the password is only handed to the engine, never printed. */
export interface PushCredentials {
  username: string;
  password: string;
}

/** Each layer's bytes sent so far, as a terminal status line; a plain line per layer pushed. */
function pushProgress(reporter: StepReporter, name: string) {
  const layers = new Map<string, { current: number; total: number }>();
  return (event: EngineEvent) => {
    if (!event.id || !event.status) return;
    if (event.status === "Pushing" && event.progressDetail?.total) {
      layers.set(event.id, { current: event.progressDetail.current ?? 0, total: event.progressDetail.total });
      const sent = [...layers.values()].reduce((sum, layer) => sum + layer.current, 0);
      const total = [...layers.values()].reduce((sum, layer) => sum + layer.total, 0);
      reporter.status(`push ${name}: ${sent} of ${total} bytes`);
    } else if (event.status === "Pushed" || event.status === "Layer already exists") {
      reporter.line(`push ${name}: layer ${event.id} ${event.status.toLowerCase()}`);
    }
  };
}

/** `docker tag <imageId> <name>`; a name without a tag gets `latest`, as the engine gives it. */
export async function tagImage(imageId: string, name: string, docker: Docker): Promise<void> {
  const repository = name.replace(/:[^:/]+$/, "");
  await docker
    .getImage(imageId)
    .tag({ repo: repository, tag: name.slice(repository.length + 1) || "latest" })
    .catch((error: unknown) => {
      throw engineError(`tagging ${imageId} as ${name}`, error);
    });
}

/** How long a push may go without a word from the engine before it is stopped. */
export const PUSH_STALL_MS = 5 * 60_000;

export interface PushOptions {
  /**
   * The image ID that was built: it is tagged `name` just before the push, and the push must be of it, so
   * another build that takes the same tag meanwhile cannot have its image pushed in this one's place.
   */
  imageId?: string;
  /** Stop the push after this long without progress (a registry that accepts an upload and never answers). */
  stallMs?: number;
}

/**
 * Pushes a local image to its registry through the engine and returns the digest reference the registry
 * reported (`registry/repo@sha256:…`), as the Pulumi provider does after its push.
 * @param reporter shows the push as a step, with each layer's progress.
 */
export async function pushLocally(
  name: string,
  credentials?: PushCredentials,
  docker = new Docker(),
  reporter?: StepReporter,
  { imageId, stallMs = PUSH_STALL_MS }: PushOptions = {},
): Promise<string> {
  const doing = `pushing ${name}`;
  const repository = name.replace(/:[^:/]+$/, "");
  if (imageId) await tagImage(imageId, name, docker);
  reporter?.started(doing, `push ${name}`);
  const onProgress = reporter && pushProgress(reporter, name);
  const events = await docker
    .getImage(name)
    .push({
      authconfig: credentials ? { username: credentials.username, password: credentials.password } : {},
    })
    .then(
      (stream) =>
        new Promise<{ error?: string; aux?: { Digest?: string } }[]>((resolve, reject) => {
          let timer: NodeJS.Timeout | undefined;
          const stalled = () => {
            clearTimeout(timer);
            timer = setTimeout(() => {
              (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
              reject(
                new Error(
                  `minimal-image: ${doing}: the engine reported no progress for ${Math.round(stallMs / 1000)} s, ` +
                    `so the push was stopped. Check that the registry ${repository.split("/")[0]} answers, then run again`,
                ),
              );
            }, stallMs);
          };
          stalled();
          docker.modem.followProgress(
            stream,
            (error, result) => {
              clearTimeout(timer);
              if (error) reject(error);
              else resolve(result);
            },
            (event: EngineEvent) => {
              stalled();
              onProgress?.(event);
            },
          );
        }),
    )
    .catch((error: unknown) => {
      if (error instanceof Error && error.message.startsWith(`minimal-image: ${doing}:`)) throw error;
      throw engineError(doing, error);
    })
    .finally(() => reporter?.finished(doing, false));
  const failure = events.find((event) => event.error !== undefined);
  if (failure) throw new Error(`minimal-image: ${doing} failed: ${outsideText(String(failure.error))}`);
  const digest = events.find((event) => event.aux?.Digest)?.aux?.Digest;
  if (!digest) throw new Error(`minimal-image: pushing ${name} reported no digest`);
  const repoDigest = `${repository}@${digest}`;
  if (imageId) {
    // The engine records the digest on the image it pushed: it must be the one built.
    const pushed = await docker.getImage(imageId).inspect();
    if (!(pushed.RepoDigests ?? []).includes(repoDigest)) {
      throw new Error(
        `minimal-image: ${doing}: another build took the tag ${name} during the push, so the registry got ` +
          `its image, not ${imageId}. Run again, one build per tag at a time`,
      );
    }
  }
  return repoDigest;
}
