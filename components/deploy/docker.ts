import { DigestRefInput, pinnedImage } from "./digest";
import {
  DockerReplicaOptions,
  PublishedPort,
  REPLICA_OF_LABEL,
  REPLICA_UID,
  RESERVED_LABEL_PREFIX,
  RestartPolicy,
  dnsLabel,
} from "./options";
import { validatePlatform, validatePlatformList } from "../platform";

/** Label holding a Docker replica's index, so that replicas can be listed in order. */
export const REPLICA_INDEX_LABEL = `${RESERVED_LABEL_PREFIX}replica-index`;

/**
 * One Docker replica, in plain terms that `createDockerReplicas` turns into the Pulumi Docker provider's
 * `docker.Container` arguments.
 */
export interface ContainerSpec<I = string> {
  /** `<name>-<index>`, the index counting from 0; also the key of the Pulumi resource. */
  name: string;
  /** The image pinned by digest. */
  image: I;
  /** `uid:gid`, always `65532:65532`. */
  user: string;
  readOnlyRootFilesystem: boolean;
  /** Capabilities to drop: `["ALL"]`. */
  capDrop: string[];
  /** `["no-new-privileges:true"]`. */
  securityOpts: string[];
  /** Memory limit, and memory+swap limit too: replicas do not swap. */
  memoryLimitBytes: number;
  restartPolicy: RestartPolicy;
  labels: Record<string, string>;
  /** Environment as `NAME=value` entries. */
  env: string[];
  /** Arguments after the image's entrypoint. */
  args: string[];
  /**
   * The platform the image is pulled for, e.g. `linux/amd64`; absent for a multi-platform index, from which
   * the engine pulls its own platform.
   */
  platform?: string;
  /** User-defined network given by the user; absent, the replicas get a network of their own. */
  network?: string;
  /** CPU limit in thousandths of a CPU. */
  cpuMillis: number;
  publishedPorts: PublishedPort[];
}

/** What {@link dockerReplicaSpecs} needs. */
export interface DockerReplicaSpecsInput<I extends DigestRefInput = string> {
  /** Name of the replica set: an RFC 1123 label; replicas are `<name>-0`, `<name>-1`, … */
  name: string;
  /** The image pinned by digest, `registry/repo@sha256:…`; a tag is refused. */
  imageRef: I;
  options: DockerReplicaOptions;
  /**
   * The image's platform. Default `linux/amd64`. Several (an image index) are not forced on the engine:
   * it pulls its own platform from the index, or fails naming it when the index has none for it.
   */
  platform?: string | string[];
}

/** The name of replica `index` (from 0) of `name`. */
export function replicaName(name: string, index: number): string {
  return `${name}-${index}`;
}

/**
 * Describes `options.count` hardened containers of a digest-pinned image: uid/gid 65532, read-only root
 * filesystem, every capability dropped, no-new-privileges, a memory limit without swap, and published
 * ports bound to 127.0.0.1 unless another host address is given. Replica `i` is `<name>-<i>`, so a
 * larger or smaller count adds or removes only the replicas at the end.
 * @throws InputError for a bad name or (when a string) a reference not pinned by digest.
 */
export function dockerReplicaSpecs<I extends DigestRefInput>(
  input: DockerReplicaSpecsInput<I>,
): ContainerSpec<I>[] {
  const { options } = input;
  const name = dnsLabel(input.name, ["name"]);
  const { ref } = pinnedImage(input.imageRef, "imageRef");
  return Array.from({ length: options.count }, (_, index) => ({
    name: replicaName(name, index),
    image: ref,
    user: `${REPLICA_UID}:${REPLICA_UID}`,
    readOnlyRootFilesystem: true,
    capDrop: ["ALL"],
    securityOpts: ["no-new-privileges:true"],
    memoryLimitBytes: options.memoryLimitBytes,
    restartPolicy: options.restartPolicy,
    labels: { ...options.labels, [REPLICA_OF_LABEL]: name, [REPLICA_INDEX_LABEL]: String(index) },
    env: Object.entries(options.env).map(([key, value]) => `${key}=${value}`),
    args: [...options.args],
    network: options.network,
    cpuMillis: options.cpuMillis,
    ...pullPlatform(input.platform),
    publishedPorts: options.publishedPorts.map((port) => ({ ...port })),
  }));
}

/** The platform a replica's image is pulled for: one platform, else none for the engine to choose. */
function pullPlatform(platform: string | string[] | undefined): { platform?: string } {
  if (!Array.isArray(platform)) return { platform: validatePlatform(platform) };
  const platforms = validatePlatformList(platform, ["platform"]);
  return platforms.length === 1 ? { platform: platforms[0] } : {};
}
