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
