import { DigestRefInput, pinnedImage } from "./digest";
import {
  KubernetesReplicaOptions,
  REPLICA_OF_LABEL,
  REPLICA_UID,
  RESERVED_LABEL_PREFIX,
  ResourceRequirements,
  ServiceType,
  dnsLabel,
  dnsSubdomain,
} from "./options";
import { parsePlatform, validatePlatform, validatePlatformList } from "../platform";
import { InputError } from "../validation";
import { validateRegistry } from "../registry";

/** Pod-template annotation carrying the image digest, so `kubectl describe` shows what runs. */
export const DIGEST_ANNOTATION = `${RESERVED_LABEL_PREFIX}image-digest`;

/** What {@link kubernetesReplicaSpec} needs. */
export interface KubernetesReplicaSpecInput<I extends DigestRefInput = string> {
  /** Deployment, container and Service name: an RFC 1123 label. */
  name: string;
  /** The image pinned by digest, `registry/repo@sha256:…`; a tag is refused. */
  imageRef: I;
  options: KubernetesReplicaOptions;
  /** Name of a `kubernetes.io/dockerconfigjson` Secret to pull the image with. */
  pullSecretName?: string;
  /**
   * The image's platform, e.g. `linux/arm64`, or the platforms of an image index; pods are scheduled only on
   * nodes of one of them. Default `linux/amd64`.
   */
  platform?: string | string[];
}

/** A TCP probe: the image has no shell, so exec probes cannot run. */
export interface TcpProbe {
  tcpSocket: { port: number };
}

/** The container of a replica pod. */
export interface ContainerManifest<I = string> {
  name: string;
  image: I;
  args?: string[];
  env?: { name: string; value: string }[];
  ports?: { name: string; containerPort: number; protocol: "TCP" }[];
  resources: ResourceRequirements;
  securityContext: {
    allowPrivilegeEscalation: false;
    readOnlyRootFilesystem: true;
    privileged: false;
    capabilities: { drop: ["ALL"] };
  };
  readinessProbe?: TcpProbe;
  livenessProbe?: TcpProbe;
}

/** The pod spec of a replica. */
export interface PodSpecManifest<I = string> {
  automountServiceAccountToken: false;
  // Service links would inject one variable per Service in the namespace into a binary that needs none.
  enableServiceLinks: false;
  securityContext: {
    runAsNonRoot: true;
    runAsUser: number;
    runAsGroup: number;
    seccompProfile: { type: "RuntimeDefault" };
  };
  imagePullSecrets?: { name: string }[];
  /** Only nodes of the image's platform can run its binary; with several platforms, of its OS. */
  nodeSelector: { "kubernetes.io/os": string; "kubernetes.io/arch"?: string };
  /** With several platforms: nodes of any architecture built, and no other. */
  affinity?: ArchitectureAffinity;
  containers: [ContainerManifest<I>];
}

/** Required node affinity to a set of architectures (`kubernetes.io/arch In [...]`). */
export interface ArchitectureAffinity {
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [
        { matchExpressions: [{ key: "kubernetes.io/arch"; operator: "In"; values: string[] }] },
      ];
    };
  };
}

/**
 * Where a replica pod may run: one platform is a node selector, as it always was; several (an image index)
 * keep the OS selector and allow exactly the architectures built, through required node affinity.
 * @throws InputError when the platforms differ in OS: one pod template cannot select both.
 */
export function podPlacement(
  platform: string | string[] | undefined,
): Pick<PodSpecManifest, "nodeSelector" | "affinity"> {
  const platforms = Array.isArray(platform)
    ? validatePlatformList(platform, ["platform"])
    : [validatePlatform(platform)];
  const parsed = platforms.map((p) => parsePlatform(p));
  const [{ os }] = parsed;
  if (parsed.some((p) => p.os !== os)) {
    throw new InputError(
      "platform",
      `lists platforms of several operating systems (${platforms.join(", ")})`,
      "Build for one operating system, e.g. linux/amd64 and linux/arm64",
    );
  }
  if (parsed.length === 1)
    return { nodeSelector: { "kubernetes.io/os": os, "kubernetes.io/arch": parsed[0].architecture } };
  const values = [...new Set(parsed.map((p) => p.architecture))];
  return {
    nodeSelector: { "kubernetes.io/os": os },
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values }] }],
        },
      },
    },
  };
}

/** An apps/v1 Deployment manifest, assignable to `kubernetes.apps.v1.DeploymentArgs`. */
export interface DeploymentManifest<I = string> {
  apiVersion: "apps/v1";
  kind: "Deployment";
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: {
    replicas: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations: Record<string, I> };
      spec: PodSpecManifest<I>;
    };
  };
}

/** A v1 Service manifest, assignable to `kubernetes.core.v1.ServiceArgs`. */
export interface ServiceManifest {
  apiVersion: "v1";
  kind: "Service";
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  spec: {
    type: ServiceType;
    selector: Record<string, string>;
    ports: { name: string; port: number; targetPort: number; protocol: "TCP" }[];
  };
}

/** Manifests for Kubernetes replicas. */
export interface KubernetesReplicaSpec<I = string> {
  deployment: DeploymentManifest<I>;
  service?: ServiceManifest;
}

/**
 * Builds the Deployment (and Service) that run `options.count` replicas of a digest-pinned image under the
 * Pod Security Standards "restricted" profile: non-root uid/gid 65532, read-only root filesystem, no
 * privilege escalation, every capability dropped, RuntimeDefault seccomp, no service-account token,
 * requests and limits set, TCP probes only. A new digest changes the pod template, which rolls the pods.
 * @throws InputError for a bad name or pull-secret name, or (when a string) a reference not pinned by digest.
 */
export function kubernetesReplicaSpec<I extends DigestRefInput>(
  input: KubernetesReplicaSpecInput<I>,
): KubernetesReplicaSpec<I> {
  const { options } = input;
  const name = dnsLabel(input.name, ["name"]);
  if (options.service && !/^[a-z]/.test(name)) {
    // Service names are DNS-1035 labels, which the API server checks: they start with a letter.
    throw new InputError(
      "name",
      `"${name}" cannot name a Service: a Service name starts with a letter`,
      "Give the component a name that starts with a letter, or leave out replicas.service",
    );
  }
  const pullSecretName =
    input.pullSecretName === undefined ? undefined : dnsSubdomain(input.pullSecretName, ["pullSecretName"]);
  const image = pinnedImage(input.imageRef, "imageRef");
  const where = podPlacement(input.platform);
  const selector = { [REPLICA_OF_LABEL]: name };
  const labels = { ...options.labels, ...selector };
  const metadata = { name, namespace: options.namespace, labels };
  const probe: TcpProbe | undefined =
    options.ports.length > 0 ? { tcpSocket: { port: options.ports[0] } } : undefined;
  const container: ContainerManifest<I> = {
    name,
    image: image.ref,
    args: nonEmpty(options.args),
    env: nonEmpty(Object.entries(options.env).map(([key, value]) => ({ name: key, value }))),
    ports: nonEmpty(
      options.ports.map((port) => ({ name: portName(port), containerPort: port, protocol: "TCP" })),
    ),
    resources: options.resources,
    securityContext: {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    },
    readinessProbe: probe,
    livenessProbe: probe,
  };
  const deployment: DeploymentManifest<I> = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata,
    spec: {
      replicas: options.count,
      selector: { matchLabels: selector },
      template: {
        metadata: { labels, annotations: { [DIGEST_ANNOTATION]: image.digest } },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: REPLICA_UID,
            runAsGroup: REPLICA_UID,
            seccompProfile: { type: "RuntimeDefault" },
          },
          imagePullSecrets: pullSecretName === undefined ? undefined : [{ name: pullSecretName }],
          ...where,
          containers: [container],
        },
      },
    },
  };
  const serviceOptions = options.service;
  const service: ServiceManifest | undefined = serviceOptions && {
    apiVersion: "v1",
    kind: "Service",
    metadata,
    spec: {
      type: serviceOptions.type,
      selector,
      // The first declared port is served on `service.port`; any others keep their own number.
      ports: options.ports.map((port, i) => ({
        name: portName(port),
        port: i === 0 ? serviceOptions.port : port,
        targetPort: port,
        protocol: "TCP",
      })),
    },
  };
  return { deployment, service };
}

/**
 * The content of a `kubernetes.io/dockerconfigjson` Secret (its `.dockerconfigjson` key) that lets the
 * kubelet pull from `server`.
 * @throws InputError for a server or username that {@link validateRegistry} refuses, or an empty password.
 */
export function dockerConfigJson(server: string, username: string, password: string): string {
  // The registry's owner checks server and username (no `:`); the password is known only now.
  validateRegistry({ server, username, password });
  if (typeof password !== "string" || password === "") {
    throw new InputError(["registry", "password"], "is empty", "Give the registry password or token.");
  }
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  return JSON.stringify({ auths: { [server]: { username, password, auth } } });
}

/** A port name: at most 15 characters and unique per container. */
function portName(port: number): string {
  return `tcp-${port}`;
}

/** Leaves empty lists out of the manifest, as `kubectl get -o yaml` would show it. */
function nonEmpty<T>(items: T[]): T[] | undefined {
  return items.length > 0 ? items : undefined;
}
