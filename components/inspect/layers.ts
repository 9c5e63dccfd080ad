import { pipeline, Transform, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import * as tar from "tar-stream";

/** Thrown when an image's layers cannot be read within the limits given; the message names the fix. */
export class LayerError extends Error {
  constructor(problem: string, fix: string) {
    super(`minimal-image: ${problem}. ${fix}.`);
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

/** Layer-by-layer reader of an image's filesystem: sizes, the final tree, and the bytes of chosen files. */
export class LayerStack {
  readonly root: FsNode = { kind: "dir", layer: -1, children: new Map() };
  /** Sum of every tar entry's size over all layers, as Docker's image store counts `.Size`. */
  entryBytes = 0;
  private streamedBytes = 0;
  /** Latest content seen per wanted path, with the layer it came from. */
  private readonly captured = new Map<string, { layer: number; data: Buffer }>();

  /**
   * @param maxStreamedBytes bound on decompressed tar bytes across all layers read by this stack.
   * @param wanted absolute paths whose contents to keep while streaming, so most images need one pass.
   */
  constructor(
    private readonly maxStreamedBytes: number,
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
      this.entryBytes += header.size;
      const parts = splitPath(header.name);
      const base = parts[parts.length - 1] ?? "";
      if (base.startsWith(".wh.")) {
        whiteouts.push(parts);
        entry.resume();
        return;
      }
      const abs = `/${parts.join("/")}`;
      if (kindOf(header.type) === "file" && this.wanted.has(abs)) {
        this.captured.set(abs, { layer: index, data: await collect(entry) });
      } else {
        entry.resume();
      }
      const node: FsNode = { kind: kindOf(header.type), layer: index };
      if (header.linkname) node.linkname = header.linkname;
      entries.push({ parts, node });
    });
    for (const parts of whiteouts) this.applyWhiteout(parts);
    for (const { parts, node } of entries) this.put(parts, node);
  }

  /** The bytes of `file` if the streaming pass kept them from the layer that wins for it. */
  capturedFile(file: string, layer: number): Buffer | undefined {
    const hit = this.captured.get(file);
    return hit?.layer === layer ? hit.data : undefined;
  }

  /** Re-reads one layer for the last regular-file entry at `file`, e.g. when a symlink led elsewhere. */
  async extractFile(blob: Readable, mediaType: string, file: string): Promise<Buffer | undefined> {
    let found: Buffer | undefined;
    await this.readTar(blob, mediaType, async (header, entry) => {
      if (kindOf(header.type) === "file" && `/${splitPath(header.name).join("/")}` === file) {
        found = await collect(entry);
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
        if (this.streamedBytes > this.maxStreamedBytes) {
          next(
            new LayerError(
              `the image's layers decompress to more than maxUncompressedBytes = ${this.maxStreamedBytes} bytes (${formatBytes(this.maxStreamedBytes)})`,
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

/** `./usr/bin/app`, `/usr/bin/app/` and `usr//bin/./app` all become `["usr","bin","app"]`. */
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

async function collect(entry: TarEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of entry) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
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
