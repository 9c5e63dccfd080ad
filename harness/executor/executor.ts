import { createHmac } from "node:crypto";
import Docker from "dockerode";
import { dockerContainer } from "./docker-container";
import { dockerImage } from "./docker-image";
import { dockerRemoteImage } from "./docker-remote-image";
import { DYNAMIC_TYPE_PREFIX, dynamicResource } from "./dynamic-resource";
import { Created, KindContext, Registration, ResourceKind } from "./kind";
import { StepReporter } from "../engine/progress";
import { dockerNetwork, kubernetesObject, providerResource } from "./others";
import { Owner, removeOrphans } from "./owner";
import { ResourceState, StackState } from "./state";

/** The resource types carried out, by type token; Kubernetes types are matched by their package. */
const KINDS: Record<string, ResourceKind> = {
  "docker:index/image:Image": dockerImage,
  "docker:index/remoteImage:RemoteImage": dockerRemoteImage,
  "docker:index/container:Container": dockerContainer,
  "docker:index/network:Network": dockerNetwork,
};

/** A preview's outputs: the inputs, with what only the operation would know unknown. */
function planned(
  kind: ResourceKind,
  inputs: Record<string, unknown>,
  old: ResourceState | undefined,
  unknown: unknown,
): Record<string, unknown> {
  const outputs: Record<string, unknown> = { ...inputs };
  const fromProvider = kind.providerOutputsUnknown ? Object.keys(old?.outputs ?? {}) : [];
  for (const key of [...kind.computed, ...fromProvider]) if (!(key in inputs)) outputs[key] = unknown;
  return outputs;
}

function kindOf(type: string): ResourceKind {
  if (type.startsWith("pulumi:providers:")) return providerResource;
  if (type.startsWith("kubernetes:")) return kubernetesObject;
  if (type.startsWith(DYNAMIC_TYPE_PREFIX)) return dynamicResource;
  const kind = KINDS[type];
  if (!kind) throw new Error(`local executor: ${type} is not carried out by the local executor`);
  return kind;
}

/** What a run did with one registration. */
export type Operation = "same" | "create" | "update" | "replace";

/** A component resource: registered, nothing to carry out. */
export type RecordKind = Operation | "component";

/** One registration of a run, secrets redacted: what a test asserts on. */
export interface RunRecord {
  urn: string;
  type: string;
  name: string;
  operation: RecordKind;
  /** Checked inputs, each secret replaced by `[secret]`. */
  inputs: Record<string, unknown>;
  id?: string;
}

const SECRET_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** A value Pulumi marks secret (its `specialSigKey`/`specialSecretSig` wrapper). */
export function isSecret(value: unknown): value is { value: unknown } {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[SECRET_KEY] === SECRET_SIG
  );
}

/** Replaces secret wrappers by their values (to carry out) or by a hash of them (to keep and compare). */
export function mapSecrets(value: unknown, secret: (inner: unknown) => unknown): unknown {
  if (isSecret(value)) return secret(mapSecrets(value.value, secret));
  if (Array.isArray(value)) return value.map((item) => mapSecrets(item, secret));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, mapSecrets(item, secret)]));
  }
  return value;
}

const reveal = (inner: unknown) => inner;

function containsValue(value: unknown, wanted: unknown): boolean {
  if (value === wanted) return true;
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).some((item) => containsValue(item, wanted));
}

function pick({ urn, type, name }: Registration): Pick<RunRecord, "urn" | "type" | "name"> {
  return { urn, type, name };
}

/**
 * A redacted copy of checked inputs, in which each secret path holds a keyed hash (HMAC-SHA256 with the
 * stack's key) instead of the value, or `[secret]` alone where no key is given (records).
 */
function redactLike(
  plain: Record<string, unknown>,
  withSecrets: Record<string, unknown>,
  hashKey?: Buffer,
): Record<string, unknown> {
  const redact = (inner: unknown) => ({
    "[secret]": hashKey ? createHmac("sha256", hashKey).update(JSON.stringify(inner)).digest("hex") : true,
  });
  const secretPaths = new Set<string>();
  const walk = (value: unknown, at: string) => {
    if (isSecret(value)) secretPaths.add(at);
    else if (typeof value === "object" && value !== null)
      for (const [key, item] of Object.entries(value)) walk(item, `${at}/${key}`);
  };
  walk(withSecrets, "");
  const rebuild = (value: unknown, at: string): unknown => {
    if (secretPaths.has(at)) return redact(value);
    if (Array.isArray(value)) return value.map((item, index) => rebuild(item, `${at}/${index}`));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [key, rebuild(item, `${at}/${key}`)]),
      );
    }
    return value;
  };
  return rebuild(plain, "") as Record<string, unknown>;
}

export interface ExecutorOptions {
  docker?: Docker;
  programDir: string;
  /** Where progress lines go. */
  steps: StepReporter;
  /** The stack whose labels every container and network gets. */
  owner: Owner;
  /** The stack's key for hashing secrets in state (see state.ts `secretKey`). */
  secretKey: Buffer;
  /** Keeps the state as it stands, called after each resource is created or deleted. */
  save?: (state: StackState) => void;
}

/**
 * Carries out a program's registrations on the real engine, the way the Pulumi engine drives a provider:
 * an unchanged resource (by its checked inputs) costs nothing; a new one is created; a changed one is
 * updated in place or replaced (delete-before-replace when the provider or the program asks, otherwise the
 * old one goes after the program succeeds); what the program no longer declares is deleted at the end.
 * A preview carries out nothing and leaves what it cannot know unknown.
 */
export class Executor {
  readonly records: RunRecord[] = [];
  private readonly next: StackState = { resources: {} };
  private readonly retired: { key: string; old: ResourceState }[] = [];
  /** What exists on the engine now, saved as it changes: a run killed at any point leaves it true. */
  private readonly live: Record<string, ResourceState>;
  /** Provider configurations with their secrets, in memory only: state keeps them redacted. */
  private readonly providerConfigs = new Map<string, Record<string, unknown>>();
  private readonly context: KindContext;

  constructor(
    private readonly previous: StackState,
    private readonly preview: boolean,
    private readonly options: ExecutorOptions,
  ) {
    this.live = { ...previous.resources };
    const docker = options.docker ?? new Docker();
    this.context = {
      docker,
      owner: options.owner,
      programDir: options.programDir,
      progress: (line) => options.steps.line(line),
      steps: options.steps,
      providerInputs: (reference) => {
        const urn = reference?.split("::").slice(0, -1).join("::");
        return urn ? this.providerConfigs.get(urn) : undefined;
      },
    };
  }

  /**
   * Handles one registration. Returns the resource's ID and outputs, with `unknown` standing for each
   * output a preview cannot know.
   */
  async register(
    registration: Registration,
    unknown: unknown,
  ): Promise<{ id: string; outputs: Record<string, unknown> }> {
    const kind = kindOf(registration.type);
    const old = this.previous.resources[registration.urn];
    if (this.preview && containsValue(registration.inputs, unknown)) {
      // An input that depends on something not yet made: the provider could check nothing, and neither can we.
      const operation: Operation = !old ? "create" : kind.updatesInPlace ? "update" : "replace";
      this.records.push({
        ...pick(registration),
        operation,
        inputs: redactLike(registration.inputs, registration.inputs),
      });
      return { id: old?.id ?? "", outputs: planned(kind, registration.inputs, old, unknown) };
    }
    const withSecrets = registration.inputs;
    const plainInputs = mapSecrets(withSecrets, reveal) as Record<string, unknown>;
    const reg = { ...registration, inputs: plainInputs };
    const oldInputs = old?.type === registration.type ? old.inputs : undefined;
    const checked = await kind.check(reg, oldInputs);
    if (reg.type.startsWith("pulumi:providers:")) this.providerConfigs.set(reg.urn, checked);
    const stored = redactLike(checked, withSecrets, this.options.secretKey);
    const record = (operation: Operation, id?: string) =>
      this.records.push({ ...pick(reg), operation, inputs: redactLike(checked, withSecrets), id });

    const diffBase = kind.diffsReadBack && old ? withoutId(old.outputs) : oldInputs;
    if (old && diffBase && (await kind.unchanged(diffBase, stored, this.context))) {
      this.next.resources[reg.urn] = old;
      record("same", old.id);
      return { id: old.id, outputs: old.outputs };
    }
    const operation: Operation = !old ? "create" : kind.updatesInPlace ? "update" : "replace";
    if (this.preview) {
      record(operation);
      return { id: old?.id ?? "", outputs: planned(kind, checked, old, unknown) };
    }
    let created: Created;
    if (operation === "replace" && old && (kind.deleteBeforeReplace || reg.deleteBeforeReplace)) {
      await kind.remove(old.id, old.outputs, this.context);
      this.change(reg.urn, undefined);
      created = await kind.create(reg, checked, this.context);
    } else {
      created = await kind.create(reg, checked, this.context);
      if (operation === "replace" && old) {
        const key = `retired::${old.id}`;
        this.retired.push({ key, old });
        this.live[key] = old;
      }
    }
    const outputs = redactLike(created.outputs, withSecrets, this.options.secretKey);
    this.next.resources[reg.urn] = { type: reg.type, inputs: stored, outputs, id: created.id };
    this.change(reg.urn, this.next.resources[reg.urn]);
    record(operation, created.id);
    return { id: created.id, outputs: created.outputs };
  }

  /** Records that `key` now holds `resource` (or nothing), and saves the state as it now stands. */
  private change(key: string, resource: ResourceState | undefined): void {
    if (resource) this.live[key] = resource;
    else delete this.live[key];
    this.options.save?.({ resources: { ...this.live } });
  }

  private async removeAndRecord(key: string, old: ResourceState): Promise<void> {
    await kindOf(old.type).remove(old.id, old.outputs, this.context);
    this.change(key, undefined);
  }

  /**
   * After the program: deletes the replaced resources and those the program no longer declares (newest
   * first), and returns the state to keep. After a failed program nothing is deleted, and the state keeps
   * both what this run made and everything it had before (a replaced one under `retired::<id>`, which the
   * next successful run deletes).
   */
  async finish(succeeded: boolean): Promise<StackState> {
    const dropped = Object.entries(this.previous.resources).filter(([urn]) => !(urn in this.next.resources));
    if (this.preview) return this.previous;
    if (!succeeded) return { resources: { ...this.live } };
    for (const { key, old } of this.retired) await this.removeAndRecord(key, old);
    for (const [urn, old] of dropped.reverse()) await this.removeAndRecord(urn, old);
    return this.next;
  }

  /** Notes a component resource's registration. */
  registerComponent(registration: Pick<Registration, "urn" | "type" | "name">): void {
    this.records.push({ ...pick(registration as Registration), operation: "component", inputs: {} });
  }

  /**
   * Deletes every resource of a state, newest first (`pulumi destroy`), saving the state after each, then
   * what the stack's interrupted runs left unrecorded.
   */
  static async destroy(state: StackState, options: ExecutorOptions) {
    const executor = new Executor(state, false, options);
    for (const [key, old] of Object.entries(state.resources).reverse())
      await executor.removeAndRecord(key, old);
    await executor.removeOrphans();
  }

  /** Removes the containers and networks labelled as this stack's that its state does not hold. */
  async removeOrphans(): Promise<number> {
    return removeOrphans(
      this.context.docker,
      this.options.owner,
      { resources: this.live },
      this.context.progress,
    );
  }
}

/** State as a bridged provider keeps it: the read-back outputs, whose `id` is no input. */
function withoutId(outputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).filter(([key]) => key !== "id"));
}
