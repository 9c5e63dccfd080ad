/**
 * The referrers of an image (OCI distribution-spec 1.1): the artifacts whose `subject` is its digest. A
 * registry with the referrers API lists them itself; for one without (Debian's docker-registry 2.8), the
 * spec's tag-schema fallback keeps them in an index tagged `sha256-<hex of the subject>`, which the client
 * that pushes an artifact updates (read, merge, write).
 */
import { type RegistryClient, RegistryError } from "../oci";
import { manifestProblem } from "../oci/documents";
import { isObject } from "../validation";
import {
  OCI_INDEX_MEDIA_TYPE,
  type ReferrerDescriptor,
  SBOM_ANNOTATION,
  type SbomArtifact,
} from "./artifact";

/** How the referrers of an image were found or recorded. */
export type ReferrersMechanism = "referrers API" | "fallback tag";

/** The fallback tag of a subject: `sha256:<hex>` becomes `sha256-<hex>` (distribution-spec "Referrers Tag Schema"). */
export function fallbackTag(subjectDigest: string): string {
  return subjectDigest.replace(":", "-");
}

/** The entries of a referrers index from a registry, checked like any index; `what` names it in errors. */
export function referrerEntries(json: unknown, what: string, registry: string): ReferrerDescriptor[] {
  const problem = manifestProblem(json);
  if (problem !== undefined || !isObject(json) || !Array.isArray(json.manifests)) {
    throw new RegistryError(
      registry,
      `${what} is not a valid OCI index: ${problem ?? "it lists no manifests"}`,
      "Delete the tag or fix the registry's referrers list, then attach the SBOM again",
    );
  }
  return json.manifests as ReferrerDescriptor[];
}

/**
 * The fallback index with `added` in it: every other referrer kept (signatures, other tools' SBOMs), an SBOM
 * minimal-image attached before replaced, no digest twice, entries sorted by digest so the same set always
 * gives the same bytes.
 */
export function mergeReferrers(existing: readonly ReferrerDescriptor[], added: ReferrerDescriptor): Buffer {
  const kept = existing.filter(
    (entry) => entry.digest !== added.digest && entry.annotations?.[SBOM_ANNOTATION] === undefined,
  );
  const manifests = [...kept, added].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
  return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests }));
}

/**
 * The referrers of `subjectDigest` in `repository`: the registry's referrers API when it answers, else the
 * fallback tag's index; none when neither exists.
 */
export async function listReferrers(
  client: RegistryClient,
  repository: string,
  subjectDigest: string,
): Promise<{ entries: ReferrerDescriptor[]; mechanism: ReferrersMechanism }> {
  const what = `the referrers of ${repository}@${subjectDigest}`;
  const listed = await client.fetchReferrers(repository, subjectDigest);
  if (listed !== undefined) {
    const entries = referrerEntries(listed, what, client.registry);
    // An empty answer may come from a registry that keeps the list but was written to by fallback clients.
    if (entries.length > 0) return { entries, mechanism: "referrers API" };
  }
  return { entries: await fallbackEntries(client, repository, subjectDigest), mechanism: "fallback tag" };
}

/**
 * Records `artifact` (pushed already) as a referrer of `subjectDigest`: nothing more to do when the registry's
 * referrers API lists it, else the fallback tag's index is read, merged and written back.
 */
export async function recordReferrer(
  client: RegistryClient,
  repository: string,
  subjectDigest: string,
  artifact: SbomArtifact,
): Promise<ReferrersMechanism> {
  const listed = await client.fetchReferrers(repository, subjectDigest);
  if (listed !== undefined) {
    const entries = referrerEntries(
      listed,
      `the referrers of ${repository}@${subjectDigest}`,
      client.registry,
    );
    if (entries.some((entry) => entry.digest === artifact.digest)) return "referrers API";
  }
  const existing = await fallbackEntries(client, repository, subjectDigest);
  await client.putManifest(
    repository,
    fallbackTag(subjectDigest),
    mergeReferrers(existing, artifact.descriptor),
    OCI_INDEX_MEDIA_TYPE,
  );
  return "fallback tag";
}

/** The fallback tag's entries; none when the tag does not exist yet. */
async function fallbackEntries(
  client: RegistryClient,
  repository: string,
  subjectDigest: string,
): Promise<ReferrerDescriptor[]> {
  const tag = fallbackTag(subjectDigest);
  try {
    const { json } = await client.fetchManifest(repository, tag);
    return referrerEntries(json, `the referrers index ${repository}:${tag}`, client.registry);
  } catch (error) {
    if (error instanceof RegistryError && error.status === 404) return [];
    throw error;
  }
}
