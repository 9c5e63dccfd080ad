import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";

export const MEDIA = {
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerConfig: "application/vnd.docker.container.image.v1+json",
  dockerLayer: "application/vnd.docker.image.rootfs.diff.tar.gzip",
  ociTar: "application/vnd.oci.image.layer.v1.tar",
  ociZstd: "application/vnd.oci.image.layer.v1.tar+zstd",
};

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `minimal-image-${prefix}-`));
}

const PAUSE_C = "#include <unistd.h>\nint main(void) { pause(); return 0; }\n";

/** Compiles the pause() program with `cc` and the given flags into `dir/name`; returns the path. */
export function compilePause(dir: string, name: string, flags: string[]): string {
  const source = path.join(dir, "pause.c");
  if (!fs.existsSync(source)) fs.writeFileSync(source, PAUSE_C);
  const out = path.join(dir, name);
  execFileSync("cc", [...flags, "-o", out, source], { stdio: "pipe" });
  return out;
}

/** One tar entry of a test layer. */
export interface TarFile {
  name: string;
  type?: "file" | "directory" | "symlink" | "link";
  content?: Buffer | string;
  linkname?: string;
}

/** A layer tar built in memory; gzip it with `gzipSync` for the usual media type. */
export async function makeTar(files: TarFile[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const f of files) {
    const content = f.content === undefined ? undefined : Buffer.from(f.content);
    pack.entry(
      {
        name: f.name,
        type: f.type ?? "file",
        linkname: f.linkname,
        size: content?.length ?? 0,
        mode: 0o755,
        // A fixed time keeps the bytes, and so the digest, of a layer equal across calls.
        mtime: new Date(0),
      },
      content ?? Buffer.alloc(0),
    );
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function gzipLayer(files: TarFile[]): Promise<Buffer> {
  return gzipSync(await makeTar(files));
}

/** The 512-byte tar header of an entry, for layers too large to build through `makeTar`. */
export async function tarHeader(name: string, size: number, type: TarFile["type"] = "file"): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name, type, size, mode: 0o755, mtime: new Date(0) });
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of pack) {
    chunks.push(chunk as Buffer);
    received += (chunk as Buffer).length;
    if (received >= 512) break;
  }
  return Buffer.concat(chunks).subarray(0, 512);
}

interface Stored {
  mediaType: string;
  body: Buffer;
}

type AuthMode =
  | { kind: "none" }
  | { kind: "basic"; username: string; password: string }
  /** `anonymous` lets the token service hand out pull tokens without credentials. */
  | {
      kind: "bearer";
      username: string;
      password: string;
      anonymous?: boolean;
      grantScope?: boolean;
      /** The challenge's realm instead of this registry's own `/token`, e.g. a foreign or plain-http one. */
      realm?: string;
    };

/** Answers a request itself when it returns true, before the fake's own routes: how hostile tests misbehave. */
export type Intercept = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean;

/** One request the fake registry saw, for asserting on auth headers and fetch counts. */
export interface SeenRequest {
  url: string;
  authorization?: string;
}

/**
 * A registry speaking just enough of the distribution API for the client: manifests by tag or digest,
 * blobs via a redirect to a separate "storage" server (another origin, always plain http), and basic or
 * bearer auth. With `tls` the registry itself serves https.
 */
export class FakeRegistry {
  readonly manifests = new Map<string, Stored>();
  readonly blobs = new Map<string, Buffer>();
  readonly seen: SeenRequest[] = [];
  readonly storageSeen: SeenRequest[] = [];
  auth: AuthMode = { kind: "none" };
  /** Requests whose path matches never get an answer, to test timeouts. */
  hang?: RegExp;
  intercept?: Intercept;
  storageIntercept?: Intercept;
  private server: http.Server;
  private storage = http.createServer((req, res) => this.serveStorage(req, res));
  private tokens = new Set<string>();

  constructor(options: { tls?: { key: string; cert: string } } = {}) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = options.tls ? https.createServer(options.tls, handler) : http.createServer(handler);
    // Node closes a connection this long after it has handed a response to the kernel, even while a slow
    // client (a test inflating a 2 GiB layer) is still reading it; the default 5 s cuts such reads short.
    for (const server of [this.server, this.storage]) server.keepAliveTimeout = 120_000;
  }

  get host(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The blob storage server's `127.0.0.1:<port>`: another origin than the registry. */
  get storageHost(): string {
    return `127.0.0.1:${(this.storage.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    await Promise.all([listen(this.server), listen(this.storage)]);
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    this.storage.closeAllConnections();
    await Promise.all([close(this.server), close(this.storage)]);
  }

  /** Adds a blob and returns its descriptor. */
  addBlob(body: Buffer, mediaType: string): { mediaType: string; digest: string; size: number } {
    const digest = sha256(body);
    this.blobs.set(digest, body);
    return { mediaType, digest, size: body.length };
  }

  /** Stores a manifest under `repo` by digest and, if given, by tag; returns its digest and bytes. */
  putManifest(repo: string, json: object, mediaType: string, tag?: string): { digest: string; body: Buffer } {
    const body = Buffer.from(JSON.stringify(json, null, 2));
    const digest = sha256(body);
    this.manifests.set(`${repo}@${digest}`, { mediaType, body });
    if (tag) this.manifests.set(`${repo}:${tag}`, { mediaType, body });
    return { digest, body };
  }

  /** Stores a single-platform image: config from `config`, layers as given; returns the manifest. */
  putImage(
    repo: string,
    tag: string | undefined,
    layers: { body: Buffer; mediaType?: string }[],
    config: object,
    mediaType = MEDIA.dockerManifest,
  ): { digest: string; body: Buffer; configSize: number; layerSizes: number[] } {
    const configBody = Buffer.from(JSON.stringify(config));
    const manifest = {
      schemaVersion: 2,
      mediaType,
      config: this.addBlob(configBody, MEDIA.dockerConfig),
      layers: layers.map((l) => this.addBlob(l.body, l.mediaType ?? MEDIA.dockerLayer)),
    };
    const stored = this.putManifest(repo, manifest, mediaType, tag);
    return { ...stored, configSize: configBody.length, layerSizes: layers.map((l) => l.body.length) };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://x");
    this.seen.push({ url: url.pathname + url.search, authorization: req.headers.authorization });
    if (this.hang?.test(url.pathname)) return;
    if (this.intercept?.(req, res, url)) return;
    if (url.pathname === "/token") return this.serveToken(req, url, res);
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m) return send(res, 404, { errors: [{ code: "NOT_FOUND", message: "no route" }] });
    const [, repo, kind, ref] = m;
    if (!this.authorized(req, repo, res)) return;
    const known = [...this.manifests.keys()].some(
      (k) => k.startsWith(`${repo}:`) || k.startsWith(`${repo}@`),
    );
    if (!known)
      return send(res, 404, { errors: [{ code: "NAME_UNKNOWN", message: "repository name not known" }] });
    if (kind === "manifests") {
      const stored = this.manifests.get(`${repo}${ref.startsWith("sha256:") ? "@" : ":"}${ref}`);
      if (!stored)
        return send(res, 404, { errors: [{ code: "MANIFEST_UNKNOWN", message: "manifest unknown" }] });
      res.writeHead(200, { "content-type": stored.mediaType, "docker-content-digest": sha256(stored.body) });
      res.end(stored.body);
      return;
    }
    if (!this.blobs.has(ref))
      return send(res, 404, { errors: [{ code: "BLOB_UNKNOWN", message: "blob unknown" }] });
    res.writeHead(307, { location: `http://${this.storageHost}/data/${ref}` });
    res.end();
  }

  private authorized(req: http.IncomingMessage, repo: string, res: http.ServerResponse): boolean {
    const header = req.headers.authorization ?? "";
    const auth = this.auth;
    if (auth.kind === "none") return true;
    if (auth.kind === "basic") {
      if (header === basic(auth.username, auth.password)) return true;
      res.writeHead(401, { "www-authenticate": 'Basic realm="fake"', "content-type": "application/json" });
      res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
      return false;
    }
    if (this.tokens.has(header.replace(/^Bearer /, "")) && header.startsWith("Bearer ")) return true;
    res.writeHead(401, {
      "www-authenticate": `Bearer realm="${auth.realm ?? `http://${this.host}/token`}",service="fake",scope="repository:${repo}:pull"`,
      "content-type": "application/json",
    });
    res.end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }));
    return false;
  }

  private serveToken(req: http.IncomingMessage, url: URL, res: http.ServerResponse): void {
    const auth = this.auth;
    if (auth.kind !== "bearer") return send(res, 404, {});
    const header = req.headers.authorization;
    const good = header === basic(auth.username, auth.password);
    if ((header && !good) || (!header && !auth.anonymous))
      return send(res, 401, { details: "bad credentials" });
    const token = `t-${this.tokens.size}-${url.searchParams.get("scope")}`;
    // grantScope: false mimics a token service that authenticates the user but grants no pull access.
    if (auth.grantScope !== false) this.tokens.add(token);
    send(res, 200, { token });
  }

  private serveStorage(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.storageSeen.push({ url: req.url ?? "", authorization: req.headers.authorization });
    if (this.storageIntercept?.(req, res, new URL(req.url ?? "/", "http://x"))) return;
    const digest = (req.url ?? "").replace("/data/", "");
    const body = this.blobs.get(digest);
    if (!body) return send(res, 404, {});
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length });
    res.end(body);
  }
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}

function send(res: http.ServerResponse, status: number, json: object): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(json));
}

export function listen(server: http.Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
}

export function close(server: http.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}
