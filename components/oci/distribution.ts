/**
 * The OCI distribution protocol over {@link RegistryTransport}: manifests and indexes resolved to one
 * platform's image, blobs read by digest and verified, and every answer checked against the digest asked for;
 * blobs and manifests written, each checked against the digest the registry says it stored.
 */
import { createHash, type Hash } from "node:crypto";
import { Readable, Transform, pipeline } from "node:stream";
import { outsideText } from "../outside-text";
import { DEFAULT_PLATFORM, formatPlatform, parsePlatform, platformMatches, type Platform } from "../platform";
import {
  ACCEPT,
  type Descriptor,
  type ImageIndex,
  type ImageManifest,
  manifestProblem,
  MAX_CONFIG_BYTES,
  MEDIA,
  MAX_INDEX_DEPTH,
  MAX_MANIFEST_BYTES,
} from "./documents";
import {
  type Answer,
  discard,
  parseJson,
  RegistryError,
  type RegistryOptions,
  RegistryTransport,
} from "./transport";
import { isDigest } from "../reference";
import { isObject } from "../validation";

function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A manifest or index as the registry serves it: its exact bytes, their digest and size, and its parse. */
export interface FetchedManifest {
  digest: string;
  /** The document's own `mediaType`, else the Content-Type it was served with. */
  mediaType: string;
  size: number;
  bytes: Buffer;
  json: unknown;
}

/** An index entry for one platform's image. */
export type PlatformDescriptor = Descriptor & { platform: Platform };

/** An image manifest and the digests that identify it. */
export interface ResolvedImage {
  /** Digest of the manifest the reference names: the index when it names a multi-platform image. */
  digest: string;
  /** Digest of the single-platform manifest: equals `digest` unless the reference names an index. */
  manifestDigest: string;
  manifest: ImageManifest;
}

/**
 * A client for the OCI distribution API of one registry: manifests and blobs by digest, with anonymous,
 * basic and bearer-token authentication (through its transport).
 */
export class RegistryClient {
  private readonly transport: RegistryTransport;

  /** @param registry host[:port] as in an image reference; `docker.io` means Docker Hub. */
  constructor(
    readonly registry: string,
    options: RegistryOptions = {},
  ) {
    this.transport = new RegistryTransport(registry, options);
  }

  /**
   * Fetches the manifest `reference` (tag or digest) names and, when it is an index, the manifest for
   * `platform`, skipping attestation entries. Every manifest is checked against the digest it was asked by.
   */
  async resolveImage(repository: string, reference: string, platform?: Platform): Promise<ResolvedImage> {
    let { digest, json } = await this.fetchManifest(repository, reference);
    const top = digest;
    for (let depth = 0; ; depth++) {
      const document = this.checkDocument(repository, digest, json);
      if (!("manifests" in document)) return { digest: top, manifestDigest: digest, manifest: document };
      if (depth === MAX_INDEX_DEPTH) {
        throw new RegistryError(
          this.registry,
          `${repository}@${top} nests indexes more than ${MAX_INDEX_DEPTH} deep`,
          "Push a flat index",
        );
      }
      const entry = this.choosePlatform(
        repository,
        document.manifests,
        platform ?? parsePlatform(DEFAULT_PLATFORM),
      );
      ({ digest, json } = await this.fetchManifest(repository, entry.digest));
    }
  }

  /**
   * Fetches the manifest `reference` (tag or digest) names: for an index, its platform images in the index's
   * order, attestation and unknown/unknown entries left out; for a single-platform image, no `images`.
   */
  async listPlatforms(
    repository: string,
    reference: string,
  ): Promise<{ digest: string; images?: PlatformDescriptor[] }> {
    const { digest, json } = await this.fetchManifest(repository, reference);
    const document = this.checkDocument(repository, digest, json);
    return "manifests" in document ? { digest, images: platformImages(document.manifests) } : { digest };
  }

  /** Reads a small JSON blob such as an image config, checking its size and digest. */
  async fetchJsonBlob(repository: string, descriptor: Descriptor): Promise<unknown> {
    if (descriptor.size > MAX_CONFIG_BYTES) {
      throw new RegistryError(
        this.registry,
        `blob ${descriptor.digest} of repository "${repository}" is ${descriptor.size} bytes, too large for an image config`,
        "Check that the manifest is a container image",
      );
    }
    const what = `blob ${descriptor.digest} of repository "${repository}"`;
    const answer = await this.transport.get(repository, `/blobs/${descriptor.digest}`, what, "*/*");
    const bytes = await this.transport.readBody(answer, descriptor.size, what);
    this.checkDigest(bytes, descriptor.digest, what);
    if (bytes.length !== descriptor.size) {
      throw new RegistryError(
        this.registry,
        `${what} is ${bytes.length} bytes but the manifest says ${descriptor.size}`,
        "The registry storage may be corrupt; push the image again",
      );
    }
    return parseJson(bytes, what, this.registry);
  }

  /**
   * Streams a blob such as a layer. The stream fails if the bytes exceed the descriptor's size or do not
   * match its digest, so a caller that reads to the end has verified content.
   */
  async openBlob(repository: string, descriptor: Descriptor): Promise<Readable> {
    const what = `blob ${descriptor.digest} of repository "${repository}"`;
    const answer = await this.transport.get(repository, `/blobs/${descriptor.digest}`, what, "*/*");
    const { watchdog } = answer;
    const hash = createHash(descriptor.digest.split(":")[0]);
    let received = 0;
    const verifier = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        received += chunk.length;
        if (received > descriptor.size) {
          done(
            new RegistryError(
              this.registry,
              `${what} is larger than the ${descriptor.size} bytes the manifest says`,
              "The registry storage may be corrupt; push the image again",
            ),
          );
          return;
        }
        hash.update(chunk);
        done(null, chunk);
      },
      flush: (done) => {
        watchdog.stop();
        done(this.verifyStreamed(hash, received, descriptor, what));
      },
    });
    return pipeline(Readable.from(this.transport.chunks(answer, what)), verifier, () => watchdog.stop());
  }

  private verifyStreamed(
    hash: Hash,
    received: number,
    descriptor: Descriptor,
    what: string,
  ): RegistryError | null {
    const actual = `${descriptor.digest.split(":")[0]}:${hash.digest("hex")}`;
    if (received !== descriptor.size || actual !== descriptor.digest) {
      return new RegistryError(
        this.registry,
        `${what} arrived as ${received} bytes with digest ${actual}, expected ${descriptor.size} bytes`,
        "The registry storage may be corrupt, or a proxy altered the download; push the image again",
      );
    }
    return null;
  }

  /** `json` as a manifest or an index, or a RegistryError naming what keeps it from being one. */
  private checkDocument(repository: string, digest: string, json: unknown): ImageManifest | ImageIndex {
    const problem = manifestProblem(json);
    if (problem) {
      throw new RegistryError(
        this.registry,
        `manifest ${digest} of repository "${repository}" is not a valid image manifest or index: ${problem}`,
        "Push the image again with a current Docker or OCI tool (schema 1 manifests are not supported)",
      );
    }
    return json as ImageManifest | ImageIndex;
  }

  private choosePlatform(repository: string, entries: Descriptor[], want: Platform): Descriptor {
    const images = platformImages(entries);
    const match = images.find((e) => platformMatches(e.platform, want));
    if (match) return match;
    const available = outsideText(images.map((e) => formatPlatform(e.platform)).join(", ") || "none");
    throw new RegistryError(
      this.registry,
      `repository "${repository}" has no image for platform ${formatPlatform(want)} (available: ${available})`,
      "Set platform to one of the available ones, or build the image for this platform",
    );
  }

  /** Fetches the manifest or index `reference` (tag or digest) names, bounded and checked against a digest. */
  async fetchManifest(repository: string, reference: string): Promise<FetchedManifest> {
    const what = `manifest "${reference}" of repository "${repository}"`;
    const answer = await this.transport.get(repository, `/manifests/${reference}`, what, ACCEPT);
    const served = outsideText(answer.response.headers.get("content-type") ?? "", 200);
    const bytes = await this.transport.readBody(answer, MAX_MANIFEST_BYTES, what);
    // The digest of the bytes as served is the manifest's identity; a pinned digest must match it.
    const digest = isDigest(reference) ? this.checkDigest(bytes, reference, what) : sha256Digest(bytes);
    const json = parseJson(bytes, what, this.registry);
    const own = isObject(json) && typeof json.mediaType === "string" ? outsideText(json.mediaType, 200) : "";
    return { digest, mediaType: own || served, size: bytes.length, bytes, json };
  }

  /**
   * The referrers API's list of the artifacts whose `subject` is `digest` (distribution-spec 1.1), parsed
   * but not yet checked; undefined when the registry has no such API: it answers 404 (registries before 1.1,
   * Debian's docker-registry 2.8 among them), or something other than an OCI index.
   */
  async fetchReferrers(repository: string, digest: string): Promise<unknown> {
    const what = `the referrers of ${repository}@${digest}`;
    let answer: Answer;
    try {
      answer = await this.transport.get(repository, `/referrers/${digest}`, what, MEDIA.ociIndex);
    } catch (err) {
      if (err instanceof RegistryError && err.status === 404) return undefined;
      throw err;
    }
    if (!(answer.response.headers.get("content-type") ?? "").startsWith(MEDIA.ociIndex)) {
      await discard(answer);
      return undefined;
    }
    return parseJson(await this.transport.readBody(answer, MAX_MANIFEST_BYTES, what), what, this.registry);
  }

  /**
   * Uploads a small blob (a manifest's config, an SBOM) unless the repository has it already, in the two
   * steps every registry supports: POST opens an upload, PUT to the location it hands out closes it with
   * the digest. Returns the digest.
   */
  async putBlob(repository: string, bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    const what = `blob ${digest} of repository "${repository}"`;
    const head = `/v2/${repository}/blobs/${digest}`;
    try {
      await discard(await this.transport.request(repository, head, what, { method: "HEAD", access: "push" }));
      return digest;
    } catch (err) {
      if (!(err instanceof RegistryError && err.status === 404)) throw err;
    }
    const opened = await this.transport.request(repository, `/v2/${repository}/blobs/uploads/`, what, {
      method: "POST",
      access: "push",
    });
    const location = opened.response.headers.get("location");
    await discard(opened);
    if (!location) {
      throw new RegistryError(
        this.registry,
        `opened an upload of ${what} without a Location to send it to`,
        "Check that the address is an OCI registry that accepts pushes",
      );
    }
    const closed = await this.transport.request(repository, location, what, {
      method: "PUT",
      query: { digest },
      access: "push",
      contentType: "application/octet-stream",
      body: bytes,
    });
    await discard(closed);
    this.checkStored(closed, digest, what);
    return digest;
  }

  /**
   * Puts a manifest or index under `reference` (a tag, or its own digest), after the blobs and manifests it
   * refers to. Returns its digest, which the registry must confirm.
   */
  async putManifest(
    repository: string,
    reference: string,
    bytes: Buffer,
    mediaType: string,
  ): Promise<string> {
    const digest = sha256Digest(bytes);
    const what = `manifest "${reference}" of repository "${repository}"`;
    if (isDigest(reference) && reference !== digest) {
      throw new RegistryError(
        this.registry,
        `${what} cannot be put: its bytes have digest ${digest}`,
        "Put a manifest under its own digest, or under a tag",
      );
    }
    if (bytes.length > MAX_MANIFEST_BYTES) {
      throw new RegistryError(
        this.registry,
        `${what} is ${bytes.length} bytes, more than the ${MAX_MANIFEST_BYTES} registries accept`,
        "Put a smaller manifest",
      );
    }
    const stored = await this.transport.request(
      repository,
      `/v2/${repository}/manifests/${reference}`,
      what,
      {
        method: "PUT",
        access: "push",
        contentType: mediaType,
        body: bytes,
      },
    );
    await discard(stored);
    this.checkStored(stored, digest, what);
    return digest;
  }

  /**
   * A registry that names another digest for what it stored than the bytes sent has altered them. Checked
   * after the answer is let go of, so a failure leaves no request timer running.
   */
  private checkStored(answer: Answer, digest: string, what: string): void {
    const named = answer.response.headers.get("docker-content-digest");
    if (named !== null && named !== digest) {
      throw new RegistryError(
        this.registry,
        `stored ${what} as ${outsideText(named, 150)}, not as the ${digest} sent`,
        "The registry or a proxy altered the upload; check their configuration",
      );
    }
  }

  /** `digest` is already validated: the reference parser and `isDescriptor` accept only DIGEST. */
  private checkDigest(bytes: Buffer, digest: string, what: string): string {
    const [algorithm, hex] = digest.split(":");
    const actual = createHash(algorithm).update(bytes).digest("hex");
    if (actual !== hex) {
      throw new RegistryError(
        this.registry,
        `${what} has digest ${algorithm}:${actual}, not the ${digest} it was asked for`,
        "The registry storage may be corrupt, or a proxy altered the answer; push the image again",
      );
    }
    return digest;
  }
}

/**
 * An index's images: its entries with a platform, less build attestations (SBOM, provenance), which sit in
 * indexes as the pseudo-platform unknown/unknown.
 */
function platformImages(entries: Descriptor[]): PlatformDescriptor[] {
  return entries.filter(
    (e): e is PlatformDescriptor =>
      e.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest" &&
      e.platform !== undefined &&
      !(e.platform.os === "unknown" && e.platform.architecture === "unknown"),
  );
}
