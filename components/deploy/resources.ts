import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DigestRefInput } from "./digest";
import { ContainerSpec, replicaName } from "./docker";
import { KubernetesReplicaSpec, dockerConfigJson } from "./kubernetes";
import { cpusAsReadBack, memoryMiB } from "./read-back";
import { InputError } from "../validation";

/** Options for the replica resources; `parent` is the component that owns them. */
export type ReplicaResourceOptions = pulumi.CustomResourceOptions & { parent: pulumi.Resource };

/** Registry login that the kubelet pulls the image with; the password stays a Pulumi secret. */
export interface RegistryCredentials {
  /** Registry host as it appears in the image reference, e.g. `127.0.0.1:5000`. */
  server: string;
  username: string;
  password: pulumi.Output<string>;
}

/** The Kubernetes resources behind a set of replicas, and what to report about them. */
export interface KubernetesReplicas {
  deployment: k8s.apps.v1.Deployment;
  service?: k8s.core.v1.Service;
  /** The image-pull Secret, when registry credentials were given. */
  pullSecret?: k8s.core.v1.Secret;
  deploymentName: pulumi.Output<string>;
  namespace: pulumi.Output<string>;
  /** Ready pods as last reported by the Deployment's status; 0 while none is. */
  readyReplicas: pulumi.Output<number>;
}

/**
 * Creates the Deployment (and Service) of {@link kubernetesReplicaSpec}, plus, given `registryCreds`, the
 * `kubernetes.io/dockerconfigjson` Secret that the pod spec's `imagePullSecrets` names. The Kubernetes
 * provider comes from `opts` (`provider`, or the parent's `providers`), as for any resource.
 * @throws InputError when credentials are given but the spec names no pull secret.
 */
export function createKubernetesReplicas(
  name: string,
  spec: KubernetesReplicaSpec<DigestRefInput>,
  opts: ReplicaResourceOptions,
  registryCreds?: RegistryCredentials,
): KubernetesReplicas {
  const { metadata } = spec.deployment;
  const pullSecretName = spec.deployment.spec.template.spec.imagePullSecrets?.[0].name;
  if (registryCreds !== undefined && pullSecretName === undefined) {
    throw new InputError(
      "registryCreds",
      "registry credentials were given, but the pod spec names no pull secret to store them in",
      "Pass `pullSecretName` to kubernetesReplicaSpec as well.",
    );
  }
  const pullSecret =
    registryCreds &&
    new k8s.core.v1.Secret(
      `${name}-pull`,
      {
        metadata: { name: pullSecretName, namespace: metadata.namespace, labels: metadata.labels },
        type: "kubernetes.io/dockerconfigjson",
        data: {
          ".dockerconfigjson": pulumi.secret(
            registryCreds.password.apply((password) =>
              Buffer.from(dockerConfigJson(registryCreds.server, registryCreds.username, password)).toString(
                "base64",
              ),
            ),
          ),
        },
      },
      opts,
    );
  // Pods created before their pull secret would sit in ImagePullBackOff until the kubelet retries.
  const deploymentOpts = pulumi.mergeOptions(opts, { dependsOn: pullSecret ? [pullSecret] : [] });
  const deployment = new k8s.apps.v1.Deployment(name, spec.deployment, deploymentOpts);
  const service = spec.service && new k8s.core.v1.Service(name, spec.service, opts);
  return {
    deployment,
    service,
    pullSecret,
    deploymentName: deployment.metadata.name,
    namespace: deployment.metadata.namespace,
    readyReplicas: deployment.status.apply((status) => status?.readyReplicas ?? 0),
  };
}

/** What the Docker replicas share beyond their specs. */
export interface DockerReplicaResources {
  /** The network the replicas join when their spec names none: normally one made for them alone. */
  network?: pulumi.Input<string>;
  /** The Docker provider that pulls the image, e.g. one holding the registry's credentials. */
  pullProvider?: docker.Provider;
}

/** A port a Docker replica publishes on the host, as the engine bound it. */
export interface ReplicaPort {
  /** Port inside the container. */
  port: number;
  /** Host address the port is bound to, e.g. `127.0.0.1`. */
  hostIp: string;
  /** Port on the host: the `hostPort` given, or the one Docker picked when none was. */
  hostPort: number;
}

/**
 * Each container's published ports, by container name, from the containers' `ports` outputs: the provider
 * reads the engine's bindings back after it starts a container (terraform-provider-docker
 * `flattenContainerPorts`), so a port Docker picked is there, and a new one after every replacement.
 */
export function replicaPorts(containers: docker.Container[]): pulumi.Output<Record<string, ReplicaPort[]>> {
  return pulumi
    .all(containers.map((container) => pulumi.all([container.name, container.ports])))
    .apply((entries) =>
      Object.fromEntries(
        entries.map(([name, ports]) => [
          name,
          (ports ?? [])
            // Known once the engine bound it: the provider reads every binding back after the start.
            .filter((binding) => binding.external !== undefined)
            .map((binding) => ({
              port: binding.internal,
              // Optional in the type only: the provider defaults it, and its Read fills it in.
              hostIp: binding.ip ?? "0.0.0.0",
              hostPort: binding.external as number,
            })),
        ]),
      ),
    );
}

/**
 * Creates one `docker.Container` per spec of {@link dockerReplicaSpecs}, keyed by the spec's name
 * `<name>-<i>`: a new count adds or deletes only the containers past the smaller count. The image (that of
 * the first spec: one call of dockerReplicaSpecs gives all its specs the same) is pulled once, as a
 * `docker.RemoteImage` named `<name>-image`, which is kept on the host when the replicas go.
 * No container is `deleteBeforeReplace`: a new generation under new names starts before the old one goes.
 * @throws InputError when the specs are not `<name>-0`, `<name>-1`, … in order.
 */
export function createDockerReplicas(
  name: string,
  specs: ContainerSpec<DigestRefInput>[],
  opts: ReplicaResourceOptions,
  shared: DockerReplicaResources = {},
): docker.Container[] {
  specs.forEach((spec, index) => {
    if (spec.name !== replicaName(name, index)) {
      throw new InputError(
        `specs[${index}].name`,
        `is "${spec.name}" where "${replicaName(name, index)}" was expected`,
        "Pass the specs that dockerReplicaSpecs returned for this name, in order: resources are keyed by name.",
      );
    }
  });
  if (specs.length === 0) return [];
  // The provider reads a container's image back as the engine's image ID and replaces the container when
  // its input differs, so containers get the ID of the pulled digest rather than the reference itself.
  // An index's specs carry no platform: the provider hands `platform` to the engine's image pull as given
  // (terraform-provider-docker `pullImage`, internal/provider/resource_docker_image_funcs.go), and with none
  // the engine picks its own platform out of the index.
  const image = new docker.RemoteImage(
    `${name}-image`,
    { name: specs[0].image, platform: specs[0].platform, keepLocally: true },
    shared.pullProvider ? pulumi.mergeOptions(opts, { provider: shared.pullProvider }) : opts,
  );
  return specs.map((spec) => {
    const network = spec.network ?? shared.network;
    return new docker.Container(
      spec.name,
      {
        name: spec.name,
        image: image.imageId,
        user: spec.user,
        readOnly: spec.readOnlyRootFilesystem,
        capabilities: { drops: spec.capDrop },
        securityOpts: spec.securityOpts,
        // Each in the form the provider's Read stores, so an unchanged replica shows no diff.
        memory: memoryMiB(spec.memoryLimitBytes),
        memorySwap: memoryMiB(spec.memoryLimitBytes),
        cpus: cpusAsReadBack(spec.cpuMillis),
        restart: spec.restartPolicy,
        labels: Object.entries(spec.labels).map(([label, value]) => ({ label, value })),
        envs: spec.env,
        // Left unset without arguments: the image's entrypoint then runs alone.
        command: spec.args.length > 0 ? spec.args : undefined,
        networksAdvanced: network === undefined ? undefined : [{ name: network }],
        ports: spec.publishedPorts.map((port) => ({
          internal: port.port,
          external: port.hostPort,
          ip: port.hostIp,
          protocol: "tcp",
        })),
      },
      opts,
    );
  });
}
