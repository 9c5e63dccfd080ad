import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import dockerignore from "@balena/dockerignore";
import { fileKind, readSourceFile } from "../recipe/source-file";
import { FieldPath, InputError } from "../validation";

/** What a directory entry is, for entries a build context cannot carry (only files, folders and links can). */
function specialKind(entry: fs.Dirent): string | undefined {
  if (entry.isFile() || entry.isDirectory() || entry.isSymbolicLink()) return undefined;
  return fileKind(entry);
}

/**
 * The ignore patterns a build of `contextDir` uses, with Docker's and the provider's precedence (pulumi-docker
 * `getIgnorePatterns`, provider/provider.go): `<dockerfile>.dockerignore` when it exists, else the context's
 * own `.dockerignore`, else none.
 */
export function ignorePatterns(
  contextDir: string,
  dockerfile?: string,
  field: FieldPath = ["source"],
): string[] {
  const text =
    (dockerfile === undefined
      ? undefined
      : readSourceFile(path.dirname(dockerfile), `${path.basename(dockerfile)}.dockerignore`, field)) ??
    readSourceFile(contextDir, ".dockerignore", field);
  return (text ?? "").split(/\r?\n/).filter((line) => line.trim() !== "");
}

/**
 * The pattern that keeps `folder` out of a build of `contextDir`, or none when the folder is not inside it.
 * The component writes its Dockerfiles under the program's `.minimal-image/`: with `source: "."` that
 * folder is inside the context, and its files, another stack's included, must not change what is built.
 */
export function exclusionPattern(contextDir: string, folder: string): string | undefined {
  const relative = path.relative(contextDir, folder);
  if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) return undefined;
  return relative.split(path.sep).join("/");
}

/**
 * The `!` exception patterns, cleaned as Docker cleans every pattern (no leading or trailing `/`, `..`
 * resolved), each split into its path segments.
 */
function exceptionSegments(patterns: readonly string[]): string[][] {
  return patterns
    .map((pattern) => pattern.trim())
    .filter((pattern) => pattern.startsWith("!") && pattern.slice(1).trim() !== "")
    .map((pattern) =>
      path.posix
        .normalize(pattern.slice(1).trim())
        .replace(/^\/+|\/+$/g, "")
        .split("/"),
    );
}

/**
 * Whether one segment of a pattern can match the folder name `name`. Plain characters, `*` and `?` are
 * matched as Docker matches them (neither crosses a `/`); any other syntax (`[…]`, `\` escapes, or a
 * character the ignore library would read as regular-expression syntax) is taken to match, so a folder is
 * never skipped on a guess.
 */
function segmentCanMatch(segment: string, name: string): boolean {
  if (!/^[\w .,@%=:~#!*?-]*$/.test(segment)) return true;
  const pattern = segment.replace(/\./g, "\\.").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]");
  return new RegExp(`^${pattern}$`).test(name);
}

/**
 * Whether an exception could re-include something below the folder `relative`: its segments match the
 * folder's as far as both go. A shorter exception names the folder or one of its parents, which Docker
 * extends to everything below; a longer one may name a file inside.
 */
function mayReinclude(exception: string[], relative: string): boolean {
  const names = relative.split("/");
  for (let i = 0; i < Math.min(names.length, exception.length); i++) {
    // `**` spans any number of folders, so what follows it may match anywhere below.
    if (exception[i].includes("**")) return true;
    if (!segmentCanMatch(exception[i], names[i])) return false;
  }
  return true;
}

/**
 * The files `docker build` sends for a folder: every file below it, minus what its `.dockerignore` excludes
 * (Docker's own pattern rules, `!` exceptions included). Paths are relative, `/`-separated and sorted, so
 * the list is the same on every machine. A FIFO, socket or device that is not excluded is refused: reading
 * one would block the context packer or send endless data. Only directory entries are read, never a file,
 * and an excluded folder is not entered unless an exception could re-include something below it (as
 * Docker's own walk skips it), so an ignored `node_modules` costs one entry, not thousands.
 * @param field how the folder is named in errors.
 * @param patterns the ignore patterns; default the folder's `.dockerignore`.
 */
export function listContextFiles(
  contextDir: string,
  field: FieldPath = ["source"],
  patterns: readonly string[] = ignorePatterns(contextDir, undefined, field),
): string[] {
  const ignoreFile = path.join(contextDir, ".dockerignore");
  const ignore = dockerignore({ ignorecase: false });
  ignore.add([...patterns]);
  const exceptions = exceptionSegments(patterns);
  const files: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of fs.readdirSync(path.join(contextDir, relative), { withFileTypes: true })) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) {
        const skip = ignore.ignores(child) && !exceptions.some((exception) => mayReinclude(exception, child));
        if (!skip) walk(child);
        continue;
      }
      if (ignore.ignores(child)) continue;
      const kind = specialKind(entry);
      if (kind !== undefined) {
        throw new InputError(
          field,
          `${JSON.stringify(child)} in ${contextDir} is ${kind}, which a build context cannot carry`,
          `List it in ${ignoreFile}, or move it out of the folder`,
        );
      }
      files.push(child);
    }
  };
  walk("");
  return files.sort();
}

/**
 * A digest of what a build sends: the Dockerfile's text and every context file's path, mode and content (a
 * link's target), not timestamps. The same folder and Dockerfile give the same digest on every machine; any
 * changed file, `chmod` or Dockerfile line changes it (as the Pulumi Docker provider's `contextDigest`).
 */
export function contextDigest(
  sourceDir: string,
  contextFiles: readonly string[],
  dockerfile: string,
): string {
  const hash = createHash("sha256").update(dockerfile);
  // Files are hashed a chunk at a time: memory stays flat however large the context, and files over
  // 2 GiB (which fs.readFileSync refuses) hash like any other.
  const chunk = Buffer.allocUnsafe(1024 ** 2);
  for (const file of contextFiles) {
    const full = path.join(sourceDir, file);
    const stat = fs.lstatSync(full);
    hash.update(`\0${file}\0${(stat.mode & 0o7777).toString(8)}\0`);
    if (stat.isSymbolicLink()) {
      hash.update(fs.readlinkSync(full));
      continue;
    }
    const fd = fs.openSync(full, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
    try {
      for (let n; (n = fs.readSync(fd, chunk, 0, chunk.length, null)) > 0;) hash.update(chunk.subarray(0, n));
    } finally {
      fs.closeSync(fd);
    }
  }
  return hash.digest("hex");
}
