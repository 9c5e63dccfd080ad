import Docker from "dockerode";
import { engineError } from "./engine-error";
import { outsideText } from "../../components/outside-text";

/** Credentials for a push; the password is only handed to the engine, never printed. */
export interface PushCredentials {
  username: string;
  password: string;
}

/**
 * Pushes a local image to its registry through the engine and returns the digest reference the registry
 * reported (`registry/repo@sha256:…`), as the Pulumi provider does after its push.
 */
export async function pushLocally(
  name: string,
  credentials?: PushCredentials,
  docker = new Docker(),
): Promise<string> {
  const doing = `pushing ${name}`;
  const events = await docker
    .getImage(name)
    .push({
      authconfig: credentials ? { username: credentials.username, password: credentials.password } : {},
    })
    .then(
      (stream) =>
        new Promise<{ error?: string; aux?: { Digest?: string } }[]>((resolve, reject) =>
          docker.modem.followProgress(stream, (error, result) => (error ? reject(error) : resolve(result))),
        ),
    )
    .catch((error: unknown) => {
      throw engineError(doing, error);
    });
  const failure = events.find((event) => event.error !== undefined);
  if (failure) throw new Error(`minimal-image: ${doing} failed: ${outsideText(String(failure.error))}`);
  const digest = events.find((event) => event.aux?.Digest)?.aux?.Digest;
  if (!digest) throw new Error(`minimal-image: pushing ${name} reported no digest`);
  return `${name.replace(/:[^:/]+$/, "")}@${digest}`;
}
