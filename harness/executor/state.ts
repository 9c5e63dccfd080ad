import { randomBytes } from "node:crypto";
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

/** A state file that cannot be read as one: the error names the file and the way out. */
export class CorruptStateError extends Error {
  constructor(file: string, why: string) {
    super(
      `local executor: the state file ${file} is corrupt (${why}). Move it aside (mv '${file}' '${file}.corrupt') ` +
        "and run again, or run --down: the containers and networks this stack made carry its labels, so the " +
        "next run or --down removes them without the state.",
    );
    this.name = "CorruptStateError";
  }
}

/** The most a state file may hold: a stack's state is kilobytes, a larger file is not one of ours. */
const MAX_STATE_BYTES = 64 * 1024 * 1024;

/** Reads a stack's state; a missing file is an empty stack. */
export function readState(file: string): StackState {
  if (!fs.existsSync(file)) return { resources: {} };
  const size = fs.statSync(file).size;
  if (size > MAX_STATE_BYTES) throw new CorruptStateError(file, `${size} bytes, over ${MAX_STATE_BYTES}`);
  let parsed: Partial<StackState>;
  try {
    parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<StackState>;
  } catch (error) {
    throw new CorruptStateError(file, `not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || typeof parsed.resources !== "object") {
    throw new CorruptStateError(file, "no resources object");
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

/** Removes the temporary files of writes a killed run left half done (run under the stack's lock). */
export function removeTemporaryStates(file: string): void {
  const dir = path.dirname(file);
  if (!fs.existsSync(dir)) return;
  const prefix = `${path.basename(file)}.`;
  for (const name of fs.readdirSync(dir)) {
    if (name.startsWith(prefix) && /^\d+\.tmp$/.test(name.slice(prefix.length)))
      fs.rmSync(path.join(dir, name), { force: true });
  }
}

/**
 * The stack's key for hashing secrets (HMAC-SHA256), made once at random and kept beside the state, not in
 * it: the state file alone lets no one test guesses of a secret against its hash.
 */
export function secretKey(file: string): Buffer {
  const keyFile = `${file}.key`;
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  try {
    fs.writeFileSync(keyFile, randomBytes(32).toString("hex"), { flag: "wx", mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const key = Buffer.from(fs.readFileSync(keyFile, "utf8").trim(), "hex");
  if (key.length !== 32) throw new CorruptStateError(keyFile, "not a 32-byte hex key");
  return key;
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
