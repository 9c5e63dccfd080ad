import { createHash } from "node:crypto";
import Docker from "dockerode";
import { dockerContainer } from "./docker-container";
import { dockerImage } from "./docker-image";
import { dockerRemoteImage } from "./docker-remote-image";
import { dynamicInspection, INSPECTION_TYPE } from "./dynamic-inspection";
import { Created, KindContext, Registration, ResourceKind } from "./kind";
import { StepReporter } from "../engine/progress";
import { dockerNetwork, kubernetesObject, providerResource } from "./others";
import { ResourceState, StackState } from "./state";

/** The resource types carried out, by type token; Kubernetes types are matched by their package. */
const KINDS: Record<string, ResourceKind> = {
  "docker:index/image:Image": dockerImage,
  "docker:index/remoteImage:RemoteImage": dockerRemoteImage,
  "docker:index/container:Container": dockerContainer,
  "docker:index/network:Network": dockerNetwork,
  [INSPECTION_TYPE]: dynamicInspection,
};

function kindOf(type: string): ResourceKind {
  if (type.startsWith("pulumi:providers:")) return providerResource;
  if (type.startsWith("kubernetes:")) return kubernetesObject;
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

function isSecret(value: unknown): value is { value: unknown } {
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
const redact = (inner: unknown) => ({
  "[secret]": createHash("sha256").update(JSON.stringify(inner)).digest("hex"),
});

function containsValue(value: unknown, wanted: unknown): boolean {
  if (value === wanted) return true;
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).some((item) => containsValue(item, wanted));
}

function pick({ urn, type, name }: Registration): Pick<RunRecord, "urn" | "type" | "name"> {
  return { urn, type, name };
}

/** A redacted copy of checked inputs, in which each secret path holds a hash instead of the value. */
function redactLike(
  plain: Record<string, unknown>,
  withSecrets: Record<string, unknown>,
): Record<string, unknown> {
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
  private readonly retired: ResourceState[] = [];
  /** Provider configurations with their secrets, in memory only: state keeps them redacted. */
  private readonly providerConfigs = new Map<string, Record<string, unknown>>();
  private readonly context: KindContext;

  constructor(
    private readonly previous: StackState,
    private readonly preview: boolean,
    options: ExecutorOptions,
  ) {
    const docker = options.docker ?? new Docker();
    this.context = {
      docker,
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
      const planned: Record<string, unknown> = { ...registration.inputs };
      for (const key of kind.computed) planned[key] = unknown;
      return { id: old?.id ?? "", outputs: planned };
    }
    const withSecrets = registration.inputs;
    const plainInputs = mapSecrets(withSecrets, reveal) as Record<string, unknown>;
    const reg = { ...registration, inputs: plainInputs };
    const oldInputs = old?.type === registration.type ? old.inputs : undefined;
    const checked = await kind.check(reg, oldInputs);
    if (reg.type.startsWith("pulumi:providers:")) this.providerConfigs.set(reg.urn, checked);
    const stored = redactLike(checked, withSecrets);
    const record = (operation: Operation, id?: string) =>
      this.records.push({ ...pick(reg), operation, inputs: stored, id });

    const diffBase = kind.diffsReadBack && old ? withoutId(old.outputs) : oldInputs;
    if (old && diffBase && (await kind.unchanged(diffBase, stored, this.context))) {
      this.next.resources[reg.urn] = old;
      record("same", old.id);
      return { id: old.id, outputs: old.outputs };
    }
    const operation: Operation = !old ? "create" : kind.updatesInPlace ? "update" : "replace";
    if (this.preview) {
      record(operation);
      const planned: Record<string, unknown> = { ...checked };
      for (const key of kind.computed) planned[key] = unknown;
      return { id: old?.id ?? "", outputs: planned };
    }
    let created: Created;
    if (operation === "replace" && old && (kind.deleteBeforeReplace || reg.deleteBeforeReplace)) {
      await kind.remove(old.id, old.outputs, this.context);
      created = await kind.create(reg, checked, this.context);
    } else {
      created = await kind.create(reg, checked, this.context);
      if (operation === "replace" && old) this.retired.push(old);
    }
    const outputs = redactLike(created.outputs, withSecrets);
    this.next.resources[reg.urn] = { type: reg.type, inputs: stored, outputs, id: created.id };
    record(operation, created.id);
    return { id: created.id, outputs: created.outputs };
  }

  /**
   * After the program: deletes the replaced resources and those the program no longer declares (newest
   * first), and returns the state to keep. After a failed program nothing is deleted, and the state keeps
   * both what this run made and everything it had before.
   */
  async finish(succeeded: boolean): Promise<StackState> {
    const dropped = Object.entries(this.previous.resources).filter(([urn]) => !(urn in this.next.resources));
    if (this.preview) return this.previous;
    if (!succeeded) {
      const kept: StackState = { resources: { ...this.previous.resources, ...this.next.resources } };
      this.retired.forEach((old, index) => (kept.resources[`retired-${index}::${old.id}`] = old));
      return kept;
    }
    for (const old of this.retired) await kindOf(old.type).remove(old.id, old.outputs, this.context);
    for (const [, old] of dropped.reverse()) await kindOf(old.type).remove(old.id, old.outputs, this.context);
    return this.next;
  }

  /** Notes a component resource's registration. */
  registerComponent(registration: Pick<Registration, "urn" | "type" | "name">): void {
    this.records.push({ ...pick(registration as Registration), operation: "component", inputs: {} });
  }

  /** Deletes every resource of a state, newest first (`pulumi destroy`). */
  static async destroy(state: StackState, options: ExecutorOptions) {
    const executor = new Executor(state, false, options);
    for (const old of Object.values(state.resources).reverse()) {
      await kindOf(old.type).remove(old.id, old.outputs, executor.context);
    }
  }
}

/** State as a bridged provider keeps it: the read-back outputs, whose `id` is no input. */
function withoutId(outputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).filter(([key]) => key !== "id"));
}
