import { createHash, type Hash } from "node:crypto";
import { Readable, Transform, pipeline } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { InputError } from "../errors";

/**
 * A registry that cannot be reached, refuses access, or does not have what was asked for. The message names
 * the registry and the fix, and never contains a password.
 */
export class RegistryError extends Error {
  constructor(
    /** The registry as named in the image reference, e.g. `127.0.0.1:5000`. */
    readonly registry: string,
    problem: string,
    fix: string,
    /** The HTTP status when the registry answered, e.g. 401 or 404. */
    readonly status?: number,
  ) {
    super(`minimal-image: registry ${registry}: ${problem}. ${fix}.`);
    this.name = "RegistryError";
  }
}

/** How to reach and log in to a registry. */
export interface RegistryOptions {
  username?: string;
  password?: string;
  /** Speak http instead of https. Default: true for `localhost`, `127.*` and `[::1]`, false otherwise. */
  plainHttp?: boolean;
  /** Longest wait in milliseconds for a response to start, or for the next bytes of a body. Default 60000. */
  timeoutMs?: number;
}

/** An OS and CPU, e.g. `{ os: "linux", architecture: "arm64" }`. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

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

/** An image manifest and the digests that identify it. */
export interface ResolvedImage {
  /** Digest of the manifest the reference names: the index when it names a multi-platform image. */
  digest: string;
  /** Digest of the single-platform manifest: equals `digest` unless the reference names an index. */
  manifestDigest: string;
  manifest: ImageManifest;
}

const MEDIA = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
};
const ACCEPT = Object.values(MEDIA).join(", ");
/** The distribution spec's limit for manifests; larger answers are not manifests. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
const MAX_REDIRECTS = 5;
/** Indexes may nest; real images use at most one level, so two is generous. */
const MAX_INDEX_DEPTH = 2;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** The platform this process runs on, as OCI names it: `linux/amd64`, `linux/arm64`, … */
export function defaultPlatform(): Platform {
  const arch: Record<string, string> = { x64: "amd64", ia32: "386" };
  return { os: "linux", architecture: arch[process.arch] ?? process.arch };
}

/** Parses `os/arch[/variant]`, e.g. `linux/arm64` or `linux/arm/v7`. */
export function parsePlatform(value: string, field = "platform"): Platform {
  const parts = value.split("/");
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw new InputError(
      field,
      `"${value}" is not a platform`,
      "Use `os/arch[/variant]`, e.g. `linux/amd64`.",
    );
  }
  const [os, architecture, variant] = parts;
  return variant === undefined ? { os, architecture } : { os, architecture, variant };
}

/** True when `have` satisfies `want`; a missing wanted variant accepts any, and arm64 means arm64/v8. */
export function platformMatches(have: Platform, want: Platform): boolean {
  const variant = (p: Platform) => p.variant ?? (p.architecture === "arm64" ? "v8" : undefined);
  return (
    have.os === want.os &&
    have.architecture === want.architecture &&
    (want.variant === undefined || variant(have) === variant(want))
  );
}

/** `linux/arm/v7` form of a platform. */
export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** True for hosts that only this machine can reach, where registries commonly serve plain http. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith("[")
    ? registry.slice(0, registry.indexOf("]") + 1)
    : registry.split(":")[0];
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Watches a request: aborts it with `stalled()` when no headers or body bytes arrive within the timeout. */
class Watchdog {
  readonly controller = new AbortController();
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly ms: number,
    private readonly stalled: () => Error,
  ) {
    this.kick();
  }

  kick(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(this.stalled()), this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** A response whose body is still to be read, with the watchdog that guards the read. */
interface Answer {
  response: Response;
  watchdog: Watchdog;
}

/** Parses `Bearer realm="…",service="…"` into its scheme and parameters. */
function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const space = header.indexOf(" ");
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const params: Record<string, string> = {};
  for (const m of header.slice(space + 1).matchAll(/([a-zA-Z_]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
  }
  return { scheme, params };
}

/**
 * A client for the OCI distribution API of one registry: manifests and blobs by digest, with anonymous,
 * basic and bearer-token authentication.
 */
export class RegistryClient {
  private readonly base: string;
  private readonly timeoutMs: number;
  /** Authorization header per repository, once a challenge has been answered. */
  private readonly authorization = new Map<string, string>();

  /** @param registry host[:port] as in an image reference; `docker.io` means Docker Hub. */
  constructor(
    readonly registry: string,
    private readonly options: RegistryOptions = {},
  ) {
    const host =
      registry === "docker.io" || registry === "index.docker.io" ? "registry-1.docker.io" : registry;
    const plain = options.plainHttp ?? isLoopbackRegistry(registry);
    this.base = `${plain ? "http" : "https"}://${host}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /**
   * Fetches the manifest `reference` (tag or digest) names and, when it is an index, the manifest for
   * `platform`, skipping attestation entries. Every manifest is checked against the digest it was asked by.
   */
  async resolveImage(repository: string, reference: string, platform?: Platform): Promise<ResolvedImage> {
    let { digest, json } = await this.fetchManifest(repository, reference);
    const top = digest;
    for (let depth = 0; isIndex(json); depth++) {
      if (depth === MAX_INDEX_DEPTH) {
        throw new RegistryError(
          this.registry,
          `${repository}@${top} nests indexes too deep`,
          "Push a flat index",
        );
      }
      const entry = this.choosePlatform(repository, json.manifests, platform ?? defaultPlatform());
      ({ digest, json } = await this.fetchManifest(repository, entry.digest));
    }
    if (!isImageManifest(json)) {
      throw new RegistryError(
        this.registry,
        `manifest ${digest} of repository "${repository}" is not a valid image manifest or index`,
        "Push the image again with a current Docker or OCI tool (schema 1 manifests are not supported)",
      );
    }
    return { digest: top, manifestDigest: digest, manifest: json };
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
    const answer = await this.get(repository, `/blobs/${descriptor.digest}`, what, "*/*");
    const bytes = await this.readBody(answer, descriptor.size, what);
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
    const { response, watchdog } = await this.get(repository, `/blobs/${descriptor.digest}`, what, "*/*");
    const hash = createHash(descriptor.digest.split(":")[0]);
    let received = 0;
    const verifier = new Transform({
      transform: (chunk: Buffer, _encoding, done) => {
        watchdog.kick();
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
    return pipeline(bodyStream(response), verifier, () => watchdog.stop());
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

  private choosePlatform(repository: string, entries: Descriptor[], want: Platform): Descriptor {
    // Build attestations (SBOM, provenance) sit in indexes as pseudo-platform unknown/unknown.
    const images = entries.filter(
      (e) =>
        e.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest" &&
        e.platform !== undefined &&
        !(e.platform.os === "unknown" && e.platform.architecture === "unknown"),
    );
    const match = images.find((e) => platformMatches(e.platform!, want));
    if (match) return match;
    const available = images.map((e) => formatPlatform(e.platform!)).join(", ") || "none";
    throw new RegistryError(
      this.registry,
      `repository "${repository}" has no image for platform ${formatPlatform(want)} (available: ${available})`,
      "Set platform to one of the available ones, or build the image for this platform",
    );
  }

  private async fetchManifest(
    repository: string,
    reference: string,
  ): Promise<{ digest: string; json: unknown }> {
    const what = `manifest "${reference}" of repository "${repository}"`;
    const answer = await this.get(repository, `/manifests/${reference}`, what, ACCEPT);
    const bytes = await this.readBody(answer, MAX_MANIFEST_BYTES, what);
    // The digest of the bytes as served is the manifest's identity; a pinned digest must match it.
    const digest = DIGEST.test(reference)
      ? this.checkDigest(bytes, reference, what)
      : `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    return { digest, json: parseJson(bytes, what, this.registry) };
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

  /** GET `/v2/<repository><path>`, answering an auth challenge once, and failing with a clear error. */
  private async get(repository: string, path: string, what: string, accept: string): Promise<Answer> {
    const url = `${this.base}/v2/${repository}${path}`;
    let answer = await this.send(url, this.headers(repository, accept), what);
    if (answer.response.status === 401) {
      await discard(answer);
      const header = await this.authenticate(repository, answer.response);
      this.authorization.set(repository, header);
      answer = await this.send(url, this.headers(repository, accept), what);
      if (answer.response.status === 401) {
        await discard(answer);
        throw this.credentialsError(repository, header.startsWith("Basic") ? "rejected" : "denied");
      }
    }
    const { status } = answer.response;
    if (status >= 200 && status < 300) return answer;
    const detail = await this.errorDetail(answer);
    if (status === 404) {
      const problem =
        detail.code === "NAME_UNKNOWN"
          ? `has no repository "${repository}"`
          : `has no ${what}${detail.code ? ` (${detail.code})` : ""}`;
      throw new RegistryError(
        this.registry,
        problem,
        "Check the image reference, and that the image was pushed to this registry",
        404,
      );
    }
    if (status === 403) {
      throw new RegistryError(
        this.registry,
        `refused access to ${what} (HTTP 403${detail.message ? `: ${detail.message}` : ""})`,
        this.options.username !== undefined
          ? `Grant user "${this.options.username}" pull access to "${repository}"`
          : "Set registry.username and registry.password for an account with pull access",
        403,
      );
    }
    throw new RegistryError(
      this.registry,
      `answered HTTP ${status} for ${what}${detail.message ? `: ${detail.message}` : ""}`,
      "Check the registry's health and logs",
      status,
    );
  }

  private headers(repository: string, accept: string): Record<string, string> {
    const auth = this.authorization.get(repository);
    return { accept, ...(auth ? { authorization: auth } : {}) };
  }

  /** Answers a 401 challenge: returns the Authorization header to retry with. */
  private async authenticate(repository: string, response: Response): Promise<string> {
    const { username, password } = this.options;
    const hasCredentials = username !== undefined && password !== undefined;
    const basic = hasCredentials
      ? `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`
      : undefined;
    const { scheme, params } = parseChallenge(response.headers.get("www-authenticate") ?? "");
    if (scheme === "basic") {
      if (!basic) throw this.credentialsError(repository, "missing");
      return basic;
    }
    if (scheme !== "bearer" || !params.realm) {
      throw new RegistryError(
        this.registry,
        `asked for authentication with an unsupported challenge "${scheme || "(none)"}"`,
        "Use a registry that supports Basic or Bearer token authentication",
        401,
      );
    }
    const tokenUrl = new URL(params.realm);
    if (params.service) tokenUrl.searchParams.set("service", params.service);
    tokenUrl.searchParams.set("scope", params.scope ?? `repository:${repository}:pull`);
    const what = `a token from ${tokenUrl.origin}`;
    const answer = await this.send(tokenUrl.toString(), basic ? { authorization: basic } : {}, what);
    if (answer.response.status === 401) {
      await discard(answer);
      throw this.credentialsError(repository, basic ? "rejected" : "missing");
    }
    if (answer.response.status !== 200) {
      const detail = await this.errorDetail(answer);
      throw new RegistryError(
        this.registry,
        `token service ${tokenUrl.origin} answered HTTP ${answer.response.status}${detail.message ? `: ${detail.message}` : ""}`,
        "Check the registry's token service",
        answer.response.status,
      );
    }
    const body = parseJson(await this.readBody(answer, MAX_MANIFEST_BYTES, what), what, this.registry) as {
      token?: unknown;
      access_token?: unknown;
    };
    const token = body.token ?? body.access_token;
    if (typeof token !== "string" || token.length === 0) {
      throw new RegistryError(
        this.registry,
        `token service ${tokenUrl.origin} answered without a token`,
        "Check the registry's token service",
      );
    }
    return `Bearer ${token}`;
  }

  private credentialsError(repository: string, kind: "missing" | "rejected" | "denied"): RegistryError {
    const user = this.options.username;
    if (kind === "missing" || user === undefined) {
      return new RegistryError(
        this.registry,
        `needs credentials to read repository "${repository}" (or the repository does not exist)`,
        "Set registry.username and registry.password",
        401,
      );
    }
    if (kind === "rejected") {
      return new RegistryError(
        this.registry,
        `rejected the credentials for user "${user}"`,
        "Check registry.username and registry.password",
        401,
      );
    }
    return new RegistryError(
      this.registry,
      `accepted user "${user}" but denied access to repository "${repository}" (or it does not exist)`,
      `Check the repository name and that "${user}" may pull it`,
      401,
    );
  }

  /** One request with manual redirects, so credentials are never sent to another origin. */
  private async send(url: string, headers: Record<string, string>, what: string): Promise<Answer> {
    let current = new URL(url);
    const origin = current.origin;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const watchdog = new Watchdog(
        this.timeoutMs,
        () =>
          new RegistryError(
            this.registry,
            `sent nothing for ${this.timeoutMs / 1000} s while serving ${what}`,
            "Check the registry's health and network, or raise timeoutMs",
          ),
      );
      let response: Response;
      try {
        response = await fetch(current, {
          headers: current.origin === origin ? headers : { accept: headers.accept ?? "*/*" },
          redirect: "manual",
          signal: watchdog.controller.signal,
        });
      } catch (err) {
        watchdog.stop();
        throw this.unreachableError(current, err);
      }
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) {
        watchdog.kick();
        return { response, watchdog };
      }
      watchdog.stop();
      await response.body?.cancel();
      current = new URL(location, current);
    }
    throw new RegistryError(
      this.registry,
      `redirected more than ${MAX_REDIRECTS} times for ${url}`,
      "Check the registry's storage redirect settings",
    );
  }

  /** Reads a whole body, refusing more than `limit` bytes so a hostile answer cannot fill memory. */
  private async readBody({ response, watchdog }: Answer, limit: number, what: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of bodyStream(response)) {
        watchdog.kick();
        size += (chunk as Buffer).length;
        if (size > limit) {
          throw new RegistryError(
            this.registry,
            `${what} is larger than ${limit} bytes`,
            "Check the image reference",
          );
        }
        chunks.push(chunk as Buffer);
      }
    } finally {
      watchdog.stop();
    }
    return Buffer.concat(chunks);
  }

  /** The first entry of a distribution-spec error body: `{"errors":[{"code":…,"message":…}]}`. */
  private async errorDetail(answer: Answer): Promise<{ code?: string; message?: string }> {
    try {
      const bytes = await this.readBody(answer, 64 * 1024, "an error body");
      const first = (JSON.parse(bytes.toString("utf8")) as { errors?: { code?: string; message?: string }[] })
        .errors?.[0];
      return { code: first?.code, message: first?.message };
    } catch {
      // A malformed or oversized error body only loses the detail; the status still explains the failure.
      return {};
    }
  }

  private unreachableError(url: URL, err: unknown): RegistryError {
    if (err instanceof RegistryError) return err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const code = cause?.code ?? "";
    let reason = cause?.message ?? (err as Error).message;
    let fix = "Check that the registry is running and that the address is right";
    if (code === "ECONNREFUSED") reason = "connection refused";
    else if (code === "ENOTFOUND" || code === "EAI_AGAIN") reason = `host ${url.hostname} not found (DNS)`;
    else if (code.startsWith("ERR_SSL") || code === "EPROTO") {
      reason = `TLS handshake failed (${code})`;
      fix = "If the registry serves plain http, set plainHttp: true";
    }
    return new RegistryError(this.registry, `is unreachable at ${url.origin}: ${reason}`, fix);
  }
}

/** Descriptors come from the registry, so their digests (used in URLs) and sizes (summed) are checked. */
function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Partial<Descriptor> | null;
  return (
    typeof d === "object" &&
    d !== null &&
    typeof d.mediaType === "string" &&
    typeof d.digest === "string" &&
    DIGEST.test(d.digest) &&
    Number.isSafeInteger(d.size) &&
    d.size! >= 0
  );
}

function isIndex(json: unknown): json is { manifests: Descriptor[] } {
  const manifests = (json as { manifests?: unknown } | null)?.manifests;
  return Array.isArray(manifests) && manifests.every(isDescriptor);
}

function isImageManifest(json: unknown): json is ImageManifest {
  const m = json as Partial<ImageManifest> | null;
  return isDescriptor(m?.config) && Array.isArray(m.layers) && m.layers.every(isDescriptor);
}

/** A fetch body as a Node stream; an absent body (e.g. HTTP 204) reads as empty. */
function bodyStream(response: Response): Readable {
  return response.body
    ? Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>)
    : Readable.from([]);
}

function parseJson(bytes: Buffer, what: string, registry: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new RegistryError(registry, `${what} is not JSON`, "Check that the address is an OCI registry");
  }
}

async function discard({ response, watchdog }: Answer): Promise<void> {
  watchdog.stop();
  await response.body?.cancel();
}
