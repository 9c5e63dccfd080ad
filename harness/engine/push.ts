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
): Promise<string> {
  const doing = `pushing ${name}`;
  reporter?.started(doing, `push ${name}`);
  const events = await docker
    .getImage(name)
    .push({
      authconfig: credentials ? { username: credentials.username, password: credentials.password } : {},
    })
    .then(
      (stream) =>
        new Promise<{ error?: string; aux?: { Digest?: string } }[]>((resolve, reject) =>
          docker.modem.followProgress(
            stream,
            (error, result) => (error ? reject(error) : resolve(result)),
            reporter && pushProgress(reporter, name),
          ),
        ),
    )
    .catch((error: unknown) => {
      throw engineError(doing, error);
    })
    .finally(() => reporter?.finished(doing, false));
  const failure = events.find((event) => event.error !== undefined);
  if (failure) throw new Error(`minimal-image: ${doing} failed: ${outsideText(String(failure.error))}`);
  const digest = events.find((event) => event.aux?.Digest)?.aux?.Digest;
  if (!digest) throw new Error(`minimal-image: pushing ${name} reported no digest`);
  return `${name.replace(/:[^:/]+$/, "")}@${digest}`;
}
