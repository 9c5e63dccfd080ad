import * as fs from "node:fs";
import * as path from "node:path";

/** One resource the executor carried out, as it keeps it between runs (like a Pulumi checkpoint entry). */
export interface ResourceState {
  type: string;
  /** The inputs after the provider's defaults were applied (what Pulumi keeps as `__inputs`). */
  inputs: Record<string, unknown>;
  /** What the provider returned; `id` is the engine's handle (container ID, image name, ...). */
  outputs: Record<string, unknown>;
  id: string;
}

/** Everything one stack's runs carried out, keyed by URN. */
export interface StackState {
  resources: Record<string, ResourceState>;
}

/** Reads a stack's state; a missing file is an empty stack. */
export function readState(file: string): StackState {
  if (!fs.existsSync(file)) return { resources: {} };
  const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<StackState>;
  if (typeof parsed !== "object" || parsed === null || typeof parsed.resources !== "object") {
    throw new Error(`local executor: ${file} is not a state file; remove it to start the stack afresh`);
  }
  return { resources: parsed.resources ?? {} };
}

/** Writes a stack's state atomically, so an interrupted run never leaves half a file. */
export function writeState(file: string, state: StackState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

/** Deep equality of JSON-like values (key order ignored), as Pulumi diffs inputs. */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const aKeys = Object.keys(a).filter((key) => (a as Record<string, unknown>)[key] !== undefined);
  const bKeys = Object.keys(b).filter((key) => (b as Record<string, unknown>)[key] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((key) =>
    sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
  );
}
