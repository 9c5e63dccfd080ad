import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { engineError } from "../engine/engine-error";
import { onlyKnownKeys, objectInput, ResourceKind } from "./kind";
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
 * How the engine reports back each field the provider reads into state, for a container created from
 * `inputs`: a field that reads back differently from what was declared would show as a diff on every
 * preview. Returns the field names that differ.
 */
export function readBackDifferences(
  inputs: Record<string, unknown>,
  info: Docker.ContainerInspectInfo,
): string[] {
  const wanted = containerCreateOptions(inputs);
  const host = info.HostConfig;
  const checks: [string, unknown, unknown][] = [
    ["user", wanted.User ?? "", info.Config.User],
    ["readOnly", wanted.HostConfig?.ReadonlyRootfs, host.ReadonlyRootfs],
    ["memory", wanted.HostConfig?.Memory ?? 0, host.Memory],
    ["memorySwap", wanted.HostConfig?.MemorySwap ?? 0, host.MemorySwap],
    ["cpus", wanted.HostConfig?.NanoCpus ?? 0, host.NanoCpus],
    ["restart", wanted.HostConfig?.RestartPolicy?.Name, host.RestartPolicy?.Name],
    ["capabilities.drops", wanted.HostConfig?.CapDrop ?? null, host.CapDrop ?? null],
    ["securityOpts", wanted.HostConfig?.SecurityOpt ?? null, host.SecurityOpt ?? null],
  ];
  return checks.filter(([, declared, actual]) => !sameValue(declared, actual)).map(([field]) => field);
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
  computed: [],

  async check({ name, inputs }, old) {
    onlyKnownKeys("docker.Container", inputs, CONTAINER_KEYS);
    if (typeof inputs.image !== "string")
      throw new Error("local executor: docker.Container image is required");
    const withDefaults: Record<string, unknown> = { restart: "no", mustRun: true, start: true, ...inputs };
    if (withDefaults.name !== undefined) return withDefaults;
    const unchanged = old !== undefined && sameValue({ ...old, name: undefined }, withDefaults);
    const autoName = unchanged ? old.name : `${name}-${randomBytes(4).toString("hex").slice(0, 7)}`;
    return { ...withDefaults, name: autoName };
  },

  unchanged: sameValue,

  async create(_registration, checked, { docker, progress }) {
    const options = containerCreateOptions(checked);
    progress(`starting container ${options.name}`);
    const doing = `creating container ${options.name}`;
    const container = await docker.createContainer(options).catch((error: unknown) => {
      throw engineError(doing, error);
    });
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
      const drift = readBackDifferences(checked, info);
      if (drift.length > 0) {
        throw new Error(
          `local executor: container ${options.name} reads back differently from its inputs in ${drift.join(", ")}: ` +
            "every preview would show a diff",
        );
      }
      return { id: container.id, outputs: { ...checked, id: container.id } };
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
