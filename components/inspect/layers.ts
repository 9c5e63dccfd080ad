import { pipeline, Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import * as tar from "tar-stream";
import { outsideText } from "../outside-text";

/** Thrown when an image's layers cannot be read within the limits given; the message names the fix. */
export class LayerError extends Error {
  constructor(problem: string, fix: string) {
    // Problems quote paths from the image: no control character gets through.
    super(`minimal-image: ${outsideText(problem, Infinity)}. ${fix}.`);
    this.name = "LayerError";
  }
}

/** One entry's content stream as tar-stream yields it. */
type TarEntry = tar.ExtractEvents["entry"][1];

/** One path of the image filesystem after the layers are stacked. */
export interface FsNode {
  kind: "file" | "dir" | "symlink" | "hardlink" | "other";
  /** Index of the layer that last wrote this path. */
  layer: number;
  /** Symlink target as written, or hardlink target as an archive path. */
  linkname?: string;
  children?: Map<string, FsNode>;
}

/** What one image's layers may cost; each bound is named after the `InspectOptions` field that sets it. */
export interface LayerLimits {
  /** Decompressed tar bytes across all layers read (`maxUncompressedBytes`). */
  maxStreamedBytes: number;
  /** Tar entries across all layers, each of which costs memory in the tree (`maxTarEntries`). */
  maxEntries: number;
  /** Bytes of wanted files kept in memory at once, all candidates together (`maxEntrypointBytes`). */
  maxKeptBytes: number;
  /** Characters of entry and link names across all layers, which the tree holds. Default 64 Mi. */
  maxNameChars?: number;
}

/** Linux's PATH_MAX: longer names (a tar may carry megabytes in a PAX header) only cost memory. */
const MAX_NAME_LENGTH = 4096;
const DEFAULT_MAX_NAME_CHARS = 64 * 1024 ** 2;

/** Layer-by-layer reader of an image's filesystem: sizes, the final tree, and the bytes of chosen files. */
export class LayerStack {
  readonly root: FsNode = { kind: "dir", layer: -1, children: new Map() };
  /** Sum of every tar entry's size over all layers, as Docker's image store counts `.Size`. */
  entryBytes = 0;
  private streamedBytes = 0;
  private entryCount = 0;
  private nameChars = 0;
  private keptBytes = 0;
  /** Latest entry seen per wanted path: its layer, size, and content when it fit the bound. */
  private readonly captured = new Map<string, { layer: number; size: number; data?: Buffer }>();

  /**
   * @param image the image as named in errors, e.g. `<registry>/<repository>@<digest>`.
   * @param wanted absolute paths whose contents to keep while streaming, so most images need one pass.
   */
  constructor(
    private readonly image: string,
    private readonly limits: LayerLimits,
    private readonly wanted: ReadonlySet<string> = new Set(),
  ) {}

  /**
   * Stacks the next layer. Whiteouts in a layer apply only to lower layers (OCI image-spec), so they are
   * collected while streaming and applied before this layer's own entries are added.
   */
  async addLayer(index: number, blob: Readable, mediaType: string): Promise<void> {
    const entries: { parts: string[]; node: FsNode }[] = [];
    const whiteouts: string[][] = [];
    await this.readTar(blob, mediaType, async (header, entry) => {
      this.countEntry(header);
      const size = header.size ?? 0;
      this.entryBytes += size;
      const parts = this.entryPath(header.name);
      const base = parts[parts.length - 1] ?? "";
      if (base.startsWith(".wh.")) {
        whiteouts.push(parts);
        entry.resume();
        return;
      }
      const abs = `/${parts.join("/")}`;
      if (kindOf(header.type) === "file" && this.wanted.has(abs)) {
        this.keptBytes -= this.captured.get(abs)?.data?.length ?? 0;
        this.captured.delete(abs);
        // All wanted files (every PATH candidate) share one bound; one that does not fit is read again only
        // if it wins, and one over the bound fails only if it wins: a later layer may still replace it.
        const data =
          this.keptBytes + size <= this.limits.maxKeptBytes ? await readEntry(entry, size) : undefined;
        if (data) this.keptBytes += data.length;
        else entry.resume();
        this.captured.set(abs, { layer: index, size, data });
      } else {
        entry.resume();
      }
      const node: FsNode = { kind: kindOf(header.type), layer: index };
      // A hardlink names an archive path, which the engine cleans like the entry's own name.
      if (header.linkname && header.type === "link")
        node.linkname = `/${this.entryPath(header.linkname).join("/")}`;
      else if (header.linkname) node.linkname = header.linkname;
      entries.push({ parts, node });
    });
    for (const parts of whiteouts) this.applyWhiteout(parts);
    for (const { parts, node } of entries) this.put(parts, node);
  }

  /**
   * The bytes of `file` if the streaming pass kept them from the layer that wins for it.
   * @throws LayerError when that file is larger than `maxKeptBytes`.
   */
  capturedFile(file: string, layer: number): Buffer | undefined {
    const hit = this.captured.get(file);
    // The other candidates are not needed any more: free them before a second read.
    this.captured.clear();
    this.keptBytes = 0;
    if (hit?.layer !== layer) return undefined;
    if (hit.size > this.limits.maxKeptBytes) throw this.tooLargeToKeep(file, hit.size);
    return hit.data;
  }

  /** Re-reads one layer for the last regular-file entry at `file`, e.g. when a symlink led elsewhere. */
  async extractFile(blob: Readable, mediaType: string, file: string): Promise<Buffer | undefined> {
    let found: Buffer | undefined;
    await this.readTar(blob, mediaType, async (header, entry) => {
      if (kindOf(header.type) === "file" && `/${this.entryPath(header.name).join("/")}` === file) {
        const size = header.size ?? 0;
        if (size > this.limits.maxKeptBytes) throw this.tooLargeToKeep(file, size);
        found = await readEntry(entry, size);
      } else {
        entry.resume();
      }
    });
    return found;
  }

  /**
   * Resolves `file` through the final tree like the kernel would at exec: symlinks in any component,
   * `..`, and hardlinks to their target. Returns the regular file's canonical path and winning layer.
   */
  resolve(file: string): { path: string; layer: number } | { missing: string } {
    const pending = splitPath(file);
    const dirs: FsNode[] = [this.root];
    const names: string[] = [];
    for (let hops = 0; pending.length > 0;) {
      const name = pending.shift()!;
      if (name === "..") {
        if (names.length > 0) {
          names.pop();
          dirs.pop();
        }
        continue;
      }
      const node = dirs[dirs.length - 1].children?.get(name);
      if (!node) return { missing: `/${[...names, name].join("/")} does not exist` };
      const hop = node.kind === "symlink" || (node.kind === "hardlink" && pending.length === 0);
      if (hop) {
        // Bounded like the kernel's ELOOP, so a symlink cycle cannot spin.
        if (++hops > 40) return { missing: `${file} has more than 40 links in a chain (a loop?)` };
        const target = node.linkname ?? "";
        // Hardlink targets are archive paths, so like absolute symlinks they start again from the root.
        if (node.kind === "hardlink" || target.startsWith("/")) {
          names.length = 0;
          dirs.length = 1;
        }
        pending.unshift(...splitPath(target));
        continue;
      }
      if (pending.length > 0 && node.kind !== "dir") {
        return { missing: `/${[...names, name].join("/")} is not a directory` };
      }
      names.push(name);
      dirs.push(node);
    }
    const last = dirs[dirs.length - 1];
    const where = `/${names.join("/")}`;
    if (last.kind !== "file") {
      return { missing: `${where} is a ${last.kind === "dir" ? "directory" : last.kind}` };
    }
    return { path: where, layer: last.layer };
  }

  private countEntry(header: tar.Header): void {
    if (++this.entryCount > this.limits.maxEntries) {
      throw new LayerError(
        `image ${this.image}: its layers hold more than maxTarEntries = ${this.limits.maxEntries} entries`,
        "Raise maxTarEntries if the image really has this many files",
      );
    }
    const nameLength = header.name.length;
    const linkLength = header.linkname?.length ?? 0;
    if (Math.max(nameLength, linkLength) > MAX_NAME_LENGTH) {
      throw new LayerError(
        `image ${this.image}: a layer has an entry name or link of ${Math.max(nameLength, linkLength)} characters, more than PATH_MAX (${MAX_NAME_LENGTH})`,
        "Check how the image was built",
      );
    }
    this.nameChars += nameLength + linkLength;
    const maxNameChars = this.limits.maxNameChars ?? DEFAULT_MAX_NAME_CHARS;
    if (this.nameChars > maxNameChars) {
      throw new LayerError(
        `image ${this.image}: its layers' entry names add up to more than ${maxNameChars} characters`,
        "Check how the image was built",
      );
    }
  }

  /**
   * An entry's name as the engine stores it. moby's `UnpackLayer` (pkg/archive/diff.go) applies Go's
   * `filepath.Clean` to every name, whiteouts included, before it looks at the base name, so `x/../.wh.app`
   * removes `/app` and `x/../app` writes `/app`; a name that climbs above the root is a breakout error
   * there, and is refused here.
   */
  private entryPath(name: string): string[] {
    const parts: string[] = [];
    for (const part of name.split("/")) {
      if (part === "" || part === ".") continue;
      if (part !== "..") parts.push(part);
      // Clean keeps `/..` at the root of an absolute name; a relative one climbs out.
      else if (parts.pop() === undefined && !name.startsWith("/")) {
        throw new LayerError(
          `image ${this.image}: a layer has the entry ${JSON.stringify(name)}, which climbs out of the image's root`,
          "Check how the image was built: Docker refuses to unpack this layer",
        );
      }
    }
    return parts;
  }

  private tooLargeToKeep(file: string, size: number): LayerError {
    return new LayerError(
      `image ${this.image}: ${file} is ${size} bytes (${formatBytes(size)}), more than maxEntrypointBytes = ${this.limits.maxKeptBytes} bytes (${formatBytes(this.limits.maxKeptBytes)})`,
      "Raise maxEntrypointBytes if the binary really is this large",
    );
  }

  private applyWhiteout(parts: string[]): void {
    const base = parts[parts.length - 1];
    const dir = this.find(parts.slice(0, -1));
    if (dir?.kind !== "dir") return;
    if (base === ".wh..wh..opq") dir.children!.clear();
    else dir.children!.delete(base.slice(".wh.".length));
  }

  private find(parts: string[]): FsNode | undefined {
    let node: FsNode | undefined = this.root;
    for (const name of parts) node = node?.children?.get(name);
    return node;
  }

  private put(parts: string[], node: FsNode): void {
    if (parts.length === 0) return;
    let dir = this.root;
    for (const name of parts.slice(0, -1)) {
      let next = dir.children!.get(name);
      // A tar may omit parent directories, or replace a lower layer's file or symlink by a directory.
      if (next?.kind !== "dir") {
        next = { kind: "dir", layer: node.layer, children: new Map() };
        dir.children!.set(name, next);
      }
      dir = next;
    }
    const name = parts[parts.length - 1];
    const existing = dir.children!.get(name);
    if (node.kind === "dir" && existing?.kind === "dir") existing.layer = node.layer;
    else dir.children!.set(name, node.kind === "dir" ? { ...node, children: new Map() } : node);
  }

  /** Streams one layer blob through decompression, the byte bound and the tar parser. */
  private async readTar(
    blob: Readable,
    mediaType: string,
    onEntry: (header: tar.Header, entry: TarEntry) => Promise<void>,
  ): Promise<void> {
    const stages: (Readable | Transform)[] = [blob];
    if (layerCompression(mediaType) === "gzip") stages.push(createGunzip());
    stages.push(this.limiter());
    const extract = tar.extract();
    const done = new Promise<void>((resolve, reject) =>
      pipeline([...stages, extract], (err) => (err ? reject(err) : resolve())),
    );
    // The iteration below reports the same error; this keeps the second copy from going unhandled.
    done.catch(() => undefined);
    for await (const entry of extract) await onEntry(entry.header, entry);
    await done;
  }

  private limiter(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _encoding, next) => {
        this.streamedBytes += chunk.length;
        const max = this.limits.maxStreamedBytes;
        if (this.streamedBytes > max) {
          next(
            new LayerError(
              `image ${this.image}: its layers decompress to more than maxUncompressedBytes = ${max} bytes (${formatBytes(max)})`,
              "Raise maxUncompressedBytes if the image really is this large",
            ),
          );
          return;
        }
        next(null, chunk);
      },
    });
  }
}

/**
 * `./usr/bin/app`, `/usr/bin/app/` and `usr//bin/./app` all become `["usr","bin","app"]`; `..` is kept, for
 * the lookup through symlinks to resolve.
 */
export function splitPath(name: string): string[] {
  return name.split("/").filter((p) => p !== "" && p !== ".");
}

/**
 * How a layer blob is compressed, from its media type (Docker and OCI names).
 * @throws LayerError for zstd and unknown types, so callers can refuse before downloading anything.
 */
export function layerCompression(mediaType: string): "gzip" | "none" {
  if (/zstd/.test(mediaType)) {
    throw new LayerError(
      `layer media type ${mediaType} is zstd-compressed, which Node.js 20's zlib cannot decompress`,
      "Push the image with gzip layers (e.g. `docker buildx build --output type=image,compression=gzip`)",
    );
  }
  if (/gzip/.test(mediaType)) return "gzip";
  if (/tar$/.test(mediaType)) return "none";
  throw new LayerError(
    `layer media type ${mediaType} is not supported`,
    "Use gzip or uncompressed tar layers",
  );
}

function kindOf(type: tar.Header["type"]): FsNode["kind"] {
  switch (type) {
    case "file":
    case "contiguous-file":
      return "file";
    case "directory":
      return "dir";
    case "symlink":
      return "symlink";
    case "link":
      return "hardlink";
    default:
      return "other";
  }
}

/** Reads an entry into one buffer of its declared size, so the bytes are held once, never concatenated. */
async function readEntry(entry: TarEntry, size: number): Promise<Buffer> {
  const data = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of entry) filled += (chunk as Buffer).copy(data, filled);
  return data.subarray(0, filled);
}

/** Decimal units with one decimal, as registries and `docker images` show sizes: `3.7 kB`, `12.0 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  // Compare after rounding so 999,960 bytes reads `1.0 MB`, not `1000.0 kB`.
  while (Number(value.toFixed(1)) >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
