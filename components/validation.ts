import { withoutCredentials } from "./outside-text";

/**
 * The one validation kit every stage uses. An input is checked where it enters, before anything is declared,
 * and a bad one fails with an {@link InputError} that names the field by its path, says what is wrong, and
 * says how to fix it.
 */

/**
 * Where an input sits, as a list of keys and indexes, e.g. `["replicas", "publishedPorts", 0, "hostPort"]`
 * (as zod's issues carry it). The first key may be any name the caller gives its input, such as a CLI flag
 * or an environment variable.
 */
export type FieldPath = readonly (string | number)[];

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
/** What JSON.stringify leaves as is but a terminal or reader misreads: C1 controls, bidi and zero-width. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu;

/** JSON text for a message, every control or format character written as its `\uXXXX` escape. */
function escaped(json: string): string {
  return json.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * `replicas.publishedPorts[0].hostPort`: keys after the first that are not identifiers are quoted in
 * brackets, so a label key such as `app.kubernetes.io/name` stays one segment.
 */
export function formatPath(path: FieldPath): string {
  return path
    .map((key, i) => {
      if (typeof key === "number") return `[${key}]`;
      if (i === 0) return key;
      return IDENTIFIER.test(key) ? `.${key}` : `[${escaped(JSON.stringify(key))}]`;
    })
    .join("");
}

/**
 * An input that minimal-image cannot use. The message names the field, what is wrong with it and how to fix
 * it, and is raised before anything is built, pushed or run.
 */
export class InputError extends Error {
  /** The input's path, e.g. `["recipe", "output"]`. */
  readonly path: FieldPath;
  /** The path as the message shows it, e.g. `recipe.output` or `registry.username`. */
  readonly field: string;

  constructor(path: FieldPath | string, problem: string, fix: string) {
    const at = typeof path === "string" ? [path] : path;
    const field = formatPath(at);
    super(`minimal-image: ${field}: ${problem}. ${fix}`);
    this.name = "InputError";
    this.path = at;
    this.field = field;
  }
}

/** A short, safe description of an unexpected value for error messages. */
export function describe(value: unknown): string {
  if (typeof value === "string") return escaped(JSON.stringify(withoutCredentials(value)));
  if (value === undefined || value === null) return String(value);
  if (Array.isArray(value)) return "an array";
  return `${typeof value} ${escaped(String(JSON.stringify(value)))}`.slice(0, 80);
}

/** A JSON object: not null, not an array. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A plain object; an array, `null`, a class instance holding Outputs and the like are refused. */
export function record(
  raw: unknown,
  path: FieldPath,
  fix = "Give an object literal.",
  what = "a plain object",
): Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw) || isOutputLike(raw)) {
    throw new InputError(path, `expected ${what}, got ${describe(raw)}`, fix);
  }
  return raw as Record<string, unknown>;
}

/** Pulumi Outputs carry this marker; the kit refuses them where a value must be known now. */
function isOutputLike(raw: object): boolean {
  return (raw as { __pulumiOutput?: unknown }).__pulumiOutput === true;
}

/** An array. */
export function list(raw: unknown, path: FieldPath, fix = "Give an array, e.g. []."): unknown[] {
  if (!Array.isArray(raw)) {
    throw new InputError(path, `expected an array, got ${describe(raw)}`, fix);
  }
  return raw;
}

/** A whole number from `min` to `max`. */
export function integer(
  raw: unknown,
  path: FieldPath,
  min: number,
  max: number,
  fix = "Give a whole number in that range.",
): number {
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < min || raw > max) {
    throw new InputError(path, `${describe(raw)} is not an integer from ${min} to ${max}`, fix);
  }
  return raw;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(
  raw: unknown,
  allowed: readonly T[],
  path: FieldPath,
  fix = `Use one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}.`,
): T {
  if (typeof raw !== "string" || !allowed.includes(raw as T)) {
    throw new InputError(path, `${describe(raw)} is not supported`, fix);
  }
  return raw as T;
}

/** Keys of an object that its validator does not know, refused naming the first. */
export function rejectUnknownKeys(
  input: Record<string, unknown>,
  known: readonly string[],
  path: FieldPath,
  what: string,
  fix = `Use ${known.join(", ")}.`,
): void {
  const unknown = Object.keys(input).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new InputError([...path, unknown], `is not ${what}`, fix);
}

/** A list that names something twice. */
export function rejectDuplicates(values: string[], path: FieldPath, fix: string): void {
  const duplicate = values.find((value, i) => values.indexOf(value) !== i);
  if (duplicate !== undefined) throw new InputError(path, `${duplicate} is listed twice`, fix);
}
