/**
 * Attaches an image's SBOM in the registry: the facts are read from the carrier image, turned into the SBOM
 * document, pushed as an OCI artifact whose `subject` is the image, and recorded as the image's referrer.
 * The image itself is not touched: it stays the binary alone.
 */
import { dockerConfigCredentials, RegistryClient, type RegistryOptions } from "../oci";
import { parseImageReference } from "../reference";
import { InputError } from "../validation";
import { EMPTY_CONFIG, OCI_MANIFEST_MEDIA_TYPE, sbomArtifact } from "./artifact";
import { CARRIER_LIMITS, type CarrierLimits, readCarrierFacts } from "./carrier";
import { recordReferrer, type ReferrersMechanism } from "./referrers";

/** What to attach to what, and how to reach the registry. */
export interface AttachOptions {
  /** The carrier image by digest, `registry/repo@sha256:…`. */
  carrierRef: string;
  /** The image the SBOM describes, by digest, in the same registry. */
  subjectRef: string;
  /** Registry credentials; without them, those of `docker login`, as the provider's push uses them. */
  username?: string;
  password?: string;
  /** The SBOM document from the carrier's facts (keys relative to `/sbom/`). */
  render(facts: ReadonlyMap<string, Buffer>): Buffer;
  limits?: CarrierLimits;
  /** Transport settings (plain http, timeouts); the credentials above win. */
  registry?: RegistryOptions;
  /** Docker client configuration consulted when no username is given (default: the usual file). */
  dockerConfig?: string;
}

/** What was attached: the artifact's manifest digest, and how the registry lists it as a referrer. */
export interface Attachment {
  sbomDigest: string;
  mechanism: ReferrersMechanism;
}

/**
 * Reads the carrier, renders the SBOM, pushes its blob, the empty config and the artifact manifest (by
 * digest, no tag), then records it as a referrer of the subject. Every step writes content-addressed data,
 * so a retry after a failure repeats nothing harmful.
 * @throws InputError for references not by digest or in two registries, RegistryError, SbomError.
 */
export async function attachSbom(options: AttachOptions): Promise<Attachment> {
  const carrier = byDigest(options.carrierRef, "carrierRef");
  const subject = byDigest(options.subjectRef, "subjectRef");
  if (carrier.registry !== subject.registry) {
    throw new InputError(
      "carrierRef",
      `is in registry ${carrier.registry}, the image in ${subject.registry}`,
      "Push the SBOM carrier to the image's registry",
    );
  }
  const credentials = options.username
    ? { username: options.username, password: options.password ?? "" }
    : dockerConfigCredentials(subject.registry, options.dockerConfig);
  const client = new RegistryClient(subject.registry, { ...options.registry, ...credentials });
  const carrierImage = `${carrier.registry}/${carrier.repository}@${carrier.digest}`;
  const { manifest } = await client.resolveImage(carrier.repository, carrier.digest);
  const facts = await readCarrierFacts(
    client,
    carrier.repository,
    carrierImage,
    manifest,
    options.limits ?? CARRIER_LIMITS,
  );
  const sbom = options.render(facts);
  const image = await client.fetchManifest(subject.repository, subject.digest);
  const artifact = sbomArtifact(sbom, image);
  await client.putBlob(subject.repository, EMPTY_CONFIG.bytes);
  await client.putBlob(subject.repository, sbom);
  await client.putManifest(subject.repository, artifact.digest, artifact.manifest, OCI_MANIFEST_MEDIA_TYPE);
  const mechanism = await recordReferrer(client, subject.repository, subject.digest, artifact);
  return { sbomDigest: artifact.digest, mechanism };
}

function byDigest(value: string, field: string): { registry: string; repository: string; digest: string } {
  const ref = parseImageReference(value, field);
  if (ref.digest === undefined) {
    throw new InputError(field, `"${value}" names no digest`, "Give the image as `registry/repo@sha256:…`");
  }
  return { registry: ref.registry, repository: ref.repository, digest: ref.digest };
}
