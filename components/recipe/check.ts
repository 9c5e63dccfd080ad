import * as path from "node:path";
import { describe, FieldPath, InputError } from "../validation";

/**
 * Control characters other than tab (C0, DEL and C1), format characters, line and paragraph separators, and
 * lone surrogates. A line feed or carriage return in a Dockerfile line starts a new instruction, NUL cannot
 * pass through exec or a shell, the other controls garble what a terminal shows (U+0085 and U+2028 are line
 * breaks to some tools), a bidi override (U+202E) or zero-width character makes a reviewer read other text
 * than the build runs, and a lone surrogate cannot be written as UTF-8 (it would silently become U+FFFD).
 */
const UNWRITABLE = /(?!\t)\p{Cc}|\p{Cf}|\p{Zl}|\p{Zp}|\p{Cs}/u;
/** How much of a refused value an error shows. */
const SHOWN = 60;
/** Docker's line continuation: an escape character, then only blanks, at the end of a line. */
const LINE_CONTINUATION = /\\[ \t]*$/;

/** A refused value as errors show it: escaped, and cut short. */
function shown(value: string): string {
  return describe(value.length > SHOWN ? `${value.slice(0, SHOWN)}…` : value);
}

/**
 * Checks one string of a recipe where it enters: not blank, no control characters, well-formed Unicode.
 * Every recipe value goes through here, so none of them can add a line to the rendered Dockerfile.
 */
export function checkRecipeString(value: string, field: FieldPath): string {
  if (value.trim() === "") {
    throw new InputError(field, "is empty", "Give a value, or leave the option out");
  }
  const bad = UNWRITABLE.exec(value);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase();
    throw new InputError(
      field,
      `${shown(value)} contains U+${code} (a control or format character, a line separator or a lone surrogate) at offset ${bad.index}`,
      "Remove it: a line break would start a new Dockerfile instruction, NUL cannot be passed to a program, and a bidi or zero-width character hides what the line says",
    );
  }
  return value;
}

/**
 * A value that is shell by design (`setup`, `buildCommand`): it runs as written inside the builder, but it
 * must stay inside its own RUN line. Besides {@link checkRecipeString}, it may not end in a backslash (which
 * would join the next Dockerfile line to it) nor hold `<<` (BuildKit reads a here-document's body from the
 * lines that follow, and a one-line value cannot hold a body anyway).
 */
export function checkShellSnippet(value: string, field: FieldPath): string {
  checkRecipeString(value, field);
  if (LINE_CONTINUATION.test(value)) {
    throw new InputError(
      field,
      `${shown(value)} ends in a backslash, which would continue the Dockerfile line`,
      "Remove the trailing backslash",
    );
  }
  if (value.includes("<<")) {
    throw new InputError(
      field,
      `${shown(value)} holds \`<<\`, which BuildKit reads as a here-document over the following lines`,
      "Put those commands in a script inside the source folder and run the script",
    );
  }
  return value;
}

/**
 * A path relative to the source folder (`output`, `sources`, `goPackage`), normalized, `/`-separated. Refuses
 * absolute paths and paths that climb out of the folder: the build may only read and write inside it.
 */
export function checkRelativePath(value: string, field: FieldPath): string {
  checkRecipeString(value, field);
  const normalized = path.posix.normalize(value);
  if (path.posix.isAbsolute(value) || normalized === ".." || normalized.startsWith("../")) {
    throw new InputError(
      field,
      `${shown(value)} is outside the source folder`,
      "Give a path inside the source folder, relative to it, e.g. `build/app`",
    );
  }
  return normalized;
}
