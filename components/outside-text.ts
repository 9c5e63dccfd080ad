import { stripVTControlCharacters } from "node:util";

/** Unicode controls, format characters (bidi overrides, zero-width) and line/paragraph separators. */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]+/gu;

/**
 * Makes text that came from outside (a registry's error body or header, an engine's message) safe to put in
 * an error message: terminal escape sequences are removed, other control characters (newlines included, so
 * no forged `minimal-image: …` line) become a space, and the result is cut to `limit` characters.
 * Keep the full text elsewhere (e.g. an error's `detail`) when it may help debugging.
 */
export function outsideText(text: string, limit = 300): string {
  const clean = stripControls(text).trim();
  const chars = Array.from(clean);
  if (chars.length <= limit) return clean;
  return `${chars.slice(0, limit).join("")}… (${chars.length - limit} more characters)`;
}

/** Outside text with terminal escapes removed and every other control character made a space; never cut. */
export function stripControls(text: string): string {
  return stripVTControlCharacters(text).replace(UNPRINTABLE, " ");
}
