import Docker from "dockerode";
import { StepReporter } from "../engine/progress";
import { Owner } from "./owner";

/** A resource registration, as the Pulumi engine hands it to a provider. */
export interface Registration {
  urn: string;
  type: string;
  name: string;
  /** Inputs with secrets unwrapped to their values (see {@link secretPaths}). */
  inputs: Record<string, unknown>;
  /** `<urn>::<id>` of an explicit provider resource, when the program gave one. */
  provider?: string;
  /** The program's `deleteBeforeReplace` resource option. */
  deleteBeforeReplace: boolean;
}

/** What a resource kind needs from the executor. */
export interface KindContext {
  docker: Docker;
  /** The stack whose labels each container and network gets, with its URN. */
  owner: Owner;
  /** The program's folder: relative paths in inputs resolve against it, as the providers' do. */
  programDir: string;
  /** Inputs of the provider resource a registration names, if any. */
  providerInputs(reference: string | undefined): Record<string, unknown> | undefined;
  /** A line of progress, on a terminal and in a CI log alike. */
  progress(line: string): void;
  /** Shows build steps and pushes as they run, with elapsed time. */
  steps: StepReporter;
}

/** The engine objects a resource made, and what the provider returns as its outputs. */
export interface Created {
  id: string;
  outputs: Record<string, unknown>;
}

/**
 * How one provider resource type is carried out on the real engine. Each follows the provider's documented
 * semantics: its Check (defaults), Diff (what replaces), Create, Update and Delete.
 */
export interface ResourceKind {
  /** The provider's Check: the inputs with defaults applied; throws on an input it does not carry out. */
  check(
    registration: Registration,
    old: Record<string, unknown> | undefined,
  ): Promise<Record<string, unknown>>;
  /** True when the change from `old` to `checked` needs no action (the provider's Diff says none). */
  unchanged(
    old: Record<string, unknown>,
    checked: Record<string, unknown>,
    context: KindContext,
  ): boolean | Promise<boolean>;
  /**
   * The provider diffs against the state its Read stored (the outputs, less `id`), not against the last
   * declared inputs: true for the bridged resources whose create reads the engine back.
   */
  diffsReadBack?: boolean;
  /** True when a change is applied in place rather than by replacement. */
  updatesInPlace: boolean;
  /** The provider itself asks for delete-before-replace (as the Docker bridge does for containers). */
  deleteBeforeReplace: boolean;
  /** Output keys a preview cannot know before the resource exists. */
  computed: string[];
  /** In a preview, every output of the last operation that is not an input is unknown too. */
  providerOutputsUnknown?: boolean;
  create(
    registration: Registration,
    checked: Record<string, unknown>,
    context: KindContext,
  ): Promise<Created>;
  remove(id: string, outputs: Record<string, unknown>, context: KindContext): Promise<void>;
}

/** Fails on any input key the executor does not carry out: an ignored field would be a silent lie. */
export function onlyKnownKeys(what: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (value[key] !== undefined && !known.includes(key)) {
      throw new Error(
        `local executor: ${what}.${key} is not carried out by the local executor; ` +
          "teach harness/executor about it before declaring it",
      );
    }
  }
}

/** A `Record` view of an input object, or an empty one when absent. */
export function objectInput(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new Error(`local executor: ${what} must be an object`);
  return value as Record<string, unknown>;
}
