/**
 * The one image reference and digest grammar (distribution/reference's), used by every stage and the CLI.
 */
import { describe, FieldPath, InputError } from "./validation";

/** An image reference split into its parts, following the grammar of distribution/reference. */
export interface ImageReference {
  /** Registry host with optional port, e.g. `127.0.0.1:5000`; `docker.io` when the reference names none. */
  registry: string;
  /** Repository path inside the registry, e.g. `library/alpine` or `team/app`. */
  repository: string;
  tag?: string;
  /** `sha256:<64 hex>` (or `sha512:<128 hex>`) when the reference pins a digest. */
  digest?: string;
}

const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]+)?`;
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const NAME = `(?:(${DOMAIN})/)?(${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)`;
const TAG = "[\\w][\\w.-]{0,127}";
/** The digests registries and engines compute: sha256, and sha512 which the OCI spec also registers. */
const DIGEST = "sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128}";
const DIGEST_ONLY = new RegExp(`^(?:${DIGEST})$`);
const REFERENCE = new RegExp(`^${NAME}(?::(${TAG}))?(?:@(${DIGEST}))?$`);
const TAG_ONLY = new RegExp(`^${TAG}$`);

/** True when the first path component is a registry host rather than a Docker Hub namespace. */
function looksLikeHost(component: string): boolean {
  return (
    component === "localhost" ||
    component.includes(".") ||
    component.includes(":") ||
    component.startsWith("[")
  );
}

/**
 * Parses an image reference such as `127.0.0.1:5000/app:v1` or `alpine@sha256:…`.
 * @param field the input's name, used in the error when the reference does not parse.
 */
export function parseImageReference(value: unknown, field: FieldPath | string): ImageReference {
  if (typeof value !== "string" || value.length === 0) {
    throw new InputError(
      field,
      `expected an image reference, got ${describe(value)}`,
      "Give e.g. `registry.example:5000/team/app:1.0`.",
    );
  }
  const match = REFERENCE.exec(value);
  if (!match || value.length > 255 + 1 + 128 + 136) {
    throw new InputError(
      field,
      `${describe(value)} is not a valid image reference`,
      "Use lowercase `[host[:port]/]path[:tag][@sha256:<64 hex>]`, e.g. `127.0.0.1:5000/app:v1`.",
    );
  }
  const [, domain, path, tag, digest] = match;
  const port = domain?.match(/:(\d+)$/)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) {
    throw new InputError(
      field,
      `port ${port} of ${describe(value)} is not a TCP port`,
      "Use a port from 1 to 65535, e.g. `127.0.0.1:5000/app:v1`.",
    );
  }
  let registry = domain;
  let repository = path;
  if (domain !== undefined && !looksLikeHost(domain)) {
    // `team/app` names Docker Hub: the first component is a namespace, not a host.
    registry = "docker.io";
    repository = `${domain}/${path}`;
  }
  if (registry === undefined) registry = "docker.io";
  if (registry === "docker.io" && !repository.includes("/")) repository = `library/${repository}`;
  return { registry, repository, tag, digest };
}

/** Checks a bare tag such as `v1.2` (what goes after the colon). */
export function validateTag(value: unknown, field: FieldPath | string): string {
  if (typeof value !== "string" || !TAG_ONLY.test(value)) {
    throw new InputError(
      field,
      `${describe(value)} is not a valid tag`,
      "A tag is 1-128 characters of letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.",
    );
  }
  return value;
}

/** True for a content digest such as `sha256:<64 hex>`, the form manifests, indexes and engines report. */
export function isDigest(value: unknown): value is string {
  return typeof value === "string" && DIGEST_ONLY.test(value);
}
