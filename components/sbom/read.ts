/**
 * Reads back the SBOM attached to an image: the reference resolved (an index to one platform's manifest),
 * its referrers listed (the referrers API, else the fallback tag), the CycloneDX artifact picked, and its
 * document fetched within a size bound and checked against its digest.
 */
import type { Readable } from "node:stream";
import { dockerConfigCredentials, RegistryClient, RegistryError, type RegistryOptions } from "../oci";
import { manifestProblem } from "../oci/documents";
import { formatPlatform, parsePlatform, platformMatches } from "../platform";
import { parseImageReference } from "../reference";
import { isObject } from "../validation";
import { CYCLONEDX_MEDIA_TYPE, type ReferrerDescriptor } from "./artifact";
import { listReferrers, type ReferrersMechanism } from "./referrers";
import { SbomError } from "./sbom-error";

/** An SBOM document is text for one binary; past this it is not one minimal-image attached. */
export const MAX_SBOM_BYTES = 16 * 1024 ** 2;

export interface ReadSbomOptions extends RegistryOptions {
  /** `os/arch[/variant]` to pick from an index; default its only image. */
  platform?: string;
  /** How the caller names the inputs in errors, e.g. `<image-ref>` and `--platform`. */
  inputNames?: { reference?: string; platform?: string };
  /** Docker client configuration consulted when no username is given. */
  dockerConfig?: string;
}

/** The SBOM as stored, and where it was found. */
export interface AttachedSbom {
  /** The image it describes, `registry/repo@sha256:…` (one platform's manifest). */
  image: string;
  /** The artifact manifest's digest. */
  sbomDigest: string;
  mechanism: ReferrersMechanism;
  /** The document's bytes, verified against the digest the artifact names. */
  document: Buffer;
}

/**
 * The CycloneDX SBOM attached to `reference` (by tag or digest).
 * @throws InputError for a malformed reference or platform, RegistryError, SbomError when none is attached,
 *   several are, the index needs a platform, or the artifact is malformed or too large.
 */
export async function readAttachedSbom(
  reference: string,
  options: ReadSbomOptions = {},
): Promise<AttachedSbom> {
  const { platform: wanted, inputNames, dockerConfig, ...registryOptions } = options;
  const names = { reference: "reference", platform: "platform", ...inputNames };
  const ref = parseImageReference(reference, names.reference);
  const platform = wanted === undefined ? undefined : parsePlatform(wanted, names.platform);
  const credentials =
    options.username !== undefined ? {} : dockerConfigCredentials(ref.registry, dockerConfig);
  const client = new RegistryClient(ref.registry, { ...registryOptions, ...credentials });
  const subject = await resolveSubject(
    client,
    ref.repository,
    ref.digest ?? ref.tag ?? "latest",
    platform,
    names,
  );
  const image = `${ref.registry}/${ref.repository}@${subject}`;
  const { entries, mechanism } = await listReferrers(client, ref.repository, subject);
  const sboms = entries.filter((entry) => entry.artifactType === CYCLONEDX_MEDIA_TYPE);
  if (sboms.length === 0) {
    throw new SbomError(
      image,
      `has no CycloneDX SBOM attached (looked up through the ${mechanism})`,
      "Deploy it with minimal-image's component, whose recipe option `sbom` attaches one by default, or check that the reference names the image the component pushed",
    );
  }
  if (new Set(sboms.map((entry) => entry.digest)).size > 1) {
    throw new SbomError(
      image,
      `has ${sboms.length} CycloneDX SBOMs attached (${sboms.map((entry) => entry.digest).join(", ")})`,
      "Delete the stale artifacts from the registry, so that one SBOM describes the image",
    );
  }
  const document = await fetchDocument(client, ref.repository, image, sboms[0], subject);
  return { image, sbomDigest: sboms[0].digest, mechanism, document };
}

/** The digest of the single-platform manifest the reference names, choosing from an index. */
async function resolveSubject(
  client: RegistryClient,
  repository: string,
  reference: string,
  platform: ReturnType<typeof parsePlatform> | undefined,
  names: { reference: string; platform: string },
): Promise<string> {
  const top = await client.fetchManifest(repository, reference);
  const problem = manifestProblem(top.json);
  if (problem !== undefined) {
    throw new RegistryError(
      client.registry,
      `manifest ${top.digest} of repository "${repository}" is not a valid image manifest or index: ${problem}`,
      "Check the image reference",
    );
  }
  const index = top.json as { manifests?: ReferrerDescriptor[] };
  if (index.manifests === undefined) return top.digest;
  // Build attestations sit in indexes as pseudo-platform unknown/unknown; they are not images.
  const images = index.manifests.filter(
    (entry) => entry.platform !== undefined && entry.platform.os !== "unknown",
  );
  const listed = images.map((entry) => formatPlatform(entry.platform!)).join(", ") || "none";
  const chosen =
    platform === undefined
      ? images.length === 1
        ? images[0]
        : undefined
      : images.find((entry) => platformMatches(entry.platform!, platform));
  if (chosen === undefined) {
    throw new SbomError(
      `${client.registry}/${repository}@${top.digest}`,
      platform === undefined
        ? `${names.reference} names an index of several platforms (${listed}), each with its own SBOM`
        : `the index has no image for ${names.platform} ${formatPlatform(platform)} (it has: ${listed})`,
      `Give ${names.platform} with one of: ${listed}`,
    );
  }
  return chosen.digest;
}

/** The artifact's document: its manifest checked (subject, one CycloneDX layer, size), its bytes verified. */
async function fetchDocument(
  client: RegistryClient,
  repository: string,
  image: string,
  entry: ReferrerDescriptor,
  subject: string,
): Promise<Buffer> {
  const { json } = await client.fetchManifest(repository, entry.digest);
  const problem = manifestProblem(json);
  const manifest = json as { layers?: ReferrerDescriptor[]; subject?: unknown };
  const layer = manifest.layers?.[0];
  const about = isObject(manifest.subject) ? manifest.subject.digest : undefined;
  if (
    problem !== undefined ||
    manifest.layers?.length !== 1 ||
    layer?.mediaType !== CYCLONEDX_MEDIA_TYPE ||
    about !== subject
  ) {
    throw new SbomError(
      image,
      `the SBOM artifact ${entry.digest} is not one CycloneDX layer whose subject is this image${problem ? ` (${problem})` : ""}`,
      "Attach the SBOM again with the component, or delete the malformed artifact",
    );
  }
  if (layer.size > MAX_SBOM_BYTES) {
    throw new SbomError(
      image,
      `the SBOM artifact ${entry.digest} says its document is ${layer.size} bytes, more than ${MAX_SBOM_BYTES}`,
      "Check what was attached to the image: an SBOM of one static binary is far smaller",
    );
  }
  // openBlob fails past the declared size or on a digest mismatch, so what is read here is verified.
  return readAll(await client.openBlob(repository, layer));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
