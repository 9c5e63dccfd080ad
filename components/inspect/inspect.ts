import { ElfError, parseElf } from "./elf";
import { formatBytes, LayerError, LayerStack, layerCompression } from "./layers";
import { dockerConfigCredentials, RegistryClient, RegistryError } from "../oci";
import { elfMachine, formatPlatform, parsePlatform, platformMatches, type Platform } from "../platform";
import { outsideText } from "../outside-text";
import { isObject } from "../validation";
import { parseImageReference } from "../reference";
import { InputError } from "../validation";

/** How to reach the registry and how much work an inspection may do. */
export interface InspectOptions {
  username?: string;
  password?: string;
  /** `os/arch[/variant]` to pick from a multi-platform image. Default: this machine's, e.g. `linux/amd64`. */
  platform?: string;
  /** Bound on decompressed layer bytes read, so a huge or hostile image fails fast. Default 2 GiB. */
  maxUncompressedBytes?: number;
  /** Bound on the entrypoint binary's size, the one file held in memory. Default 256 MiB. */
  maxEntrypointBytes?: number;
  /** Bound on tar entries across all layers, each of which costs memory. Default 500000. */
  maxTarEntries?: number;
  /** Speak http instead of https. Default: true for loopback registries only. */
  plainHttp?: boolean;
  /** Longest silence from the registry in milliseconds before giving up. Default 60000. */
  timeoutMs?: number;
  /** Longest time in milliseconds for one request to the registry, body included. Default 600000. */
  requestTimeoutMs?: number;
  /** Longest time in milliseconds for the whole inspection. Default 1800000 (30 minutes). */
  deadlineMs?: number;
  /**
   * The Docker client configuration consulted for credentials when `username` is not given. Default
   * `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
   */
  dockerConfig?: string;
  /** How the caller names the inputs in errors, e.g. a CLI's `<image-ref>`. Default `reference`, `platform`. */
  inputNames?: { reference?: string; platform?: string };
}

/** What a pushed image weighs and whether its entrypoint binary is static. */
export interface ImageReport {
  /** The reference as given, e.g. `127.0.0.1:5000/team/app:v1`. */
  reference: string;
  registry: string;
  repository: string;
  /** sha256 of the manifest bytes the reference resolves to (the index, for a multi-platform image). */
  digest: string;
  /** `<registry>/<repository>@<digest>`: pulls exactly what was inspected. */
  imageRef: string;
  /** Config size plus the layer sizes listed in the manifest: what a pull downloads. */
  compressedSizeBytes: number;
  /**
   * Sum of the sizes of every tar entry in every decompressed layer, so a file overwritten by a later layer
   * counts twice. Docker's image store (moby `UnpackLayer`, Docker 20.10 with overlay2 here) adds `hdr.Size`
   * of each entry when it registers a layer and `docker image inspect .Size` is the sum over layers; only
   * regular files carry a size, so this is also the sum of regular-file sizes. Verified equal to `.Size`
   * by the integration tests.
   */
  uncompressedSizeBytes: number;
  layerCount: number;
  /** The config's ENTRYPOINT, `[]` when unset. */
  entrypoint: string[];
  /** The config's USER, `""` meaning root. */
  user: string;
  /** Canonical path of the file ENTRYPOINT (else CMD) runs, after symlinks, whiteouts and later layers. */
  binaryPath: string;
  binarySizeBytes: number;
  /** The binary's ELF machine, e.g. `x86-64` or `AArch64` (`EM_<number>` for an uncommon one). */
  machine: string;
  isStatic: boolean;
  interpreter?: string;
  neededLibraries: string[];
}

/** An image that can be fetched but not inspected as a single-binary image; the message names the fix. */
export class InspectError extends Error {
  constructor(
    /** The image as `<registry>/<repository>@<digest>`, or the reference when the digest is unknown. */
    readonly image: string,
    problem: string,
    fix: string,
  ) {
    // Problems quote the image's own contents (paths, config values): no control character gets through.
    super(`minimal-image: image ${image}: ${outsideText(problem, Infinity)}. ${fix}.`);
    this.name = "InspectError";
  }
}

/** The parts of an image config (OCI image-spec `config` object) read here. */
interface ImageConfig {
  os?: string;
  architecture?: string;
  variant?: string;
  config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    User?: string | null;
    Env?: string[] | null;
    WorkingDir?: string | null;
  };
}

const DEFAULTS = {
  maxUncompressedBytes: 2 * 1024 ** 3,
  maxEntrypointBytes: 256 * 1024 ** 2,
  maxTarEntries: 500_000,
  deadlineMs: 30 * 60_000,
};
/** Docker's PATH for images that set none; used to find a bare entrypoint name such as `app`. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Inspects a pushed image through the registry API: sizes, entrypoint, user, and whether the entrypoint
 * binary is statically linked. Reads each layer once, streaming; a second read of one layer happens only
 * when a symlink leads the entrypoint to another path. Every read is bounded in bytes, entries and time.
 * @throws InputError for a malformed reference or options, RegistryError when the registry cannot serve the
 *   image or serves a malformed manifest, InspectError when the image is malformed, has no usable entrypoint
 *   binary, or the deadline passes, LayerError past a bound on bytes or entries.
 */
export async function inspectImage(reference: string, options: InspectOptions = {}): Promise<ImageReport> {
  const names = { reference: "reference", platform: "platform", ...options.inputNames };
  const ref = parseImageReference(reference, names.reference);
  const platform =
    options.platform === undefined ? undefined : parsePlatform(options.platform, names.platform);
  const limits = checkLimits(options);
  checkCredentials(options);
  const deadline = new AbortController();
  const timer = setTimeout(
    () =>
      deadline.abort(
        new InspectError(
          reference,
          `the inspection took more than deadlineMs = ${limits.deadlineMs} ms`,
          "Check the registry's speed, or raise deadlineMs",
        ),
      ),
    limits.deadlineMs,
  );
  try {
    const client = registryClient(ref.registry, options, deadline.signal);
    const repo = ref.repository;
    const resolved = await client.resolveImage(repo, ref.digest ?? ref.tag ?? "latest", platform);
    const imageRef = `${ref.registry}/${repo}@${resolved.digest}`;
    const { manifest } = resolved;
    // Fail on unsupported compression before downloading any layer.
    for (const layer of manifest.layers) layerCompression(layer.mediaType);

    const config = readConfig(imageRef, await client.fetchJsonBlob(repo, manifest.config));
    if (platform) checkPlatform(imageRef, config, platform);
    const entrypoint = config.config?.Entrypoint ?? [];
    const program = entrypoint[0] ?? config.config?.Cmd?.[0];
    if (!program) {
      throw new InspectError(
        imageRef,
        "has neither ENTRYPOINT nor CMD",
        "Set an exec-form ENTRYPOINT to the binary",
      );
    }
    const candidates = candidatePaths(imageRef, program, config);

    const stack = new LayerStack(
      imageRef,
      {
        maxStreamedBytes: limits.maxUncompressedBytes,
        maxEntries: limits.maxTarEntries,
        maxKeptBytes: limits.maxEntrypointBytes,
      },
      new Set(candidates),
    );
    for (const [index, layer] of manifest.layers.entries()) {
      await readingLayer(imageRef, index, async () =>
        stack.addLayer(index, await client.openBlob(repo, layer), layer.mediaType),
      );
    }

    const misses: string[] = [];
    let found: { path: string; layer: number } | undefined;
    for (const candidate of candidates) {
      const hit = stack.resolve(candidate);
      if ("path" in hit) {
        found = hit;
        break;
      }
      misses.push(hit.missing);
    }
    if (!found) {
      throw new InspectError(
        imageRef,
        `has no executable for "${outsideText(program, 200)}": ${outsideText(misses.join("; "))}`,
        "Fix ENTRYPOINT to the path the binary is copied to",
      );
    }
    const { path, layer: layerIndex } = found;
    let binary = stack.capturedFile(path, layerIndex);
    if (!binary) {
      const layer = manifest.layers[layerIndex];
      binary = await readingLayer(imageRef, layerIndex, async () =>
        stack.extractFile(await client.openBlob(repo, layer), layer.mediaType, path),
      );
    }
    if (!binary) {
      throw new LayerError(
        `layer ${layerIndex} of ${imageRef} lost ${outsideText(path, 200)} on a second read`,
        "Check the registry",
      );
    }

    let elf;
    try {
      elf = parseElf(binary);
    } catch (err) {
      if (!(err instanceof ElfError)) throw err;
      throw new InspectError(
        imageRef,
        `${outsideText(path, 200)} is not a usable ELF executable: ${outsideText(err.message)}`,
        "Point ENTRYPOINT at the compiled binary",
      );
    }
    const wantMachine = platform && elfMachine(platform);
    if (wantMachine && elf.machine !== wantMachine) {
      throw new InspectError(
        imageRef,
        `${outsideText(path, 200)} is an ${elf.machine} binary in an image for ${formatPlatform(platform!)}, whose binaries are ${wantMachine}`,
        "Compile it for the image's platform (the recipe's platform, or the target's CC, GOARCH or CARGO_BUILD_TARGET in a custom build)",
      );
    }
    return {
      reference,
      registry: ref.registry,
      repository: repo,
      digest: resolved.digest,
      imageRef,
      compressedSizeBytes: manifest.config.size + manifest.layers.reduce((sum, l) => sum + l.size, 0),
      uncompressedSizeBytes: stack.entryBytes,
      layerCount: manifest.layers.length,
      entrypoint,
      user: config.config?.User ?? "",
      binaryPath: path,
      binarySizeBytes: binary.length,
      machine: elf.machine,
      isStatic: elf.isStatic,
      ...(elf.interpreter !== undefined ? { interpreter: elf.interpreter } : {}),
      neededLibraries: elf.neededLibraries,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** Both credentials or neither. */
export function checkCredentials(options: InspectOptions): void {
  if ((options.username === undefined) !== (options.password === undefined)) {
    const missing = options.username === undefined ? "registry.username" : "registry.password";
    throw new InputError(
      missing,
      "is missing while the other credential is set",
      "Set both registry.username and registry.password, or neither.",
    );
  }
}

/** A client for `registry` with the options' credentials, else those of `docker login`, as the provider's push uses. */
export function registryClient(
  registry: string,
  options: InspectOptions,
  signal?: AbortSignal,
): RegistryClient {
  const credentials =
    options.username === undefined ? dockerConfigCredentials(registry, options.dockerConfig) : undefined;
  return new RegistryClient(registry, { ...options, ...credentials, signal });
}

/** Node timers fire at once for longer delays, so no time bound may exceed this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The bounds as given or defaulted: positive whole numbers, times short enough for a Node timer. */
function checkLimits(options: InspectOptions): typeof DEFAULTS {
  const check = (field: keyof InspectOptions, value: unknown, max: number) => {
    if (!Number.isSafeInteger(value) || (value as number) <= 0 || (value as number) > max) {
      throw new InputError(
        field,
        `${outsideText(String(value), 40)} is not a whole number from 1 to ${max}`,
        "Give a whole number, or leave it unset for the default.",
      );
    }
    return value as number;
  };
  for (const field of ["timeoutMs", "requestTimeoutMs"] as const) {
    if (options[field] !== undefined) check(field, options[field], MAX_TIMER_MS);
  }
  const limits = { ...DEFAULTS };
  for (const field of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const max = field === "deadlineMs" ? MAX_TIMER_MS : Number.MAX_SAFE_INTEGER;
    limits[field] = check(field, options[field] ?? DEFAULTS[field], max);
  }
  return limits;
}

/** Tar and gzip parsers fail with bare errors ("Unexpected end of data"): name the image and the layer. */
async function readingLayer<T>(imageRef: string, index: number, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (err instanceof RegistryError || err instanceof LayerError || err instanceof InspectError) throw err;
    throw new InspectError(
      imageRef,
      `layer ${index} is not a readable tar archive: ${outsideText(String((err as Error)?.message ?? err))}`,
      "Push the image again: the layer is cut short or corrupt",
    );
  }
}

/** The config with the fields read here checked, so a hostile or broken one fails with the field named. */
function readConfig(imageRef: string, json: unknown): ImageConfig {
  const wrong = (field: string, value: unknown, expected: string) =>
    new InspectError(
      imageRef,
      `its config's ${field} is ${outsideText(JSON.stringify(value) ?? String(value), 80)}, not ${expected}`,
      "Push the image again with a valid image config (OCI image-spec)",
    );
  if (!isObject(json)) throw wrong("top level", json, "an object");
  for (const field of ["os", "architecture", "variant"]) {
    if (json[field] !== undefined && typeof json[field] !== "string")
      throw wrong(field, json[field], "a string");
  }
  const inner = json.config;
  if (inner === undefined || inner === null) return json as ImageConfig;
  if (!isObject(inner)) throw wrong("config", inner, "an object");
  for (const field of ["Entrypoint", "Cmd", "Env"]) {
    const value = inner[field];
    if (
      value !== undefined &&
      value !== null &&
      !(Array.isArray(value) && value.every((v) => typeof v === "string"))
    ) {
      throw wrong(`config.${field}`, value, "a list of strings");
    }
  }
  for (const field of ["User", "WorkingDir"]) {
    const value = inner[field];
    if (value !== undefined && value !== null && typeof value !== "string") {
      throw wrong(`config.${field}`, value, "a string");
    }
  }
  return json as ImageConfig;
}

/** PATH directories searched for a bare entrypoint name; a config may hold millions (each costs a lookup). */
const MAX_PATH_DIRECTORIES = 1000;

/**
 * Where the runtime looks for `program`: as given when absolute, under WorkingDir when relative with a
 * slash, else in each PATH directory in order (as execvp does).
 */
function candidatePaths(imageRef: string, program: string, config: ImageConfig): string[] {
  if (program.startsWith("/")) return [program];
  const cwd = config.config?.WorkingDir || "/";
  if (program.includes("/")) return [`${cwd}/${program}`];
  const envPath =
    config.config?.Env?.find((e) => e.startsWith("PATH="))?.slice("PATH=".length) ?? DEFAULT_PATH;
  // The split stops one past the bound, so a huge PATH is never split whole.
  const dirs = envPath.split(":", MAX_PATH_DIRECTORIES + 1);
  if (dirs.length > MAX_PATH_DIRECTORIES) {
    throw new InspectError(
      imageRef,
      `its PATH has more than ${MAX_PATH_DIRECTORIES} directories to search for "${outsideText(program, 200)}"`,
      "Set an absolute ENTRYPOINT, e.g. /app, or a shorter PATH",
    );
  }
  return dirs
    .filter(Boolean)
    .map((dir) => (dir.startsWith("/") ? `${dir}/${program}` : `${cwd}/${dir}/${program}`));
}

function checkPlatform(imageRef: string, config: ImageConfig, want: Platform): void {
  const have = { os: config.os ?? "", architecture: config.architecture ?? "", variant: config.variant };
  if (!platformMatches(have, want)) {
    throw new InspectError(
      imageRef,
      `is built for ${formatPlatform(have)}, not the requested ${formatPlatform(want)}`,
      "Set platform to the image's platform, or push an image for this one",
    );
  }
}

/**
 * One line for logs and CLI output, e.g. `pausle: 3.7 kB compressed, 13.4 kB on disk, 1 layer, static`.
 * Sizes use decimal units with one decimal, like registries and `docker images`.
 */
export function formatSizeReport(name: string, r: ImageReport): string {
  const layers = `${r.layerCount} layer${r.layerCount === 1 ? "" : "s"}`;
  let linkage = "static";
  if (!r.isStatic) {
    linkage = r.interpreter
      ? `not static (interpreter ${r.interpreter})`
      : `not static (needs ${r.neededLibraries.join(", ")})`;
  }
  return `${name}: ${formatBytes(r.compressedSizeBytes)} compressed, ${formatBytes(r.uncompressedSizeBytes)} on disk, ${layers}, ${linkage}`;
}
