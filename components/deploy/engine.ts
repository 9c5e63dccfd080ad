import { createHash } from "node:crypto";
import Docker from "dockerode";
import { ContainerSpec, REPLICA_INDEX_LABEL } from "./docker";
import { REPLICA_OF_LABEL, RESERVED_LABEL_PREFIX } from "./options";

/** Label holding a hash of the spec a container was created from, to tell a changed spec. */
export const SPEC_HASH_LABEL = `${RESERVED_LABEL_PREFIX}spec-hash`;

/** A container started (or found already running) by {@link startContainers}. */
export interface StartedContainer {
  name: string;
  id: string;
  /** False when a container of the same name and spec already existed and was kept. */
  created: boolean;
}

/** A replica container as the engine lists it. */
export interface ReplicaContainer {
  name: string;
  id: string;
  /** Docker's state, e.g. `running` or `exited`. */
  state: string;
  index: number;
}

// Enough requests in flight to keep the engine busy without queueing thousands of them at once.
const CONCURRENCY = 8;

/**
 * Runs specs from `dockerReplicaSpecs` on a Docker engine, as the Pulumi resources would: a container
 * whose name and spec are unchanged is kept (started if stopped), one whose spec changed is replaced,
 * a missing one is created. The image is pulled when the engine does not have it.
 * @throws Error when a container of a spec's name exists but is not a minimal-image replica.
 */
export async function startContainers(
  specs: ContainerSpec[],
  docker = new Docker(),
): Promise<StartedContainer[]> {
  for (const image of new Set(specs.map((spec) => spec.image))) await ensureImage(docker, image);
  return mapConcurrently(specs, async (spec) => {
    const hash = createHash("sha256").update(JSON.stringify(spec)).digest("hex").slice(0, 16);
    const existing = await docker.getContainer(spec.name).inspect().catch(ignoreNotFound);
    if (existing?.Config.Labels?.[SPEC_HASH_LABEL] === hash) {
      if (!existing.State.Running) await docker.getContainer(existing.Id).start();
      return { name: spec.name, id: existing.Id, created: false };
    }
    if (existing && existing.Config.Labels?.[REPLICA_OF_LABEL] === undefined) {
      // Never remove a container that minimal-image did not create, whatever its name.
      throw new Error(`a container named ${spec.name} exists and is not a minimal-image replica`);
    }
    if (existing) await docker.getContainer(existing.Id).remove({ force: true });
    const container = await docker.createContainer(createOptions(spec, hash));
    await container.start();
    return { name: spec.name, id: container.id, created: true };
  });
}

/** Force-removes the named containers; names that do not exist are skipped. */
export async function removeContainers(names: string[], docker = new Docker()): Promise<void> {
  await mapConcurrently(names, (name) =>
    docker.getContainer(name).remove({ force: true }).catch(ignoreNotFound),
  );
}

/** Lists the replica containers of `name`, running or not, by index. */
export async function listReplicas(name: string, docker = new Docker()): Promise<ReplicaContainer[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${REPLICA_OF_LABEL}=${name}`] },
  });
  return containers
    .map((info) => ({
      name: info.Names[0].replace(/^\//, ""),
      id: info.Id,
      state: info.State,
      index: Number(info.Labels[REPLICA_INDEX_LABEL]),
    }))
    .sort((a, b) => a.index - b.index);
}

/** The Docker API form of a spec; mirrors the `docker.Container` arguments in resources.ts. */
function createOptions(spec: ContainerSpec, hash: string): Docker.ContainerCreateOptions {
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of spec.publishedPorts) {
    // An empty HostPort lets Docker choose a free port, as an absent `external` does in Pulumi.
    (bindings[`${port.port}/tcp`] ??= []).push({
      HostIp: port.hostIp,
      HostPort: String(port.hostPort ?? ""),
    });
  }
  return {
    name: spec.name,
    Image: spec.image,
    User: spec.user,
    Cmd: spec.args,
    Env: spec.env,
    Labels: { ...spec.labels, [SPEC_HASH_LABEL]: hash },
    ExposedPorts: Object.fromEntries(Object.keys(bindings).map((port) => [port, {}])),
    HostConfig: {
      ReadonlyRootfs: spec.readOnlyRootFilesystem,
      CapDrop: spec.capDrop,
      SecurityOpt: spec.securityOpts,
      Memory: spec.memoryLimitBytes,
      MemorySwap: spec.memoryLimitBytes,
      RestartPolicy: { Name: spec.restartPolicy },
      NetworkMode: spec.network,
      PortBindings: bindings,
    },
  };
}

async function ensureImage(docker: Docker, image: string): Promise<void> {
  const present = await docker.getImage(image).inspect().catch(ignoreNotFound);
  if (present) return;
  const stream = await docker.pull(image);
  await new Promise<void>((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())),
  );
}

function ignoreNotFound(err: unknown): undefined {
  if ((err as { statusCode?: number }).statusCode === 404) return undefined;
  throw err;
}

async function mapConcurrently<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return results;
}
