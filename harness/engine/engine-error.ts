/** Errors from the Docker engine, said in terms a user can act on. */
import { outsideText } from "../../components/outside-text";

/**
 * Rewrites an engine client error: an engine that does not answer gets the fix (start one, or point
 * DOCKER_HOST at it) instead of a bare `connect ECONNREFUSED`; anything else keeps the engine's own words.
 * @param doing what was being done, e.g. `docker build of app:1`.
 */
export function engineError(doing: string, error: unknown): Error {
  const code = (error as { code?: string } | undefined)?.code;
  if (code === "ECONNREFUSED" || code === "ENOENT" || code === "EACCES") {
    const where = process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
    return new Error(
      `minimal-image: ${doing}: no Docker engine answers at ${where} (${code}). ` +
        "Start one (on this repository's dev machine: scripts/dev-env up), or set DOCKER_HOST to the engine's address.",
    );
  }
  const status = (error as { statusCode?: number } | undefined)?.statusCode;
  const message = error instanceof Error ? error.message : String(error);
  return new Error(
    `minimal-image: ${doing} failed${status ? ` (engine answered ${status})` : ""}: ${outsideText(message)}`,
  );
}
