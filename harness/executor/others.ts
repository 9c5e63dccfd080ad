import { randomBytes } from "node:crypto";
import { engineError } from "../engine/engine-error";
import { onlyKnownKeys, objectInput, ResourceKind } from "./kind";
import { createClaiming, ownerLabels, refuseOwnerLabels } from "./owner";
import { sameValue } from "./state";

/**
 * `docker.Network`: a user-defined bridge network. Unnamed networks are auto-named as the provider does;
 * every change replaces the network.
 */
export const dockerNetwork: ResourceKind = {
  updatesInPlace: false,
  deleteBeforeReplace: false,
  computed: ["id"],

  async check({ name, inputs }, old) {
    onlyKnownKeys("docker.Network", inputs, [
      "name",
      "driver",
      "internal",
      "labels",
      "options",
      "attachable",
    ]);
    refuseOwnerLabels("docker.Network", inputs.labels);
    const withDefaults: Record<string, unknown> = { driver: "bridge", ...inputs };
    if (withDefaults.name !== undefined) return withDefaults;
    const unchanged = old !== undefined && sameValue({ ...old, name: undefined }, withDefaults);
    return {
      ...withDefaults,
      name: unchanged ? old.name : `${name}-${randomBytes(4).toString("hex").slice(0, 7)}`,
    };
  },

  unchanged: sameValue,

  async create({ urn }, checked, { docker, progress, owner }) {
    const labels = (checked.labels ?? []) as { label: string; value: string }[];
    const name = checked.name as string;
    const options = {
      Name: name,
      Driver: checked.driver as string,
      Internal: checked.internal === true,
      Attachable: checked.attachable === true,
      CheckDuplicate: true,
      Labels: {
        ...Object.fromEntries(labels.map(({ label, value }) => [label, value])),
        ...ownerLabels(owner, urn),
      },
      Options: objectInput(checked.options, "docker.Network options") as Record<string, string>,
    };
    progress(`creating network ${name}`);
    const network = await createClaiming("network", name, owner, docker, () => docker.createNetwork(options));
    return { id: network.id, outputs: { ...checked, id: network.id } };
  },

  async remove(id, _outputs, { docker }) {
    await docker
      .getNetwork(id)
      .remove()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw engineError(`removing network ${id}`, error);
      });
  },
};

/** Provider resources (`pulumi:providers:*`): their inputs are configuration the executor reads. */
export const providerResource: ResourceKind = {
  updatesInPlace: true,
  deleteBeforeReplace: false,
  computed: [],
  async check({ inputs }) {
    return inputs;
  },
  unchanged: sameValue,
  async create({ urn }, checked) {
    return { id: `local-${urn.split("::").pop()}`, outputs: checked };
  },
  async remove() {},
};

/** The kubernetes-models class that validates a resource type token, e.g. `kubernetes:apps/v1:Deployment`. */
function modelFor(type: string): { new (data: unknown): { validate(): void } } {
  const [, group, kind] = type.split(":");
  const modulePath =
    group === "core/v1" ? `kubernetes-models/v1/${kind}` : `kubernetes-models/${group}/${kind}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module is chosen by the type token
    return (require(modulePath) as Record<string, { new (data: unknown): { validate(): void } }>)[kind];
  } catch {
    throw new Error(`local executor: no Kubernetes schema for ${type}`);
  }
}

/**
 * Kubernetes objects are recorded as manifests, not applied (there is no cluster here): each is validated
 * against the Kubernetes API schema (kubernetes-models), auto-named `<resource name>-<8 hex>` when it has no
 * `metadata.name` as the provider does, and placed in `default` when it names no namespace.
 */
export const kubernetesObject: ResourceKind = {
  updatesInPlace: true,
  deleteBeforeReplace: false,
  computed: ["status"],

  async check({ name, type, inputs }, old) {
    const [, group, kind] = type.split(":");
    const metadata = objectInput(inputs.metadata, `${type} metadata`);
    const oldName = (old?.metadata as { name?: string } | undefined)?.name;
    const manifest = {
      ...inputs,
      apiVersion: group.replace(/^core\//, ""),
      kind,
      metadata: {
        ...metadata,
        name: metadata.name ?? oldName ?? `${name}-${randomBytes(4).toString("hex")}`,
        namespace: metadata.namespace ?? "default",
      },
    };
    const Model = modelFor(type);
    try {
      new Model(manifest).validate();
    } catch (error) {
      throw new Error(`local executor: ${type} ${name} is not a valid manifest: ${(error as Error).message}`);
    }
    return manifest;
  },

  unchanged: sameValue,

  async create(_registration, checked) {
    const metadata = checked.metadata as { name: string; namespace: string };
    return { id: `${metadata.namespace}/${metadata.name}`, outputs: { ...checked, status: {} } };
  },

  async remove() {},
};
