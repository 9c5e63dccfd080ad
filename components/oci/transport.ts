/**
 * The transport under the registry protocol (as go-containerregistry's `remote/transport`): HTTP requests
 * to one registry with deadlines, redirects that never carry credentials to another origin, Basic and
 * Bearer-token authentication per repository, bounded body reads, and errors that name the registry and the
 * fix. What the requests mean (manifests, blobs, digests) is the protocol's business, in `distribution.ts`.
 */
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { outsideText } from "../outside-text";
import { isLoopbackRegistry, registryApiHost } from "../registry";
import { isObject } from "../validation";

/**
 * A registry that cannot be reached, refuses access, serves something malformed, or does not have what was
 * asked for. The message names the registry and the fix, never contains a password, and holds the
 * registry's own words only stripped of control characters and cut short (see `detail` for all of them).
 */
export class RegistryError extends Error {
  constructor(
    /** The registry as named in the image reference, e.g. `127.0.0.1:5000`. */
    readonly registry: string,
    problem: string,
    fix: string,
    /** The HTTP status when the registry answered, e.g. 401 or 404. */
    readonly status?: number,
    /** The registry's full text (e.g. its error body) when the message shows only the start of it. */
    readonly detail?: string,
  ) {
    // Stripped again here as well as where outside text enters, so no message can carry a control character.
    super(`minimal-image: registry ${registry}: ${outsideText(problem, Infinity)}. ${fix}.`);
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
  /** Longest time in milliseconds for one request, from sending it to the last byte of its body. Default 600000. */
  requestTimeoutMs?: number;
  /** Aborts every request of this client, e.g. when an overall deadline passes; its reason is thrown. */
  signal?: AbortSignal;
}

const MAX_REDIRECTS = 5;
/** Error bodies past this size are cut before they are parsed; real ones are far smaller. */
const MAX_ERROR_BODY_BYTES = 1024 * 1024;
/** A token service's answer is a small JSON object. */
const MAX_TOKEN_BYTES = 4 * 1024 * 1024;

/**
 * Watches a request: aborts it when no headers or body bytes arrive within the idle timeout, when the whole
 * request outlasts its deadline, or when the caller's signal aborts. `signal` carries the reason.
 */
class Watchdog {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private idleTimer?: NodeJS.Timeout;
  private readonly deadlineTimer: NodeJS.Timeout;

  constructor(
    private readonly idleMs: number,
    deadlineMs: number,
    private readonly failure: (cause: "idle" | "deadline") => Error,
    outer?: AbortSignal,
  ) {
    this.signal = outer ? AbortSignal.any([this.controller.signal, outer]) : this.controller.signal;
    this.deadlineTimer = setTimeout(() => this.controller.abort(failure("deadline")), deadlineMs);
    this.kick();
  }

  kick(): void {
    clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => this.controller.abort(this.failure("idle")), this.idleMs);
  }

  stop(): void {
    clearTimeout(this.idleTimer);
    clearTimeout(this.deadlineTimer);
  }
}

/** A response whose body is still to be read, with the watchdog that guards the read. */
export interface Answer {
  response: Response;
  watchdog: Watchdog;
  /** Origin that gave this response, after redirects. */
  origin: string;
  /** True when a redirect led away from the requested origin (so no credentials went along). */
  leftOrigin: boolean;
}

/**
 * A request beyond a plain read: its method, a body to send (small: manifests and SBOMs, resent as is after
 * an authentication challenge), and whether it needs push access, which decides the token scope asked for
 * and what a refusal says.
 */
export interface RequestOptions {
  method?: "GET" | "HEAD" | "POST" | "PUT";
  accept?: string;
  contentType?: string;
  body?: Buffer;
  /** Query parameters added to the URL, e.g. an upload's `digest`. */
  query?: Record<string, string>;
  access?: "pull" | "push";
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

/** HTTP requests to one registry's `/v2/` API, authenticated per repository. */
export class RegistryTransport {
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly requestTimeoutMs: number;
  /** Authorization header per repository, once a challenge has been answered. */
  private readonly authorization = new Map<string, string>();

  /** @param registry host[:port] as in an image reference; `docker.io` means Docker Hub. */
  constructor(
    readonly registry: string,
    private readonly options: RegistryOptions = {},
  ) {
    const host = registryApiHost(registry);
    const plain = options.plainHttp ?? isLoopbackRegistry(registry);
    this.base = `${plain ? "http" : "https"}://${host}`;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 600_000;
  }

  /** GET `/v2/<repository><path>`, answering an auth challenge once, and failing with a clear error. */
  async get(repository: string, path: string, what: string, accept: string): Promise<Answer> {
    return this.request(repository, `/v2/${repository}${path}`, what, { accept });
  }

  /**
   * A request to a path of this registry (`/v2/…`, or an upload location it handed out, which must be on
   * its own origin), answering an auth challenge once. Any 2xx is returned; anything else fails clearly.
   */
  async request(repository: string, target: string, what: string, options: RequestOptions): Promise<Answer> {
    const url = this.ownUrl(target, what);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const access = options.access ?? "pull";
    let answer = await this.send(url, this.init(repository, options), what);
    if (answer.response.status === 401) {
      await discard(answer);
      this.checkChallengeOrigin(answer, what);
      const header = await this.authenticate(repository, answer.response, access);
      this.authorization.set(repository, header);
      answer = await this.send(url, this.init(repository, options), what);
      if (answer.response.status === 401) {
        await discard(answer);
        this.checkChallengeOrigin(answer, what);
        throw this.credentialsError(repository, header.startsWith("Basic") ? "rejected" : "denied", access);
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
        detail.full,
      );
    }
    if (status === 403) {
      throw new RegistryError(
        this.registry,
        `refused access to ${what} (HTTP 403${detail.message ? `: ${detail.message}` : ""})`,
        this.options.username !== undefined
          ? `Grant user "${this.options.username}" ${access} access to "${repository}"`
          : `Set registry.username and registry.password for an account with ${access} access`,
        403,
        detail.full,
      );
    }
    throw new RegistryError(
      this.registry,
      `answered HTTP ${status} for ${what}${detail.message ? `: ${detail.message}` : ""}`,
      "Check the registry's health and logs",
      status,
      detail.full,
    );
  }

  /**
   * A 401 is answered only when the registry's own origin gave it: a host a redirect led to (e.g. blob
   * storage) never gets the credentials, nor a say in where they go (containerd CVE-2020-15157).
   */
  private checkChallengeOrigin(answer: Answer, what: string): void {
    if (!answer.leftOrigin) return;
    throw new RegistryError(
      this.registry,
      `redirected ${what} to ${answer.origin}, which asked for credentials; they are sent only to ${this.base}`,
      "Configure the registry's storage to serve redirected blobs without authentication (e.g. pre-signed URLs)",
      401,
    );
  }

  /**
   * The URL of a path on this registry. Upload locations come from the registry's answers: one on another
   * origin would receive the credentials, so it is refused.
   */
  private ownUrl(target: string, what: string): URL {
    let url: URL;
    try {
      url = new URL(target, this.base);
    } catch {
      throw new RegistryError(
        this.registry,
        `handed out "${outsideText(target, 100)}" for ${what}, which is not a URL`,
        "Check the registry's configuration",
      );
    }
    if (url.origin !== this.base || url.username || url.password) {
      throw new RegistryError(
        this.registry,
        `handed out ${url.protocol}//${url.host} for ${what}, another origin than ${this.base}: credentials are sent only to the registry itself`,
        "Configure the registry to hand out upload locations on its own address",
      );
    }
    return url;
  }

  private init(
    repository: string,
    options: RequestOptions,
  ): RequestInit & { headers: Record<string, string> } {
    const auth = this.authorization.get(repository);
    return {
      method: options.method ?? "GET",
      headers: {
        accept: options.accept ?? "*/*",
        ...(options.contentType ? { "content-type": options.contentType } : {}),
        ...(auth ? { authorization: auth } : {}),
      },
      // A plain Uint8Array: every version of fetch's types takes it as a body, not all take a Buffer.
      ...(options.body ? { body: new Uint8Array(options.body) } : {}),
    };
  }

  /**
   * Answers a 401 challenge from the registry's own origin: returns the Authorization header to retry with.
   * A bearer token is fetched for this repository from the realm the challenge names, and is sent only
   * back to the registry, never to the realm or anywhere a redirect leads.
   */
  private async authenticate(
    repository: string,
    response: Response,
    access: "pull" | "push",
  ): Promise<string> {
    const { username, password } = this.options;
    const hasCredentials = username !== undefined && password !== undefined;
    const basic = hasCredentials
      ? `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`
      : undefined;
    const challenge = response.headers.get("www-authenticate") ?? "";
    const { scheme, params } = parseChallenge(challenge);
    if (scheme === "basic") {
      if (!basic) throw this.credentialsError(repository, "missing", access);
      return basic;
    }
    if (scheme !== "bearer" || !params.realm) {
      throw new RegistryError(
        this.registry,
        `asked for authentication with an unsupported challenge "${outsideText(challenge, 100) || "(none)"}"`,
        "Use a registry that supports Basic or Bearer token authentication",
        401,
        challenge,
      );
    }
    const tokenUrl = this.tokenRealm(params.realm, challenge);
    if (params.service) tokenUrl.searchParams.set("service", params.service);
    tokenUrl.searchParams.set(
      "scope",
      params.scope ?? `repository:${repository}:${access === "push" ? "pull,push" : "pull"}`,
    );
    const what = `a token from ${tokenUrl.origin}`;
    const answer = await this.send(
      tokenUrl,
      { method: "GET", headers: basic ? { authorization: basic } : {} },
      what,
    );
    if (answer.response.status === 401) {
      await discard(answer);
      throw this.credentialsError(repository, basic ? "rejected" : "missing", access);
    }
    if (answer.response.status !== 200) {
      const detail = await this.errorDetail(answer);
      throw new RegistryError(
        this.registry,
        `token service ${tokenUrl.origin} answered HTTP ${answer.response.status}${detail.message ? `: ${detail.message}` : ""}`,
        "Check the registry's token service",
        answer.response.status,
        detail.full,
      );
    }
    const body = parseJson(await this.readBody(answer, MAX_TOKEN_BYTES, what), what, this.registry);
    const fields = isObject(body) ? body : {};
    const token = fields.token ?? fields.access_token;
    if (typeof token !== "string" || token.length === 0) {
      throw new RegistryError(
        this.registry,
        `token service ${tokenUrl.origin} answered without a token`,
        "Check the registry's token service",
      );
    }
    // A CR, LF or other control would fail in fetch, with the token in fetch's message.
    if (!/^[\x21-\x7e]+$/.test(token)) {
      throw new RegistryError(
        this.registry,
        `token service ${tokenUrl.origin} answered with a token that is not one word of printable ASCII`,
        "Check the registry's token service",
      );
    }
    return `Bearer ${token}`;
  }

  /**
   * The token endpoint a bearer challenge names. It must be https, so credentials never cross a network in
   * clear; plain http is accepted only when the registry itself is plain http on loopback, and so is the realm.
   */
  private tokenRealm(realm: string, challenge: string): URL {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(
        this.registry,
        `asked for a token from realm "${outsideText(realm, 100)}", which is not a URL`,
        "Fix the realm in the registry's auth configuration",
        401,
        challenge,
      );
    }
    const loopback =
      this.base.startsWith("http:") && isLoopbackRegistry(this.registry) && isLoopbackRegistry(url.host);
    if (url.username || url.password) {
      throw new RegistryError(
        this.registry,
        `asked for a token from a realm at ${url.protocol}//${url.host} that holds a user name or password`,
        "Fix the realm in the registry's auth configuration: credentials do not belong in a URL",
        401,
      );
    }
    if (url.protocol !== "https:" && !(url.protocol === "http:" && loopback)) {
      throw new RegistryError(
        this.registry,
        `asked for a token from ${url.protocol}//${url.host}, which is not https: credentials and tokens would cross the network in clear`,
        "Serve the registry's token service over https",
        401,
        challenge,
      );
    }
    return url;
  }

  private credentialsError(
    repository: string,
    kind: "missing" | "rejected" | "denied",
    access: "pull" | "push",
  ): RegistryError {
    const user = this.options.username;
    const verb = access === "push" ? "push to" : "read";
    if (kind === "missing" || user === undefined) {
      return new RegistryError(
        this.registry,
        `needs credentials to ${verb} repository "${repository}" (or the repository does not exist)`,
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
      `Check the repository name and that "${user}" may ${access} it`,
      401,
    );
  }

  /**
   * One request with manual redirects. Once a redirect leaves the requested origin, the rest of the chain
   * gets no credentials, even if it comes back.
   */
  private async send(
    url: URL,
    init: RequestInit & { headers: Record<string, string> },
    what: string,
  ): Promise<Answer> {
    let current = url;
    const origin = current.origin;
    let leftOrigin = false;
    const watchdog = new Watchdog(
      this.timeoutMs,
      this.requestTimeoutMs,
      (cause) =>
        cause === "idle"
          ? new RegistryError(
              this.registry,
              `sent nothing for ${this.timeoutMs / 1000} s while serving ${what}`,
              "Check the registry's health and network, or raise timeoutMs",
            )
          : new RegistryError(
              this.registry,
              `took more than requestTimeoutMs = ${this.requestTimeoutMs} ms to serve ${what}`,
              "Check the registry's health and network, or raise requestTimeoutMs",
            ),
      this.options.signal,
    );
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      leftOrigin ||= current.origin !== origin;
      let response: Response;
      try {
        response = await fetch(current, {
          ...init,
          headers: leftOrigin ? { accept: init.headers.accept ?? "*/*" } : init.headers,
          redirect: "manual",
          signal: watchdog.signal,
        });
      } catch (err) {
        watchdog.stop();
        if (watchdog.signal.aborted) throw watchdog.signal.reason;
        throw this.unreachableError(current, err);
      }
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || !location) {
        watchdog.kick();
        return { response, watchdog, origin: current.origin, leftOrigin };
      }
      await response.body?.cancel();
      watchdog.kick();
      try {
        current = new URL(location, current);
      } catch {
        watchdog.stop();
        throw new RegistryError(
          this.registry,
          `redirected ${what} to "${outsideText(location, 100)}", which is not a URL`,
          "Check the registry's storage redirect settings",
          response.status,
        );
      }
      // fetch cannot follow file: or data: (it would fail as "unreachable at null"), and a URL's userinfo
      // would be credentials sent to wherever the redirect points: neither is shown.
      if ((current.protocol !== "https:" && current.protocol !== "http:") || current.username) {
        watchdog.stop();
        throw new RegistryError(
          this.registry,
          `redirected ${what} to a ${current.username ? "URL with a user name or password" : `${current.protocol} URL`}, which is not an http or https address`,
          "Check the registry's storage redirect settings",
          response.status,
        );
      }
    }
    watchdog.stop();
    throw new RegistryError(
      this.registry,
      `redirected more than ${MAX_REDIRECTS} times for ${url}`,
      "Check the registry's storage redirect settings",
    );
  }

  /**
   * Reads a whole body, at most `limit` bytes so a hostile answer cannot fill memory. Past the limit it fails,
   * or with `cut` keeps the first `limit` bytes and stops reading.
   */
  async readBody(
    answer: Answer,
    limit: number,
    what: string,
    overflow: "fail" | "cut" = "fail",
  ): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of this.chunks(answer, what)) {
        size += chunk.length;
        if (size > limit && overflow === "cut") {
          chunks.push(chunk.subarray(0, chunk.length - (size - limit)));
          break;
        }
        if (size > limit) {
          throw new RegistryError(
            this.registry,
            `${what} is larger than ${limit} bytes`,
            "Check the image reference",
          );
        }
        chunks.push(chunk);
      }
    } finally {
      answer.watchdog.stop();
    }
    return Buffer.concat(chunks);
  }

  /**
   * The chunks of a body, each one resetting the idle timeout. A connection lost midway fails naming the
   * registry and what it was sending, not with the HTTP client's bare "terminated".
   */
  async *chunks({ response, watchdog }: Answer, what: string): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of bodyStream(response)) {
        watchdog.kick();
        yield chunk as Buffer;
      }
    } catch (err) {
      if (watchdog.signal.aborted) throw watchdog.signal.reason;
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new RegistryError(
        this.registry,
        `closed the connection while sending ${what} (${outsideText(String(cause), 80)})`,
        "Check the registry's health and network, and try again",
      );
    }
  }

  /**
   * The first entry of a distribution-spec error body, `{"errors":[{"code":…,"message":…}]}`, or the body's
   * text when it is not that; shown stripped and cut short, with the `full` text kept for debugging.
   */
  private async errorDetail(answer: Answer): Promise<{ code?: string; message?: string; full?: string }> {
    let text: string;
    try {
      text = (await this.readBody(answer, MAX_ERROR_BODY_BYTES, "an error body", "cut")).toString("utf8");
    } catch {
      // An unreadable error body only loses the detail; the status still explains the failure.
      return {};
    }
    let first: unknown;
    try {
      first = (JSON.parse(text) as { errors?: unknown[] } | null)?.errors?.[0];
    } catch {
      return text.trim() ? { message: outsideText(text), full: text } : {};
    }
    const { code, message }: Record<string, unknown> = isObject(first) ? first : {};
    return {
      code: typeof code === "string" ? outsideText(code, 40) : undefined,
      message: typeof message === "string" ? outsideText(message) : undefined,
      full: text,
    };
  }

  private unreachableError(url: URL, err: unknown): RegistryError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const code = String(cause?.code ?? "");
    let reason = outsideText(String(cause?.message ?? (err as Error).message));
    let fix = "Check that the registry is running and that the address is right";
    if (code === "ECONNREFUSED") reason = "connection refused";
    else if (code === "ENOTFOUND" || code === "EAI_AGAIN") reason = `host ${url.hostname} not found (DNS)`;
    else if (code.startsWith("ERR_SSL") || code === "EPROTO") {
      reason = `TLS handshake failed (${outsideText(code, 60)})`;
      fix = "If the registry serves plain http, set plainHttp: true";
    }
    return new RegistryError(this.registry, `is unreachable at ${url.origin}: ${reason}`, fix);
  }
}

/** A fetch body as a Node stream; an absent body (e.g. HTTP 204) reads as empty. */
function bodyStream(response: Response): Readable {
  return response.body
    ? Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>)
    : Readable.from([]);
}

/** Parses a JSON body, failing with an error that names the registry and what was read. */
export function parseJson(bytes: Buffer, what: string, registry: string): unknown {
  try {
    return JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new RegistryError(registry, `${what} is not JSON`, "Check that the address is an OCI registry");
  }
}

/** Lets go of an answer whose body is of no interest (a challenge, a HEAD, a 201), freeing its connection. */
export async function discard({ response, watchdog }: Answer): Promise<void> {
  watchdog.stop();
  await response.body?.cancel();
}
