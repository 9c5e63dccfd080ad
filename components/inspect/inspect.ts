import { InputError } from "../errors";
import { parseImageReference } from "../reference";
import { ElfError, parseElf } from "./elf";
import { formatBytes, LayerError, LayerStack, layerCompression } from "./layers";
import { formatPlatform, parsePlatform, platformMatches, RegistryClient, type Platform } from "./registry";

/** How to reach the registry and how much work an inspection may do. */
export interface InspectOptions {
  username?: string;
  password?: string;
  /** `os/arch[/variant]` to pick from a multi-platform image. Default: this machine's, e.g. `linux/amd64`. */
  platform?: string;
  /** Bound on decompressed layer bytes read, so a huge or hostile image fails fast. Default 2 GiB. */
  maxUncompressedBytes?: number;
  /** Speak http instead of https. Default: true for loopback registries only. */
  plainHttp?: boolean;
  /** Longest silence from the registry in milliseconds before giving up. Default 60000. */
  timeoutMs?: number;
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
    super(`minimal-image: image ${image}: ${problem}. ${fix}.`);
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
    User?: string;
    Env?: string[] | null;
    WorkingDir?: string;
  };
}

const DEFAULT_MAX_UNCOMPRESSED = 2 * 1024 ** 3;
/** Docker's PATH for images that set none; used to find a bare entrypoint name such as `app`. */
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Inspects a pushed image through the registry API: sizes, entrypoint, user, and whether the entrypoint
 * binary is statically linked. Reads each layer once, streaming; a second read of one layer happens only
 * when a symlink leads the entrypoint to another path.
 * @throws InputError for a malformed reference or options, RegistryError when the registry cannot serve the
 *   image, InspectError when the image has no usable entrypoint binary, LayerError past the byte bound.
 */
export async function inspectImage(reference: string, options: InspectOptions = {}): Promise<ImageReport> {
  const ref = parseImageReference(reference, "reference");
  const platform = options.platform === undefined ? undefined : parsePlatform(options.platform);
  const maxBytes = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new InputError(
      "maxUncompressedBytes",
      `${maxBytes} is not a positive whole number`,
      "Give a byte count, e.g. 2147483648.",
    );
  }
  if ((options.username === undefined) !== (options.password === undefined)) {
    const missing = options.username === undefined ? "registry.username" : "registry.password";
    throw new InputError(
      missing,
      "is missing while the other credential is set",
      "Set both registry.username and registry.password, or neither.",
    );
  }
  const client = new RegistryClient(ref.registry, options);
  const repo = ref.repository;
  const resolved = await client.resolveImage(repo, ref.digest ?? ref.tag ?? "latest", platform);
  const imageRef = `${ref.registry}/${repo}@${resolved.digest}`;
  const { manifest } = resolved;
  // Fail on unsupported compression before downloading any layer.
  for (const layer of manifest.layers) layerCompression(layer.mediaType);

  const config = (await client.fetchJsonBlob(repo, manifest.config)) as ImageConfig;
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
  const candidates = candidatePaths(program, config);

  const stack = new LayerStack(maxBytes, new Set(candidates));
  for (const [index, layer] of manifest.layers.entries()) {
    await stack.addLayer(index, await client.openBlob(repo, layer), layer.mediaType);
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
      `has no executable for "${program}": ${misses.join("; ")}`,
      "Fix ENTRYPOINT to the path the binary is copied to",
    );
  }
  let binary = stack.capturedFile(found.path, found.layer);
  if (!binary) {
    const layer = manifest.layers[found.layer];
    binary = await stack.extractFile(await client.openBlob(repo, layer), layer.mediaType, found.path);
  }
  if (!binary) {
    throw new LayerError(
      `layer ${found.layer} of ${imageRef} lost ${found.path} on a second read`,
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
      `${found.path} is not a usable ELF executable: ${err.message}`,
      "Point ENTRYPOINT at the compiled binary",
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
    binaryPath: found.path,
    binarySizeBytes: binary.length,
    isStatic: elf.isStatic,
    ...(elf.interpreter !== undefined ? { interpreter: elf.interpreter } : {}),
    neededLibraries: elf.neededLibraries,
  };
}

/**
 * Where the runtime looks for `program`: as given when absolute, under WorkingDir when relative with a
 * slash, else in each PATH directory in order (as execvp does).
 */
function candidatePaths(program: string, config: ImageConfig): string[] {
  if (program.startsWith("/")) return [program];
  const cwd = config.config?.WorkingDir || "/";
  if (program.includes("/")) return [`${cwd}/${program}`];
  const envPath =
    config.config?.Env?.find((e) => e.startsWith("PATH="))?.slice("PATH=".length) ?? DEFAULT_PATH;
  return envPath
    .split(":")
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
