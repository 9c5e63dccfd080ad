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
  const clean = withoutCredentials(stripControls(text).trim());
  const chars = Array.from(clean);
  if (chars.length <= limit) return clean;
  return `${chars.slice(0, limit).join("")}… (${chars.length - limit} more characters)`;
}

/** Outside text with terminal escapes removed and every other control character made a space; never cut. */
export function stripControls(text: string): string {
  return stripVTControlCharacters(text).replace(UNPRINTABLE, " ");
}

/**
 * `user:password@` before a host (with or without a scheme), and what follows `Bearer` or `Basic`: a URL's
 * userinfo or an Authorization value. `app@sha256:…` is a digest, not userinfo, and stays. Matches start
 * only where a word starts, so the search stays linear in the text's length.
 */
const CREDENTIALS =
  /(?<![^\s"'`(=<[])([A-Za-z][A-Za-z0-9+.-]*:\/\/)?[^\s"'`/@(=<[]+@(?![a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-f0-9]{32,})|\b(Bearer|Basic) +[\w\-.~+/]{8,}=*/g;

/**
 * Text with every URL userinfo and Authorization value replaced by `[redacted]`, for messages that quote
 * an input or a registry's text that may carry them (`ci:s3cret@host`, a realm with a password, a token).
 */
export function withoutCredentials(text: string): string {
  return text.replace(CREDENTIALS, (_match, scheme?: string, auth?: string) =>
    auth ? `${auth} [redacted]` : `${scheme ?? ""}[redacted]@`,
  );
}
