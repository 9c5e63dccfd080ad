import { Readable } from "node:stream";
import Docker from "dockerode";
import * as tar from "tar-stream";
import { parseImageReference } from "../../components/reference";
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

/**
 * Removes every local name, tag or digest reference, of the given repositories. Only those names go: an
 * image that other repositories also name (identical builds share one ID) keeps its other names.
 */
export async function removeRepositories(...repositories: string[]): Promise<void> {
  const wanted = new Set(repositories);
  const repositoryOf = (reference: string) => {
    if (reference.startsWith("<none>")) return undefined;
    const { registry, repository } = parseImageReference(reference, "reference");
    return `${registry}/${repository}`;
  };
  for (const image of await docker.listImages()) {
    const references = [...(image.RepoTags ?? []), ...(image.RepoDigests ?? [])];
    await removeImages(...references.filter((reference) => wanted.has(repositoryOf(reference) ?? "")));
  }
}

/**
 * Removes the builder-stage images that classic-builder builds since `startedAt` (epoch seconds) left
 * untagged: the classic builder keeps each earlier stage's image, and ours derive from the local builders,
 * which carry the dev-env label.
 */
export async function removeClassicStageImages(startedAt: number): Promise<void> {
  const stages = await docker.listImages({
    filters: { dangling: ["true"], label: ["io.minimal-image.dev-env.key"] },
  });
  await removeImages(...stages.filter((image) => image.Created >= startedAt).map((image) => image.Id));
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
