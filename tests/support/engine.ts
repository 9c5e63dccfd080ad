import { Readable } from "node:stream";
import Docker from "dockerode";
import * as tar from "tar-stream";
import { uniqueName } from "./env";

export const docker = new Docker();

export interface ImageFile {
  size: number;
  mode: number;
  uid: number;
  type: string;
  data: Buffer;
}

/** Reads a tar stream into a map of entry name to header and content (fine for the small images tested). */
async function readTar(stream: NodeJS.ReadableStream): Promise<Map<string, ImageFile>> {
  const files = new Map<string, ImageFile>();
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on("entry", (header, entry, next) => {
      const chunks: Buffer[] = [];
      entry.on("data", (chunk: unknown) => chunks.push(chunk as Buffer));
      entry.on("end", () => {
        files.set(`/${header.name.replace(/^\.?\//, "")}`, {
          size: header.size ?? 0,
          mode: header.mode ?? 0,
          uid: header.uid ?? 0,
          type: header.type ?? "file",
          data: Buffer.concat(chunks),
        });
        next();
      });
      entry.on("error", reject);
    });
    extract.on("finish", resolve);
    extract.on("error", reject);
  });
  stream.pipe(extract as unknown as NodeJS.WritableStream);
  await done;
  return files;
}

/**
 * The files of an image's layers exactly as stored (no engine-injected mounts), read from `docker save`:
 * its manifest.json names each layer's tarball, in order; later layers win.
 */
export async function imageFiles(image: string): Promise<Map<string, ImageFile>> {
  const saved = await readTar(await docker.getImage(image).get());
  const manifest = JSON.parse(saved.get("/manifest.json")?.data.toString("utf8") ?? "[]") as {
    Layers: string[];
  }[];
  const files = new Map<string, ImageFile>();
  for (const layer of manifest[0]?.Layers ?? []) {
    const layerTar = saved.get(`/${layer}`);
    if (!layerTar) throw new Error(`docker save of ${image} lacks ${layer}`);
    for (const [name, file] of await readTar(Readable.from(layerTar.data))) files.set(name, file);
  }
  return files;
}

/** Removes images, ignoring those already gone. */
export async function removeImages(...names: string[]): Promise<void> {
  for (const name of names) {
    await docker
      .getImage(name)
      .remove({ force: true })
      .catch(() => undefined);
  }
}

/** Polls `probe` until it returns a value, at most `attempts` times `intervalMs` apart. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  attempts = 40,
  intervalMs = 250,
): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${lastError}` : ""}`);
}

/**
 * Starts `image` (with `args` after its entrypoint) read-only, publishes its port 8080 on 127.0.0.1, fetches
 * `/` and returns the body; the container is removed in every case.
 */
export async function httpBody(image: string, args: string[] = []): Promise<string> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: args.length > 0 ? args : undefined,
    name: uniqueName("http"),
    ExposedPorts: { "8080/tcp": {} },
    HostConfig: {
      PortBindings: { "8080/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] },
      ReadonlyRootfs: true,
    },
  });
  try {
    await container.start();
    const port = (await container.inspect()).NetworkSettings.Ports["8080/tcp"][0].HostPort;
    return await waitFor(`HTTP on 127.0.0.1:${port}`, async () => {
      const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
      return response.ok ? response.text() : undefined;
    });
  } finally {
    await container.remove({ force: true });
  }
}
