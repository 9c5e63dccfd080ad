/**
 * The one owner of the registry rules: what a registry server, its credentials and a pushed name may be,
 * and which registries speak plain http. Every rule runs when the component is constructed, before anything
 * is declared; later stages (inspection, pull secrets) only reuse them.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, InputError, rejectUnknownKeys } from "./validation";
import { parseImageReference, validateTag } from "./reference";

/**
 * A registry to push to, with optional credentials. Server and user name are plain strings, so that they
 * stay readable in the image name and can name a Kubernetes pull secret; only the password may be an Output.
 */
export interface RegistryInput {
  /** Host and optional port, e.g. `127.0.0.1:5000` or `registry.example.com`. */
  server: string;
  /** User name to log in with; give it with `password`, or neither for an anonymous registry. */
  username?: string;
  /** Password or token; kept secret end to end: in state, outputs and logs. */
  password?: pulumi.Input<string>;
}

/** Checks a registry's fields; the password itself is never looked at beyond "given or not". */
export function validateRegistry(raw: unknown): RegistryInput {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new InputError(
      "registry",
      `expected an object, got ${describe(raw)}`,
      'Give e.g. `{ server: "127.0.0.1:5000" }`',
    );
  }
  rejectUnknownKeys(
    raw as Record<string, unknown>,
    ["server", "username", "password"],
    ["registry"],
    "a registry option",
    "Use server, username and password",
  );
  const { server, username, password } = raw as Record<string, unknown>;
  if (typeof server !== "string" || server.trim() === "") {
    throw new InputError(
      ["registry", "server"],
      "is missing",
      "Give the registry's host and port, e.g. `127.0.0.1:5000`",
    );
  }
  if (
    server.includes("/") ||
    parseImageReference(`${server}/probe`, ["registry", "server"]).registry !== server
  ) {
    throw new InputError(
      ["registry", "server"],
      `${describe(server)} is not a registry host`,
      "Give only host[:port], e.g. `registry.example.com` or `127.0.0.1:5000`",
    );
  }
  if (username !== undefined && (typeof username !== "string" || username === "")) {
    throw new InputError(
      ["registry", "username"],
      `expected a non-empty string, got ${describe(username)}`,
      "Give the user name, or leave it out",
    );
  }
  if (typeof username === "string" && username.includes(":")) {
    // Basic auth (pushes, pulls, pull secrets) splits `user:password` at the first colon.
    throw new InputError(
      ["registry", "username"],
      `${describe(username)} is not a usable username`,
      "Give a non-empty username without `:`",
    );
  }
  if (password !== undefined && username === undefined) {
    throw new InputError(
      ["registry", "password"],
      "is given without registry.username",
      "Set registry.username too, or remove the password",
    );
  }
  if (username !== undefined && password === undefined) {
    throw new InputError(
      ["registry", "username"],
      "is given without registry.password",
      "Set registry.password (as a secret), or remove the username",
    );
  }
  return {
    server,
    username: username as string | undefined,
    password: password as RegistryInput["password"],
  };
}

/**
 * The full name the image is pushed under: `<server>/<repository>:<tag>`.
 * @param repository e.g. `pausle` or `team/pausle`.
 */
export function pushName(server: string, repository: unknown, tag: unknown): string {
  if (typeof repository !== "string" || repository === "") {
    throw new InputError(
      "imageName",
      `expected a repository name, got ${describe(repository)}`,
      "Give e.g. `pausle` or `team/pausle`",
    );
  }
  // Docker's rule: a first component with a `.` or `:`, or `localhost`, is a registry host.
  const first = repository.split("/")[0];
  if (repository.includes("/") && (/[.:]/.test(first) || first === "localhost")) {
    throw new InputError(
      "imageName",
      `"${repository}" starts with a registry host (${first})`,
      `The host goes in registry.server: set registry.server to "${first}" and imageName to "${repository.slice(first.length + 1)}"`,
    );
  }
  if (repository.includes(":") || repository.includes("@")) {
    throw new InputError(
      "imageName",
      `"${repository}" carries a tag or digest`,
      "Give the repository alone and set `tag` separately",
    );
  }
  validateTag(tag, "tag");
  const name = `${server}/${repository}:${tag}`;
  const parsed = parseImageReference(name, "imageName");
  if (parsed.registry !== server) {
    throw new InputError(
      "imageName",
      `"${repository}" is not a valid repository name`,
      "Use lowercase letters, digits and `._-/`, e.g. `team/pausle`",
    );
  }
  return name;
}

/** True for hosts that only this machine can reach, where registries commonly serve plain http. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith("[")
    ? registry.slice(0, registry.indexOf("]") + 1)
    : registry.split(":")[0];
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The host that serves a registry's API: Docker Hub's `docker.io` is served by `registry-1.docker.io`. */
export function registryApiHost(registry: string): string {
  return registry === "docker.io" || registry === "index.docker.io" ? "registry-1.docker.io" : registry;
}
