/**
 * The SBOM's carrier: the `sbom` target of the rendered Dockerfile, a `FROM scratch` image holding only the
 * facts the builder stage gathered under `/sbom/`. It is pushed beside the image under a tag of its own and
 * read back here, bounded, so the facts reach the SBOM without the image itself carrying them.
 */
import { pipeline, Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import * as tar from "tar-stream";
import type { ImageManifest, RegistryClient } from "../oci";
import { formatPlatform, parsePlatform } from "../platform";
import { validateTag } from "../reference";
import { FACTS_DIR } from "../render";
import { InputError } from "../validation";
import { SbomError } from "./sbom-error";

/** What reading a carrier may cost: it holds a few small text files. */
export interface CarrierLimits {
  /** Decompressed tar bytes across its layers. */
  maxBytes: number;
  /** Tar entries across its layers. */
  maxEntries: number;
}

export const CARRIER_LIMITS: CarrierLimits = { maxBytes: 64 * 1024 ** 2, maxEntries: 10_000 };

/**
 * The tag the carrier of `tag` is pushed under, `<tag>-sbom-facts-<os>-<arch>[-<variant>]`: one per platform,
 * beside the image in its repository, and never a tag a user would pick for an image.
 */
export function carrierTag(tag: string, platform: string): string {
  const suffix = `-sbom-facts-${formatPlatform(parsePlatform(platform)).replace(/\//g, "-")}`;
  const derived = `${tag}${suffix}`;
  if (derived.length > 128) {
    throw new InputError(
      "tag",
      `is ${tag.length} characters; with the SBOM carrier's suffix "${suffix}" it is longer than the 128 characters a tag may have`,
      `Shorten the tag to at most ${128 - suffix.length} characters, or set recipe.sbom to false`,
    );
  }
  return validateTag(derived, "tag");
}

/** `<server>/<repository>:<tag>` becomes `<server>/<repository>:<carrier tag>`. */
export function carrierName(imageName: string, platform: string): string {
  const colon = imageName.lastIndexOf(":");
  return `${imageName.slice(0, colon)}:${carrierTag(imageName.slice(colon + 1), platform)}`;
}

/**
 * The facts files of a carrier image, keyed by their path under `/sbom/`: each layer in order, a later
 * layer's file replacing an earlier one's, whiteouts applied.
 * @throws SbomError past a bound, for a layer type Docker does not push, or a carrier without facts.
 */
export async function readCarrierFacts(
  client: RegistryClient,
  repository: string,
  image: string,
  manifest: ImageManifest,
  limits: CarrierLimits = CARRIER_LIMITS,
): Promise<Map<string, Buffer>> {
  const facts = new Map<string, Buffer>();
  const reader = new CarrierReader(image, limits);
  for (const layer of manifest.layers) {
    const blob = await client.openBlob(repository, layer);
    for (const change of await reader.read(blob, layer.mediaType)) {
      if (change.data !== undefined) facts.set(change.key, change.data);
      else for (const key of [...facts.keys()]) if (removes(change, key)) facts.delete(key);
    }
  }
  if (facts.size === 0) {
    throw new SbomError(
      image,
      `the SBOM carrier holds no files under ${FACTS_DIR}/`,
      "Build the carrier from the rendered Dockerfile's `sbom` target",
    );
  }
  return facts;
}

/** One layer's effect on the facts: a file's bytes, or a whiteout (no data) of a path or a whole folder. */
interface FactChange {
  key: string;
  data?: Buffer;
  /** `.wh..wh..opq`: everything in the folder `key` (`""` for the facts folder itself) goes. */
  folder?: boolean;
}

/** Whether a whiteout removes `key`: `.wh.<name>` removes that path and all below it. */
function removes(change: FactChange, key: string): boolean {
  if (change.folder) return key.startsWith(change.key);
  return key === change.key || key.startsWith(`${change.key}/`);
}

/** Reads carrier layers within one shared budget of bytes and entries. */
class CarrierReader {
  private bytes = 0;
  private entries = 0;

  constructor(
    private readonly image: string,
    private readonly limits: CarrierLimits,
  ) {}

  async read(blob: Readable, mediaType: string): Promise<FactChange[]> {
    const stages: (Readable | Transform)[] = [blob];
    if (/gzip/.test(mediaType)) stages.push(createGunzip());
    else if (!/tar$/.test(mediaType)) {
      blob.destroy();
      throw new SbomError(
        this.image,
        `the SBOM carrier has a layer of type ${mediaType}, not a gzip or plain tar`,
        "Push the carrier with Docker, which writes gzip layers",
      );
    }
    stages.push(this.bound());
    const extract = tar.extract();
    const done = new Promise<void>((resolve, reject) =>
      pipeline([...stages, extract], (err) => (err ? reject(err) : resolve())),
    );
    // The loop below reports the same error; this keeps the second copy from going unhandled.
    done.catch(() => undefined);
    const changes: FactChange[] = [];
    for await (const entry of extract) {
      if (++this.entries > this.limits.maxEntries) {
        throw this.overBound(`more than ${this.limits.maxEntries} entries`);
      }
      const change = factChange(entry.header);
      if (change?.data === undefined) {
        if (change) changes.push(change);
        entry.resume();
        continue;
      }
      // The entry's own bytes count against the bound as they stream, so no size check is needed here.
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      changes.push({ key: change.key, data: Buffer.concat(chunks) });
    }
    await done;
    return changes;
  }

  /** Counts decompressed bytes, so a carrier that inflates past the bound fails before it fills memory. */
  private bound(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, next) => {
        this.bytes += chunk.length;
        if (this.bytes > this.limits.maxBytes)
          next(this.overBound(`more than ${this.limits.maxBytes} bytes`));
        else next(null, chunk);
      },
    });
  }

  private overBound(what: string): SbomError {
    return new SbomError(
      this.image,
      `the SBOM carrier's layers hold ${what}, more than the facts of one build`,
      "Check that the carrier tag holds the `sbom` target's image and nothing else",
    );
  }
}

/**
 * What a tar entry does to the facts: a regular file under `sbom/` (its data is read by the caller; `data`
 * is an empty marker here), a whiteout under it, or nothing.
 */
function factChange(header: tar.Header): FactChange | undefined {
  const parts = header.name.split("/").filter((part) => part !== "" && part !== ".");
  if (parts.length === 0 || `/${parts[0]}` !== FACTS_DIR || parts.includes("..")) return undefined;
  const base = parts[parts.length - 1];
  if (base === ".wh..wh..opq")
    return {
      key: parts
        .slice(1, -1)
        .map((p) => `${p}/`)
        .join(""),
      folder: true,
    };
  if (base.startsWith(".wh.")) return { key: [...parts.slice(1, -1), base.slice(4)].join("/") };
  if (parts.length < 2 || (header.type !== "file" && header.type !== "contiguous-file")) return undefined;
  return { key: parts.slice(1).join("/"), data: Buffer.alloc(0) };
}
