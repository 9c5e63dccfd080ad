/**
 * The documents a registry serves (image manifests, indexes, descriptors), and the checks that keep what a
 * hostile registry sends from reaching a URL, a sum or a message unvalidated.
 */
import { outsideText } from "../outside-text";
import type { Platform } from "../platform";
import { describe, isObject } from "../validation";
import { isDigest } from "../reference";

/** A reference to a blob or manifest by content digest, as found in manifests and indexes. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** A single-platform image manifest (Docker v2 schema 2 or OCI). */
export interface ImageManifest {
  schemaVersion: number;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** An index (OCI image index or Docker manifest list): one manifest per platform. */
export interface ImageIndex {
  manifests: Descriptor[];
}

export const MEDIA = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
};
/** What a manifest request accepts: every manifest and index type above. */
export const ACCEPT = Object.values(MEDIA).join(", ");
/** The distribution spec's limit for manifests; larger answers are not manifests. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** Indexes may nest; real images use at most one level, so two is generous. */
export const MAX_INDEX_DEPTH = 2;
/** Entries of one index: real ones list a few platforms and their attestations. */
const MAX_INDEX_ENTRIES = 1000;

/**
 * Descriptors come from the registry, so their digests (used in URLs), sizes (summed) and platforms (compared
 * and shown) are checked.
 */
function isDescriptor(value: unknown): value is Descriptor {
  if (!isObject(value)) return false;
  const { mediaType, digest, size, platform } = value;
  return (
    typeof mediaType === "string" &&
    typeof digest === "string" &&
    isDigest(digest) &&
    Number.isSafeInteger(size) &&
    (size as number) >= 0 &&
    (platform === undefined || isPlatform(platform))
  );
}

function isPlatform(value: unknown): value is Platform {
  return (
    isObject(value) &&
    typeof value.os === "string" &&
    typeof value.architecture === "string" &&
    (value.variant === undefined || typeof value.variant === "string")
  );
}

/** What keeps `json` from being an image manifest or an index, in a few words; undefined when it is one. */
export function manifestProblem(json: unknown): string | undefined {
  if (!isObject(json)) return `it is ${outsideText(describe(json), 60)}, not an object`;
  const list = (name: "manifests" | "layers") => {
    const entries = json[name];
    if (!Array.isArray(entries)) return `${name} is not a list`;
    const bad = entries.findIndex((entry) => !isDescriptor(entry));
    return bad < 0 ? undefined : `${name}[${bad}] is not a valid descriptor`;
  };
  if (json.manifests !== undefined) {
    const count = Array.isArray(json.manifests) ? json.manifests.length : 0;
    if (count > MAX_INDEX_ENTRIES)
      return `the index lists ${count} manifests, more than ${MAX_INDEX_ENTRIES}`;
    return list("manifests");
  }
  if (!isDescriptor(json.config)) return "config is not a valid descriptor";
  return list("layers");
}
