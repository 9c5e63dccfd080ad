import * as fs from "node:fs";
import * as path from "node:path";
import { FieldPath, InputError } from "../validation";

/** The largest configuration file read from a source folder (`.dockerignore`, `Cargo.toml`). */
export const MAX_SOURCE_FILE_BYTES = 1024 ** 2;

/** What a file that is not what was wanted is, for an error: from `lstat`/`fstat` or a directory entry. */
export function fileKind(stat: fs.Stats | fs.Dirent): string {
  if (stat.isFile()) return "a regular file";
  if (stat.isSymbolicLink()) return "a symbolic link";
  if (stat.isDirectory()) return "a directory";
  if (stat.isFIFO()) return "a FIFO (named pipe)";
  if (stat.isSocket()) return "a socket";
  if (stat.isBlockDevice() || stat.isCharacterDevice()) return "a device";
  return "a special file";
}

/**
 * Reads a configuration file of the source folder as UTF-8, or undefined when there is none. Checked before
 * a byte is read: a regular file (a FIFO would block forever, a device such as `/dev/zero` never end), at
 * most `maxBytes`, and a symlink only when it stays inside the folder. Opened non-blocking and checked again
 * on the open descriptor, so a file swapped in between cannot hang the read.
 * @param field the input the file belongs to, named in errors.
 */
export function readSourceFile(
  sourceDir: string,
  name: string,
  field: FieldPath,
  maxBytes = MAX_SOURCE_FILE_BYTES,
): string | undefined {
  const file = path.join(sourceDir, name);
  const refuse = (problem: string, fix: string) =>
    new InputError(field, `${file} ${problem}`, `${fix}, or remove ${name}`);
  let real: string;
  try {
    real = fs.realpathSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      // A dangling symlink is refused; no file at all means none.
      if (isSymlink(file)) throw refuse("is a symlink to nothing", `Point it at a file inside ${sourceDir}`);
      return undefined;
    }
    throw refuse(`cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`, "Check the file");
  }
  const root = fs.realpathSync(sourceDir);
  const relative = path.relative(root, real);
  if (relative === ".." || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) {
    throw refuse(`is a symlink out of the source folder (to ${real})`, `Copy the file into ${sourceDir}`);
  }
  const fd = fs.openSync(real, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW);
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw refuse(`is ${fileKind(stat)}, not a regular file`, "Make it a regular file");
    if (stat.size > maxBytes) {
      throw refuse(`is ${stat.size} bytes, more than ${maxBytes}`, "Make it smaller");
    }
    // One byte past the bound tells a file that grew after fstat from one that fits.
    const buf = Buffer.alloc(maxBytes + 1);
    let length = 0;
    for (let n = -1; n !== 0 && length < buf.length; length += n) {
      n = fs.readSync(fd, buf, length, buf.length - length, null);
    }
    if (length > maxBytes) throw refuse(`grew past ${maxBytes} bytes while being read`, "Make it smaller");
    return buf.toString("utf8", 0, length);
  } finally {
    fs.closeSync(fd);
  }
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
