import { isIP } from "node:net";
import {
  describe,
  FieldPath,
  formatPath,
  InputError,
  integer,
  list,
  oneOf,
  record,
  rejectDuplicates,
  rejectUnknownKeys,
} from "../validation";
import { cpuMillisRoundTrips, cpusAsReadBack } from "./read-back";

/** Where replicas run. */
export const ReplicaRuntime = {
  /** Containers on the local Docker engine. */
  Docker: "docker",
  /** A Deployment on the cluster of the `kubernetes` provider (the `providers` resource option). */
  Kubernetes: "kubernetes",
} as const;
/** A replica runtime: one of `ReplicaRuntime`'s values, e.g. `"docker"`. */
export type ReplicaRuntime = (typeof ReplicaRuntime)[keyof typeof ReplicaRuntime];

/** Docker restart policies, as `docker run --restart` spells them. */
export const RestartPolicy = {
  No: "no",
  Always: "always",
  UnlessStopped: "unless-stopped",
  OnFailure: "on-failure",
} as const;
/** A Docker restart policy: one of `RestartPolicy`'s values, e.g. `"unless-stopped"`. */
export type RestartPolicy = (typeof RestartPolicy)[keyof typeof RestartPolicy];

/** Kubernetes Service types that minimal-image can create. */
export const ServiceType = {
  ClusterIP: "ClusterIP",
  NodePort: "NodePort",
  LoadBalancer: "LoadBalancer",
} as const;
/** A Kubernetes Service type: one of `ServiceType`'s values, e.g. `"ClusterIP"`. */
export type ServiceType = (typeof ServiceType)[keyof typeof ServiceType];

/** The runtime used when `replicas.runtime` is not given. */
export const DEFAULT_RUNTIME: ReplicaRuntime = "docker";
/** The replica count used when `replicas.count` is not given. */
export const DEFAULT_COUNT = 1;
/**
 * Highest accepted `replicas.count` per runtime: a guard against typos (an extra zero), not a capacity
 * promise. 1000 containers is about what one Docker host holds; 10000 is an upper bound for a cluster.
 */
export const MAX_COUNT: Record<ReplicaRuntime, number> = { docker: 1000, kubernetes: 10000 };
/** The uid and gid that the image's `USER` sets and that every replica runs as. */
export const REPLICA_UID = 65532;
/** Memory limit of each Docker replica when `replicas.memoryLimitBytes` is not given: 64 MiB. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 64 * 1024 * 1024;
/** Docker refuses memory limits below 6 MiB. */
export const MIN_MEMORY_LIMIT_BYTES = 6 * 1024 * 1024;
/** CPU limit of each Docker replica, in thousandths of a CPU, when `replicas.cpuMillis` is not given. */
export const DEFAULT_CPU_MILLIS = 500;
/** Restart policy of Docker replicas when `replicas.restartPolicy` is not given. */
export const DEFAULT_RESTART_POLICY: RestartPolicy = "unless-stopped";
/** Host address that Docker replicas' published ports bind to unless a `hostIp` is given. */
export const DEFAULT_HOST_IP = "127.0.0.1";
/**
 * Kubernetes requests and limits used for what `replicas.resources` leaves out: a static binary that
 * mostly waits needs very little, and the limits keep a runaway replica from hurting its neighbours.
 */
export const DEFAULT_RESOURCES: ResourceRequirements = {
  requests: { cpu: "10m", memory: "16Mi" },
  limits: { cpu: "100m", memory: "64Mi" },
};
/** Label prefix that minimal-image keeps for itself. */
export const RESERVED_LABEL_PREFIX = "minimal-image/";
/** Label whose value is the name the replicas belong to; also the Kubernetes selector. */
export const REPLICA_OF_LABEL = `${RESERVED_LABEL_PREFIX}replica-of`;

/** A container port published on the Docker host. */
export interface PublishedPort {
  /** Port inside the container; must be listed in `replicas.ports`. */
  port: number;
  /** Host port; omitted, Docker picks a free one per replica. */
  hostPort?: number;
  /** Host address to bind; `127.0.0.1` unless given. */
  hostIp: string;
}

/**
 * CPU and memory quantities in Kubernetes notation, e.g. `{ cpu: "10m", memory: "16Mi" }`. A type alias,
 * not an interface, so that it fits the provider's `{ [key: string]: string }` maps.
 */
export type ResourceQuantities = { cpu: string; memory: string };

/** Kubernetes container resources; both requests and limits are always set. */
export interface ResourceRequirements {
  requests: ResourceQuantities;
  limits: ResourceQuantities;
}

/** The Service in front of Kubernetes replicas. */
export interface ServiceOptions {
  type: ServiceType;
  /** Service port that forwards to the first of `replicas.ports`. */
  port: number;
}

/** Options that both runtimes share, with defaults applied. */
export interface CommonReplicaOptions {
  /** Number of replicas, 0 to `MAX_COUNT[runtime]`. */
  count: number;
  /** Extra labels (Kubernetes syntax) on every replica; keys under `minimal-image/` are reserved. */
  labels: Record<string, string>;
  /** TCP ports the binary listens on: Kubernetes probes and Service ports, Docker publishing. */
  ports: number[];
  /** Environment variables. */
  env: Record<string, string>;
  /** Arguments passed to the binary (after the image's entrypoint). */
  args: string[];
}

/** Validated options for replicas on a Docker engine. */
export interface DockerReplicaOptions extends CommonReplicaOptions {
  runtime: "docker";
  /** A user-defined Docker network to attach to; the default bridge when absent. */
  network?: string;
  publishedPorts: PublishedPort[];
  /** Memory limit per replica, a whole number of MiB (the Pulumi Docker provider counts in MiB). */
  memoryLimitBytes: number;
  /** CPU limit per replica in thousandths of a CPU. */
  cpuMillis: number;
  restartPolicy: RestartPolicy;
}

/** Validated options for replicas in a Kubernetes Deployment. */
export interface KubernetesReplicaOptions extends CommonReplicaOptions {
  runtime: "kubernetes";
  /** Namespace of the Deployment; the provider's default namespace when absent. */
  namespace?: string;
  resources: ResourceRequirements;
  /** A Service to create; none when absent. */
  service?: ServiceOptions;
}

/** Validated replica options: `validateReplicaOptions` returns these with every default applied. */
export type ReplicaOptions = DockerReplicaOptions | KubernetesReplicaOptions;

/** A container port to publish on the Docker host. */
export interface PublishedPortInput {
  /** Port inside the container; must be listed in `replicas.ports`. */
  port: number;
  /** Host port, for a single replica only; omitted, Docker picks a free one per replica. */
  hostPort?: number;
  /** Host address to bind. Default `127.0.0.1`; `0.0.0.0` listens on every interface. */
  hostIp?: string;
}

/** CPU and memory quantities in Kubernetes notation, e.g. `cpu: "10m"`, `memory: "16Mi"`. */
export interface ResourceQuantitiesInput {
  /** CPU, e.g. `"250m"` or `"0.5"`. */
  cpu?: string;
  /** Memory, e.g. `"64Mi"` or `"1Gi"`. */
  memory?: string;
}

/** Kubernetes container requests and limits; what is left out keeps its default. */
export interface ResourceRequirementsInput {
  /** Default: cpu `10m`, memory `16Mi`. */
  requests?: ResourceQuantitiesInput;
  /** Default: cpu `100m`, memory `64Mi`. */
  limits?: ResourceQuantitiesInput;
}

/** A Kubernetes Service in front of the replicas. Giving it (even empty) creates the Service. */
export interface ServiceOptionsInput {
  /** Default `ClusterIP`. */
  type?: ServiceType;
  /** Service port that forwards to the first of `replicas.ports`. Default: that port. */
  port?: number;
}

/**
 * What a user writes for `replicas`; every field is optional. The Kubernetes provider is not an option
 * here: give it as the component's `providers` resource option.
 */
export interface ReplicaOptionsInput {
  /** Number of replicas, 0 to 1000 on Docker, 0 to 10000 on Kubernetes. Default 1. */
  count?: number;
  /** Where the replicas run. Default `docker`. */
  runtime?: ReplicaRuntime;
  /** Extra labels (Kubernetes syntax) on every replica; keys under `minimal-image/` are reserved. */
  labels?: Record<string, string>;
  /** TCP ports the binary listens on: Kubernetes probes and Service ports, Docker publishing. */
  ports?: number[];
  /** Environment variables of the binary. */
  env?: Record<string, string>;
  /** Arguments passed to the binary (after the image's entrypoint). */
  args?: string[];
  /** Kubernetes only: namespace of the Deployment. Default: the provider's namespace. */
  namespace?: string;
  /** Kubernetes only: container requests and limits. */
  resources?: ResourceRequirementsInput;
  /** Kubernetes only: a Service in front of the replicas; none when absent. */
  service?: ServiceOptionsInput;
  /** Docker only: a user-defined Docker network to attach to. Default: a network of the replicas' own. */
  network?: string;
  /** Docker only: container ports to publish on the host. */
  publishedPorts?: PublishedPortInput[];
  /** Docker only: memory limit per replica in bytes, a multiple of 1 MiB. Default 64 MiB. */
  memoryLimitBytes?: number;
  /** Docker only: CPU limit per replica in thousandths of a CPU, 10 to 64000. Default 500 (half a CPU). */
  cpuMillis?: number;
  /** Docker only: restart policy. Default `unless-stopped`. */
  restartPolicy?: RestartPolicy;
}

const COMMON_KEYS = ["count", "runtime", "labels", "ports", "env", "args"] as const;
const RUNTIME_KEYS: Record<ReplicaRuntime, readonly string[]> = {
  docker: ["network", "publishedPorts", "memoryLimitBytes", "cpuMillis", "restartPolicy"],
  kubernetes: ["namespace", "resources", "service"],
};

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const DOCKER_NETWORK = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
// Only the plain suffix forms: `0.5`/`500m` for CPU, `64Mi`/`64M`/bytes for memory.
const CPU_QUANTITY = /^(\d+(?:\.\d+)?|\.\d+)(m?)$/;
const MEMORY_QUANTITY = /^(\d+)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const MEMORY_FACTOR: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/**
 * Checks `replicas` options before anything is built or run and applies the defaults (an option set
 * to `null` counts as not given).
 * @param raw what the user gave (untrusted: any shape).
 * @param field the input's path, used in error messages.
 * @throws InputError naming the offending field, e.g. `replicas.count`.
 */
export function validateReplicaOptions(raw: unknown, field: FieldPath = ["replicas"]): ReplicaOptions {
  const input = record(raw, field);
  const runtime = oneOf(input.runtime ?? DEFAULT_RUNTIME, Object.values(ReplicaRuntime), [
    ...field,
    "runtime",
  ]);
  const other: ReplicaRuntime = runtime === "docker" ? "kubernetes" : "docker";
  const runtimeField = formatPath([...field, "runtime"]);
  for (const key of Object.keys(input)) {
    if (key === "provider") {
      // Every language passes providers as a resource option; an argument would be a second, untyped path.
      throw new InputError(
        [...field, "provider"],
        "is not a replica option: the Kubernetes provider is a resource option",
        "Give it in the component's `providers` option, e.g. `{ providers: [k8sProvider] }`.",
      );
    }
    if (RUNTIME_KEYS[other].includes(key)) {
      throw new InputError(
        [...field, key],
        `applies only to runtime "${other}", but ${runtimeField} is "${runtime}"${input.runtime == null ? " (the default)" : ""}`,
        `Remove ${formatPath([...field, key])}, or set ${runtimeField} to "${other}".`,
      );
    }
    if (!(COMMON_KEYS as readonly string[]).includes(key) && !RUNTIME_KEYS[runtime].includes(key)) {
      const known = [...COMMON_KEYS, ...RUNTIME_KEYS[runtime]].join(", ");
      throw new InputError([...field, key], "is not a replica option", `Use one of: ${known}.`);
    }
  }
  const common: CommonReplicaOptions = {
    count: integer(
      input.count ?? DEFAULT_COUNT,
      [...field, "count"],
      0,
      MAX_COUNT[runtime],
      `Give a whole number of replicas; ${MAX_COUNT[runtime]} is the ceiling for runtime "${runtime}".`,
    ),
    labels: labels(input.labels ?? {}, [...field, "labels"]),
    ports: ports(input.ports ?? [], [...field, "ports"]),
    env: env(input.env ?? {}, [...field, "env"]),
    args: list(input.args ?? [], [...field, "args"]).map((arg, i) => argument(arg, [...field, "args", i])),
  };
  return runtime === "docker" ? dockerOptions(input, common, field) : kubernetesOptions(input, common, field);
}

function dockerOptions(
  input: Record<string, unknown>,
  common: CommonReplicaOptions,
  field: FieldPath,
): DockerReplicaOptions {
  const network = input.network == null ? undefined : dockerNetwork(input.network, [...field, "network"]);
  const publishedPorts = list(input.publishedPorts ?? [], [...field, "publishedPorts"]).map((entry, i) =>
    publishedPort(entry, [...field, "publishedPorts", i], common),
  );
  const hostPorts = publishedPorts
    .filter((p) => p.hostPort !== undefined)
    .map((p) => `${p.hostIp}:${p.hostPort}`);
  rejectDuplicates(hostPorts, [...field, "publishedPorts"], "Give each published port its own hostPort.");
  rejectDuplicates(
    publishedPorts.map((p) => `port ${p.port} on ${p.hostIp}`),
    [...field, "publishedPorts"],
    "Publish each container port once per host address.",
  );
  const memoryLimitBytes = integer(
    input.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES,
    [...field, "memoryLimitBytes"],
    MIN_MEMORY_LIMIT_BYTES,
    Number.MAX_SAFE_INTEGER,
  );
  if (memoryLimitBytes % 2 ** 20 !== 0) {
    throw new InputError(
      [...field, "memoryLimitBytes"],
      `${memoryLimitBytes} is not a whole number of MiB`,
      "Give a multiple of 1048576, e.g. 64 * 1024 * 1024: the Pulumi Docker provider sets memory in MiB.",
    );
  }
  const restartPolicy = oneOf(input.restartPolicy ?? DEFAULT_RESTART_POLICY, Object.values(RestartPolicy), [
    ...field,
    "restartPolicy",
  ]);
  const cpuMillis = integer(input.cpuMillis ?? DEFAULT_CPU_MILLIS, [...field, "cpuMillis"], 10, 64_000);
  if (!cpuMillisRoundTrips(cpuMillis)) {
    const near = [cpuMillis + 1, cpuMillis - 1].map(function nearest(start) {
      let m = Math.min(64_000, Math.max(100, start));
      while (!cpuMillisRoundTrips(m)) m += start > cpuMillis ? 1 : -1;
      return m;
    });
    throw new InputError(
      [...field, "cpuMillis"],
      `${cpuMillis} comes back from the Docker provider as cpus "${cpusAsReadBack(cpuMillis)}", another limit, so every update would replace the replicas`,
      `Give a limit the provider keeps, e.g. ${[...new Set(near)].join(" or ")}.`,
    );
  }
  return {
    ...common,
    runtime: "docker",
    network,
    publishedPorts,
    memoryLimitBytes,
    cpuMillis,
    restartPolicy,
  };
}

function publishedPort(raw: unknown, field: FieldPath, common: CommonReplicaOptions): PublishedPort {
  const entry = record(raw, field);
  rejectUnknownKeys(
    entry,
    ["port", "hostPort", "hostIp"],
    field,
    "a published-port option",
    "Use port, hostPort and hostIp.",
  );
  const port = integer(entry.port, [...field, "port"], 1, 65535);
  if (!common.ports.includes(port)) {
    throw new InputError(
      [...field, "port"],
      `port ${port} is not one the binary listens on`,
      `Add ${port} to replicas.ports, or publish one of [${common.ports.join(", ")}].`,
    );
  }
  const hostPort =
    entry.hostPort == null ? undefined : integer(entry.hostPort, [...field, "hostPort"], 1, 65535);
  if (hostPort !== undefined && common.count > 1) {
    throw new InputError(
      [...field, "hostPort"],
      `${common.count} replicas cannot all bind host port ${hostPort}`,
      "Omit hostPort so that Docker picks a free port for each replica, or run a single replica.",
    );
  }
  const hostIp = entry.hostIp ?? DEFAULT_HOST_IP;
  if (typeof hostIp !== "string" || isIP(hostIp) === 0) {
    throw new InputError(
      [...field, "hostIp"],
      `${describe(hostIp)} is not an IP address`,
      `Give an address such as "${DEFAULT_HOST_IP}" (the default) or "0.0.0.0" to listen on every interface.`,
    );
  }
  return { port, hostPort, hostIp };
}

function dockerNetwork(raw: unknown, field: FieldPath): string {
  if (typeof raw !== "string" || !DOCKER_NETWORK.test(raw)) {
    throw new InputError(field, `${describe(raw)} is not a Docker network name`, "Give e.g. `minimal-net`.");
  }
  // `host` and `none` cannot be joined through `networks_advanced`; `bridge` (alias `default`) is the
  // engine's default bridge, shared with every container started without a network, which the replicas'
  // isolation excludes.
  if (["host", "none", "bridge", "default"].includes(raw)) {
    throw new InputError(
      field,
      `network "${raw}" is not supported: it is one of the engine's predefined networks`,
      "Give a user-defined network (`docker network create NAME`), or omit it for a network of the replicas' own.",
    );
  }
  return raw;
}

function kubernetesOptions(
  input: Record<string, unknown>,
  common: CommonReplicaOptions,
  field: FieldPath,
): KubernetesReplicaOptions {
  const namespace = input.namespace == null ? undefined : dnsLabel(input.namespace, [...field, "namespace"]);
  return {
    ...common,
    runtime: "kubernetes",
    namespace,
    resources: resources(input.resources ?? {}, [...field, "resources"]),
    service: service(input.service, [...field, "service"], common.ports),
  };
}

function resources(raw: unknown, field: FieldPath): ResourceRequirements {
  const input = record(raw, field);
  const result = {} as ResourceRequirements;
  rejectUnknownKeys(input, ["requests", "limits"], field, "a resource option", "Use requests and limits.");
  for (const kind of ["requests", "limits"] as const) {
    const given = record(input[kind] ?? {}, [...field, kind]);
    rejectUnknownKeys(
      given,
      ["cpu", "memory"],
      [...field, kind],
      "a supported resource",
      "Use cpu and memory.",
    );
    result[kind] = {
      cpu: quantity(given.cpu ?? DEFAULT_RESOURCES[kind].cpu, [...field, kind, "cpu"], "cpu"),
      memory: quantity(given.memory ?? DEFAULT_RESOURCES[kind].memory, [...field, kind, "memory"], "memory"),
    };
  }
  for (const key of ["cpu", "memory"] as const) {
    // The API server rejects a request above its limit; say so now, naming both fields.
    if (parseQuantity(result.requests[key], key) > parseQuantity(result.limits[key], key)) {
      throw new InputError(
        [...field, "requests", key],
        `request ${result.requests[key]} exceeds limit ${result.limits[key]}`,
        `Lower it, or raise ${formatPath([...field, "limits", key])} as well.`,
      );
    }
  }
  return result;
}

function quantity(raw: unknown, field: FieldPath, kind: "cpu" | "memory"): string {
  if (typeof raw !== "string" || !(kind === "cpu" ? CPU_QUANTITY : MEMORY_QUANTITY).test(raw)) {
    const example = kind === "cpu" ? '"250m" or "0.5"' : '"64Mi" or "1Gi"';
    throw new InputError(
      field,
      `${describe(raw)} is not a ${kind} quantity`,
      `Give a string such as ${example}.`,
    );
  }
  if (parseQuantity(raw, kind) <= 0) {
    throw new InputError(field, `${raw} is zero`, "Give a positive quantity.");
  }
  return raw;
}

/** A quantity already matched by the regular expressions above, in millicores or bytes. */
function parseQuantity(value: string, kind: "cpu" | "memory"): number {
  if (kind === "cpu") {
    const [, number, milli] = CPU_QUANTITY.exec(value)!;
    return Number(number) * (milli ? 1 : 1000);
  }
  const [, number, suffix] = MEMORY_QUANTITY.exec(value)!;
  return Number(number) * MEMORY_FACTOR[suffix ?? ""];
}

function service(raw: unknown, field: FieldPath, containerPorts: number[]): ServiceOptions | undefined {
  if (raw == null) return undefined;
  if (typeof raw === "boolean") {
    throw new InputError(
      field,
      `expected Service options, got ${raw}`,
      "Give `{}` for a ClusterIP Service on the first port, or leave service out for none.",
    );
  }
  const input = record(raw, field);
  rejectUnknownKeys(input, ["type", "port"], field, "a Service option", "Use type and port.");
  if (containerPorts.length === 0) {
    throw new InputError(
      field,
      "a Service needs a port to forward to, and replicas.ports is empty",
      "List the port the binary listens on in replicas.ports, or remove the Service.",
    );
  }
  const port = input.port == null ? containerPorts[0] : integer(input.port, [...field, "port"], 1, 65535);
  if (containerPorts.indexOf(port) > 0) {
    // The other declared ports keep their own number on the Service; two entries cannot share one.
    throw new InputError(
      [...field, "port"],
      `port ${port} is also in replicas.ports, which the Service exposes under its own number`,
      "Choose another Service port.",
    );
  }
  return {
    type: oneOf(input.type ?? ServiceType.ClusterIP, Object.values(ServiceType), [...field, "type"]),
    port,
  };
}

function labels(raw: unknown, field: FieldPath): Record<string, string> {
  const input = record(raw, field);
  for (const [key, value] of Object.entries(input)) {
    const entry = [...field, key];
    if (!labelKey(key)) {
      throw new InputError(
        entry,
        "is not a valid Kubernetes label key",
        "Use `[prefix/]name`: name up to 63 of letters, digits, `-`, `_`, `.` starting and ending alphanumeric; prefix a DNS subdomain.",
      );
    }
    if (key.startsWith(RESERVED_LABEL_PREFIX)) {
      throw new InputError(
        entry,
        `keys under ${RESERVED_LABEL_PREFIX} are set by minimal-image`,
        "Use another prefix.",
      );
    }
    if (typeof value !== "string" || value.length > 63 || (value !== "" && !LABEL_NAME.test(value))) {
      throw new InputError(
        entry,
        `${describe(value)} is not a valid Kubernetes label value`,
        "Use up to 63 letters, digits, `-`, `_`, `.`, starting and ending alphanumeric (or an empty string).",
      );
    }
  }
  return { ...(input as Record<string, string>) };
}

function labelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const name = key.slice(slash + 1);
  const validPrefix = slash === -1 || isDnsSubdomain(key.slice(0, slash));
  return validPrefix && name.length <= 63 && LABEL_NAME.test(name);
}

function isDnsSubdomain(value: string): boolean {
  return value.length <= 253 && value.split(".").every((part) => part.length <= 63 && DNS_LABEL.test(part));
}

function ports(raw: unknown, field: FieldPath): number[] {
  const result = list(raw, field).map((port, i) => integer(port, [...field, i], 1, 65535));
  rejectDuplicates(result.map(String), field, "List each port once.");
  return result;
}

function env(raw: unknown, field: FieldPath): Record<string, string> {
  const input = record(raw, field);
  for (const [name, value] of Object.entries(input)) {
    const entry = [...field, name];
    if (!ENV_NAME.test(name)) {
      throw new InputError(
        entry,
        `${JSON.stringify(name)} is not a portable environment variable name`,
        "Use letters, digits and `_`, not starting with a digit.",
      );
    }
    if (typeof value !== "string" || value.includes("\0")) {
      throw new InputError(
        entry,
        `${describe(value)} is not a string without NUL`,
        'Give a string, e.g. "1".',
      );
    }
  }
  return { ...(input as Record<string, string>) };
}

function argument(raw: unknown, field: FieldPath): string {
  // The Pulumi Docker provider rejects empty command values, and no exec call accepts NUL.
  if (typeof raw !== "string" || raw === "" || raw.includes("\0")) {
    throw new InputError(
      field,
      `${describe(raw)} is not a non-empty string`,
      "Give each argument as a string.",
    );
  }
  return raw;
}

/** Checks an RFC 1123 DNS label: a Kubernetes namespace, a replica set's name. */
export function dnsLabel(raw: unknown, field: FieldPath): string {
  if (typeof raw !== "string" || raw.length > 63 || !DNS_LABEL.test(raw)) {
    throw new InputError(
      field,
      `${describe(raw)} is not an RFC 1123 label`,
      "Use 1-63 lowercase letters, digits and `-`, starting and ending with a letter or digit.",
    );
  }
  return raw;
}

/** Checks an RFC 1123 DNS subdomain: most Kubernetes object names, e.g. a Secret's. */
export function dnsSubdomain(raw: unknown, field: FieldPath): string {
  if (typeof raw !== "string" || !isDnsSubdomain(raw)) {
    throw new InputError(
      field,
      `${describe(raw)} is not an RFC 1123 subdomain`,
      "Use dot-separated lowercase labels of letters, digits and `-`, 253 characters at most.",
    );
  }
  return raw;
}
