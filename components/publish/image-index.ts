/**
 * The OCI image index of a multi-platform image, as bytes: one entry per platform's manifest, by digest,
 * in the order the platforms were listed, so the same images always give the same index digest.
 */
import { parsePlatform } from "../platform";
import { isDigest, validateTag } from "../reference";
import { describe, InputError } from "../validation";

/** The media type of the index minimal-image pushes. */
export const OCI_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";

/** One platform's pushed manifest, as the index lists it. */
export interface IndexEntry {
  /** `os/arch[/variant]`, e.g. `linux/arm64`. */
  platform: string;
  /** The manifest's digest, `sha256:…`. */
  digest: string;
  mediaType: string;
  /** The manifest's size in bytes. */
  size: number;
}

/**
 * The index's bytes: compact JSON with its keys in a fixed order, as the OCI image spec lays an index out
 * (image-index.md). Deterministic: the same entries in the same order give the same bytes, and so the same
 * digest, on every machine and run.
 */
export function imageIndexBytes(entries: IndexEntry[]): Buffer {
  const manifests = entries.map((entry) => {
    if (!isDigest(entry.digest) || !Number.isSafeInteger(entry.size) || entry.size < 0) {
      throw new Error(`minimal-image: the manifest of ${entry.platform} is not a valid descriptor`);
    }
    const { os, architecture, variant } = parsePlatform(entry.platform);
    return {
      mediaType: entry.mediaType,
      digest: entry.digest,
      size: entry.size,
      platform: variant === undefined ? { architecture, os } : { architecture, os, variant },
    };
  });
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests }));
}

/**
 * The tag one platform's image is pushed under beside the index's, e.g. `v1-linux-arm64` for `v1`: each
 * platform's image stays reachable by name, and the index under `tag` lists them all.
 */
export function platformTag(tag: string, platform: string): string {
  const derived = `${tag}-${platform.split("/").join("-")}`;
  try {
    return validateTag(derived, "tag");
  } catch {
    throw new InputError(
      "tag",
      `${describe(tag)} gives ${platform}'s image the tag ${describe(derived)}, which is not a valid tag`,
      "With several platforms each image is also pushed under `<tag>-<os>-<arch>`: shorten the tag so that stays within 128 characters",
    );
  }
}
