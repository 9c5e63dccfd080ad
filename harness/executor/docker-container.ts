import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { cpusAsReadBack } from "../../components/deploy/read-back";
import { engineError } from "../engine/engine-error";
import { onlyKnownKeys, objectInput, ResourceKind } from "./kind";
import { createClaiming, ownerLabels, refuseOwnerLabels } from "./owner";
import { sameValue } from "./state";

const MIB = 1024 * 1024;

const CONTAINER_KEYS = [
  "name",
  "image",
  "user",
  "readOnly",
  "capabilities",
  "securityOpts",
  "memory",
  "memorySwap",
  "cpuShares",
  "cpus",
  "cpuPeriod",
  "cpuQuota",
  "restart",
  "maxRetryCount",
  "labels",
  "envs",
  "command",
  "entrypoints",
  "networkMode",
  "networksAdvanced",
  "ports",
  "hostname",
  "workingDir",
  "init",
  "stopSignal",
  "stopTimeout",
  "destroyGraceSeconds",
  "mustRun",
  "start",
  "logDriver",
  "logOpts",
];

interface Port {
  internal: number;
  external?: number;
  ip?: string;
  protocol?: string;
}

/** The Docker API form of a `docker.Container`'s inputs, field by field as the bridged provider maps them. */
export function containerCreateOptions(inputs: Record<string, unknown>): Docker.ContainerCreateOptions {
  const capabilities = objectInput(inputs.capabilities, "docker.Container capabilities");
  onlyKnownKeys("docker.Container capabilities", capabilities, ["adds", "drops"]);
  const ports = (inputs.ports ?? []) as Port[];
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  for (const port of ports) {
    onlyKnownKeys("docker.Container ports[]", port as unknown as Record<string, unknown>, [
      "internal",
      "external",
      "ip",
      "protocol",
    ]);
    (bindings[`${port.internal}/${port.protocol ?? "tcp"}`] ??= []).push({
      HostIp: port.ip ?? "0.0.0.0",
      HostPort: port.external === undefined ? "" : String(port.external),
    });
  }
  const networks = (inputs.networksAdvanced ?? []) as { name: string; aliases?: string[] }[];
  networks.forEach((network) =>
    onlyKnownKeys("docker.Container networksAdvanced[]", network as unknown as Record<string, unknown>, [
      "name",
      "aliases",
    ]),
  );
  const labels = (inputs.labels ?? []) as { label: string; value: string }[];
  const memorySwap = inputs.memorySwap as number | undefined;
  const cpus = inputs.cpus === undefined ? undefined : Number(inputs.cpus);
  if (cpus !== undefined && !(cpus > 0))
    throw new Error(`local executor: docker.Container cpus ${String(inputs.cpus)} is not a number of CPUs`);
  const logOpts = inputs.logOpts as Record<string, string> | undefined;
  return {
    name: inputs.name as string,
    Image: inputs.image as string,
    User: inputs.user as string | undefined,
    Cmd: inputs.command as string[] | undefined,
    Entrypoint: inputs.entrypoints as string[] | undefined,
    Env: inputs.envs as string[] | undefined,
    Hostname: inputs.hostname as string | undefined,
    WorkingDir: inputs.workingDir as string | undefined,
    StopSignal: inputs.stopSignal as string | undefined,
    StopTimeout: inputs.stopTimeout as number | undefined,
    Labels: Object.fromEntries(labels.map(({ label, value }) => [label, value])),
    ExposedPorts: Object.fromEntries(Object.keys(bindings).map((port) => [port, {}])),
    HostConfig: {
      ReadonlyRootfs: inputs.readOnly === true,
      CapAdd: capabilities.adds as string[] | undefined,
      CapDrop: capabilities.drops as string[] | undefined,
      SecurityOpt: inputs.securityOpts as string[] | undefined,
      // The provider counts memory in MiB; a positive swap figure too, while -1 means unlimited.
      Memory: inputs.memory === undefined ? undefined : (inputs.memory as number) * MIB,
      MemorySwap: memorySwap === undefined ? undefined : memorySwap > 0 ? memorySwap * MIB : memorySwap,
      CpuShares: inputs.cpuShares as number | undefined,
      NanoCpus: cpus === undefined ? undefined : Math.round(cpus * 1e9),
      CpuPeriod: inputs.cpuPeriod as number | undefined,
      CpuQuota: inputs.cpuQuota as number | undefined,
      Init: inputs.init as boolean | undefined,
      RestartPolicy: {
        Name: (inputs.restart as string | undefined) ?? "no",
        MaximumRetryCount: (inputs.maxRetryCount as number | undefined) ?? 0,
      },
      // Attached to its first user network only (the provider detaches the default bridge).
      NetworkMode: networks[0]?.name ?? (inputs.networkMode as string | undefined),
      PortBindings: bindings,
      LogConfig: inputs.logDriver ? { Type: inputs.logDriver as string, Config: logOpts ?? {} } : undefined,
    },
    NetworkingConfig: networks[0]
      ? { EndpointsConfig: { [networks[0].name]: { Aliases: networks[0].aliases } } }
      : undefined,
  };
}

/**
 * The published ports as the provider's Read stores them (terraform-provider-docker `flattenContainerPorts`,
 * internal/provider/resource_docker_container_structures.go): one entry per binding of the engine's
 * `NetworkSettings.Ports`, sorted by container port, with the host port the engine bound, the one it picked
 * included. A port exposed but not published has no binding and no entry.
 */
function readBackPorts(bound: Docker.ContainerInspectInfo["NetworkSettings"]["Ports"]): Port[] {
  return Object.keys(bound ?? {})
    .sort((a, b) => parseInt(a, 10) - parseInt(b, 10))
    .flatMap((key) => {
      const [internal, protocol] = key.split("/");
      return (bound[key] ?? []).map((binding) => ({
        internal: Number(internal),
        external: Number(binding.HostPort),
        ip: binding.HostIp,
        protocol,
      }));
    });
}

/**
 * Whether declared ports match the ports read back, as the provider's diff decides (the `ports`
 * DiffSuppressFunc, `suppressIfPortsDidNotChangeForMigrationV0ToV1`): as many of them, each read-back port
 * declared with its container port, protocol and address in any order, and with its host port where one is
 * declared (`external` is optional and computed: left out, it keeps the one the engine picked).
 */
function samePorts(readBack: Port[] = [], declared: Port[] = []): boolean {
  return (
    readBack.length === declared.length &&
    readBack.every((old) =>
      declared.some(
        (port) =>
          port.internal === old.internal &&
          (port.protocol ?? "tcp") === old.protocol &&
          (port.ip ?? "0.0.0.0") === old.ip &&
          (port.external === undefined || port.external === old.external),
      ),
    )
  );
}

/**
 * `labels` stay as declared: the engine's copy also holds the executor's ownership labels, which are no
 * input, so reading them back would replace every container on the next run.
 *
 * The fields the bridged provider's Read stores from the engine's inspection, in its forms
 * (terraform-provider-docker `resourceDockerContainerRead`, internal/provider/resource_docker_container_funcs.go):
 * `cpus` as `nanoInt64ToDecimalString(NanoCPUs)` when set, `memory` in MiB, `memory_swap` in MiB when positive,
 * `ports` as {@link readBackPorts}.
 * The executor keeps these in state, so the next run diffs declared inputs against what was read back, as
 * the provider does: a field declared in another spelling (cpus "1" for "1.0") replaces the container.
 */
export function readBackState(
  inputs: Record<string, unknown>,
  info: Docker.ContainerInspectInfo,
): Record<string, unknown> {
  const host = info.HostConfig;
  return {
    ...inputs,
    user: info.Config.User,
    readOnly: host.ReadonlyRootfs ?? false,
    memory: Math.floor((host.Memory ?? 0) / MIB),
    memorySwap: (host.MemorySwap ?? 0) > 0 ? Math.floor((host.MemorySwap ?? 0) / MIB) : host.MemorySwap,
    ...((host.NanoCpus ?? 0) > 0 ? { cpus: cpusAsReadBack((host.NanoCpus ?? 0) / 1_000_000) } : {}),
    restart: host.RestartPolicy?.Name,
    ports: readBackPorts(info.NetworkSettings.Ports),
  };
}

/**
 * `docker.Container` (the bridged `docker_container`): create and start a container with every declared
 * field, or fail on one the executor does not map. As in the provider, an unnamed container is auto-named
 * `<resource name>-<7 hex>` (kept across runs while nothing else changes), every change replaces it, and the
 * provider asks for delete-before-replace.
 */
export const dockerContainer: ResourceKind = {
  updatesInPlace: false,
  deleteBeforeReplace: true,
  diffsReadBack: true,
  computed: [],

  async check({ name, inputs }, old) {
    onlyKnownKeys("docker.Container", inputs, CONTAINER_KEYS);
    refuseOwnerLabels("docker.Container", inputs.labels);
    if (typeof inputs.image !== "string")
      throw new Error("local executor: docker.Container image is required");
    const withDefaults: Record<string, unknown> = { restart: "no", mustRun: true, start: true, ...inputs };
    if (withDefaults.name !== undefined) return withDefaults;
    const unchanged = old !== undefined && sameValue({ ...old, name: undefined }, withDefaults);
    const autoName = unchanged ? old.name : `${name}-${randomBytes(4).toString("hex").slice(0, 7)}`;
    return { ...withDefaults, name: autoName };
  },

  unchanged(old, checked) {
    const rest = (inputs: Record<string, unknown>) => ({ ...inputs, ports: undefined });
    return sameValue(rest(old), rest(checked)) && samePorts(old.ports as Port[], checked.ports as Port[]);
  },

  async create({ urn }, checked, { docker, progress, owner }) {
    const options = containerCreateOptions(checked);
    options.Labels = { ...options.Labels, ...ownerLabels(owner, urn) };
    progress(`starting container ${options.name}`);
    const container = await createClaiming("container", options.name as string, owner, docker, () =>
      docker.createContainer(options),
    );
    try {
      const networks = (checked.networksAdvanced ?? []) as { name: string; aliases?: string[] }[];
      for (const network of networks.slice(1)) {
        await docker
          .getNetwork(network.name)
          .connect({ Container: container.id, EndpointConfig: { Aliases: network.aliases } });
      }
      if (checked.start !== false) await container.start();
      const info = await container.inspect();
      if (checked.mustRun !== false && checked.start !== false && !info.State.Running) {
        throw new Error(
          `local executor: container ${options.name} is not running after start (${info.State.Status})`,
        );
      }
      return { id: container.id, outputs: { ...readBackState(checked, info), id: container.id } };
    } catch (error) {
      await container.remove({ force: true }).catch(() => undefined);
      throw error;
    }
  },

  async remove(id, outputs, { docker, progress }) {
    progress(`removing container ${String(outputs.name)}`);
    const container = docker.getContainer(id);
    await container
      .stop({ t: (outputs.destroyGraceSeconds as number | undefined) ?? 0 })
      .catch(() => undefined);
    await container.remove({ force: true, v: true }).catch((error: { statusCode?: number }) => {
      if (error.statusCode !== 404) throw engineError(`removing container ${String(outputs.name)}`, error);
    });
  },
};
