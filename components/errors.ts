/**
 * An input that minimal-image cannot use. The message names the field, what is wrong with it and how to fix
 * it, and is raised before anything is built, pushed or run.
 */
export class InputError extends Error {
  constructor(
    /** The input's path, e.g. `recipe.output` or `registry.username`. */
    readonly field: string,
    problem: string,
    fix: string,
  ) {
    super(`minimal-image: ${field}: ${problem}. ${fix}`);
    this.name = "InputError";
  }
}

/**
 * Text from outside (an engine, a registry) made safe to print: control characters, ANSI escapes and
 * newlines become spaces, so it cannot forge lines or colours, and it is cut to `limit` characters.
 */
export function outsideText(text: string, limit = 500): string {
  // eslint-disable-next-line no-control-regex -- the point is to remove them
  const cleaned = text.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/[\x00-\x1f\x7f]+/g, " ");
  return cleaned.length > limit
    ? `${cleaned.slice(0, limit)}… (${cleaned.length - limit} more characters)`
    : cleaned;
}
