/**
 * Registry credentials from the Docker client's configuration (`docker login`), which the Docker provider's
 * push falls back to when a registry is given without credentials: the inspection of what was pushed uses
 * them the same way, so a push that relied on `docker login` is not followed by a 401.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isObject } from "../validation";

/** A Docker config is a few kilobytes; a larger file is not read. */
const MAX_CONFIG_BYTES = 1024 * 1024;

/** The file the Docker client reads: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.DOCKER_CONFIG ?? path.join(os.homedir(), ".docker"), "config.json");
}

/**
 * The username and password `docker login` stored for `registry` in the config's `auths` (the `auth`
 * field, base64 of `user:password`, or `username`/`password`). Undefined when there are none, when the file
 * is missing, not a regular file, too large or not JSON: the registry is then asked anonymously, and a
 * 401 names the fix. Credential helpers (`credsStore`, `credHelpers`) run external programs and are not
 * consulted.
 */
export function dockerConfigCredentials(
  registry: string,
  file = dockerConfigFile(),
): { username: string; password: string } | undefined {
  let text: string;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) return undefined;
    text = fs.readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch {
    return undefined;
  }
  const auths = isObject(config) && isObject(config.auths) ? config.auths : {};
  // `docker login` keys Docker Hub by its index URL and others by host, sometimes with a scheme.
  const keys = [registry, `https://${registry}`, `http://${registry}`];
  if (registry === "docker.io") keys.push("https://index.docker.io/v1/");
  for (const key of keys) {
    const entry = auths[key];
    if (!isObject(entry)) continue;
    if (typeof entry.username === "string" && typeof entry.password === "string" && entry.username !== "") {
      return { username: entry.username, password: entry.password };
    }
    if (typeof entry.auth === "string") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
  }
  return undefined;
}
