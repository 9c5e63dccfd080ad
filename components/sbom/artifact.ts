/**
 * The OCI artifact that carries an SBOM beside an image (OCI image-spec 1.1 "artifact" guidance): an image
 * manifest with an `artifactType`, the empty config, the SBOM as its one layer, and the image as its
 * `subject`. Its bytes depend only on the SBOM and the subject, so the same SBOM gives the same digest.
 */
import { createHash } from "node:crypto";
import type { Descriptor } from "../oci";

/** CycloneDX JSON's registered media type: the artifact's type and its layer's. */
export const CYCLONEDX_MEDIA_TYPE = "application/vnd.cyclonedx+json";
export const OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json";
/** The annotation that marks an artifact minimal-image attached, so a new one replaces it in the fallback index. */
export const SBOM_ANNOTATION = "io.minimal-image.sbom";

/** The config an artifact without one carries (image-spec "Guidance for an Empty Descriptor"). */
export const EMPTY_CONFIG = {
  mediaType: "application/vnd.oci.empty.v1+json",
  bytes: Buffer.from("{}"),
};

/** The image the SBOM describes, as its descriptor: the `subject` of the artifact. */
export interface Subject {
  mediaType: string;
  digest: string;
  size: number;
}

/** A manifest in the referrers list (an index entry): what the referrers API and the fallback tag hold. */
export interface ReferrerDescriptor extends Descriptor {
  artifactType?: string;
}

/** An artifact manifest ready to push, with its digest and its referrers entry. */
export interface SbomArtifact {
  manifest: Buffer;
  digest: string;
  descriptor: ReferrerDescriptor;
}

export function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** The artifact manifest of `sbom` for `subject`; fields in a fixed order and no timestamp, so it is reproducible. */
export function sbomArtifact(sbom: Buffer, subject: Subject): SbomArtifact {
  const annotations = { [SBOM_ANNOTATION]: "cyclonedx" };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: CYCLONEDX_MEDIA_TYPE,
      config: {
        mediaType: EMPTY_CONFIG.mediaType,
        digest: sha256Digest(EMPTY_CONFIG.bytes),
        size: EMPTY_CONFIG.bytes.length,
      },
      layers: [{ mediaType: CYCLONEDX_MEDIA_TYPE, digest: sha256Digest(sbom), size: sbom.length }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    }),
  );
  const digest = sha256Digest(manifest);
  return {
    manifest,
    digest,
    descriptor: {
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      digest,
      size: manifest.length,
      artifactType: CYCLONEDX_MEDIA_TYPE,
      annotations,
    },
  };
}
