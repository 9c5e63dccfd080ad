import { parse as parseToml } from "smol-toml";
import { MAX_FACTS_FILE_BYTES } from "../render";
import { outsideText } from "../outside-text";

/**
 * The facts the `sbom` build target writes (components/render/sbom-facts.ts), read back. They come out of
 * a build, so they are outside text: every file is bounded, every field must match its pattern, and
 * anything else is refused with a {@link SbomFactsError} naming the file.
 */

/** The files the facts folder may hold, by their path relative to `/sbom/`. */
export const FACTS_FILES = [
  "facts.txt",
  "files.txt",
  "packages.txt",
  "link.txt",
  "compiler.txt",
  "go-buildinfo.txt",
  "Cargo.lock",
  "cargo-tree.txt",
] as const;
export type FactsFile = (typeof FACTS_FILES)[number];

/** Lines one facts file may hold. */
export const MAX_FACTS_LINES = 20_000;

/** Facts that cannot be read: the message names the file, what is wrong and what to do. */
export class SbomFactsError extends Error {
  /** The facts file, relative to `/sbom/`. */
  readonly file: string;

  constructor(file: string, problem: string) {
    super(
      `minimal-image: SBOM facts ${outsideText(file, 80)}: ${problem}. Build the facts again with` +
        " `docker build --target sbom` from a Dockerfile minimal-image rendered, and pass the files of its /sbom/ folder unchanged",
    );
    this.name = "SbomFactsError";
    this.file = file;
  }
}

/** The roles a package plays in the build, as packages.txt names them. */
export const ROLES = ["compiler", "crate", "extra", "libc", "linked", "std"] as const;
export type Role = (typeof ROLES)[number];

/** One row of packages.txt: a package the package database names, and the file that led to it. */
export interface PackageFact {
  role: Role;
  name: string;
  version: string;
  architecture: string;
  file?: string;
}

/** A Go module compiled in, as `go version -m` reports it. */
export interface GoModule {
  /** `mod` for the main module, `dep` for a dependency. */
  kind: "mod" | "dep";
  path: string;
  version: string;
  sum?: string;
  /** The module that replaced it (`=>`): what was compiled in instead. */
  replacement?: { path: string; version?: string; sum?: string };
}

/** A crate of the Cargo.lock the build resolved. */
export interface Crate {
  name: string;
  version: string;
  source?: string;
  checksum?: string;
}

export interface Facts {
  toolchain: "c" | "go" | "rust";
  platform: string;
  binary: { name: string; sha256: string };
  packager: "dpkg" | "apk" | "none";
  libc?: "musl" | "glibc";
  /** C: whether the link was traced (`traced`), could not be (`custom-build`), or gave other bytes (`differs`). */
  link?: "traced" | "custom-build" | "differs";
  distro?: { id: string; version?: string };
  /** Files of the image other than the binary, with their sha256, sorted by path. */
  files: { path: string; sha256: string }[];
  packages: PackageFact[];
  /** The files the traced link read (none unless `link` is `traced`). */
  linkInputs: string[];
  /** The compiler's own words about its version: one line for C and Go, `rustc -vV` for Rust. */
  compiler: string[];
  go?: { version: string; modules: GoModule[] };
  /** Absent when the build left no Cargo.lock where the facts stage looks (`/src`). */
  crates?: Crate[];
  /**
   * The crates built into the binary for its target (`cargo tree -e normal,no-proc-macro`), as
   * `name@version`; absent when cargo could not tell, and then every crate of the lock counts.
   */
  builtCrates?: Set<string>;
}

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._+~:/-]{0,127}$/;
const PACKAGE = /^[a-z0-9][a-z0-9.+-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** An absolute path of plain, printable characters: what builders' files are named. */
const FILE_PATH = /^\/[A-Za-z0-9._+~@=,:/-]{1,1023}$/;
const MODULE_PATH = /^[A-Za-z0-9][A-Za-z0-9._~+/-]{0,499}$/;
const REPLACEMENT = /^[A-Za-z0-9./][A-Za-z0-9._~+/-]{0,499}$/;
const GO_SUM = /^h1:[A-Za-z0-9+/]{43}=$/;
/** A module version, or `(devel)`, the main module's when it was built from a folder. */
const MODULE_VERSION = /^(\(devel\)|v?[0-9A-Za-z][0-9A-Za-z.+~-]{0,127})$/;
const CRATE_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const CRATE_VERSION = /^[0-9A-Za-z.+-]{1,64}$/;
const FACT_KEYS = ["format", "toolchain", "platform", "binary", "packager", "libc", "link", "distro"];

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The text of one facts file: bounded, UTF-8, without NUL. */
function text(file: FactsFile, bytes: Buffer): string {
  if (bytes.length > MAX_FACTS_FILE_BYTES) {
    throw new SbomFactsError(file, `holds more than ${MAX_FACTS_FILE_BYTES} bytes`);
  }
  let decoded: string;
  try {
    decoded = utf8.decode(bytes);
  } catch {
    throw new SbomFactsError(file, "is not UTF-8 text");
  }
  if (decoded.includes("\0")) throw new SbomFactsError(file, "holds a NUL byte: it is not text");
  return decoded;
}

/** The lines of one facts file, at most {@link MAX_FACTS_LINES}, the last newline optional. */
function lines(file: FactsFile, bytes: Buffer): string[] {
  // The limit stops the split early: a file of newlines alone makes no array of millions.
  const all = text(file, bytes).split("\n", MAX_FACTS_LINES + 2);
  if (all[all.length - 1] === "") all.pop();
  if (all.length > MAX_FACTS_LINES)
    throw new SbomFactsError(file, `holds more than ${MAX_FACTS_LINES} lines`);
  return all;
}

/** A field that must match `pattern`; the message quotes the value made safe. */
function field(
  file: FactsFile,
  line: number,
  what: string,
  value: string | undefined,
  pattern: RegExp,
): string {
  if (value === undefined || !pattern.test(value)) {
    const shown = value === undefined ? "nothing" : JSON.stringify(outsideText(value, 80));
    throw new SbomFactsError(file, `line ${line}: ${what} is ${shown}, not what the facts script writes`);
  }
  return value;
}

function oneOf<T extends string>(
  file: FactsFile,
  line: number,
  what: string,
  value: string,
  allowed: readonly T[],
): T {
  if (!allowed.includes(value as T)) {
    throw new SbomFactsError(
      file,
      `line ${line}: ${what} is ${JSON.stringify(outsideText(value, 40))}, not one of ${allowed.join(", ")}`,
    );
  }
  return value as T;
}

/** facts.txt: `key value…` lines, each key once. */
function readHeader(bytes: Buffer): Map<string, string[]> {
  const file = "facts.txt";
  const header = new Map<string, string[]>();
  lines(file, bytes).forEach((row, i) => {
    const [key, ...values] = row.split(" ");
    const known = oneOf(file, i + 1, "the key", key ?? "", FACT_KEYS);
    if (header.has(known)) throw new SbomFactsError(file, `line ${i + 1}: ${known} is given twice`);
    values.forEach((value) => field(file, i + 1, known, value, TOKEN));
    header.set(known, values);
  });
  return header;
}

/** files.txt: `<sha256> /<path>` lines. */
function readFiles(bytes: Buffer): { path: string; sha256: string }[] {
  const file = "files.txt";
  return lines(file, bytes).map((row, i) => {
    const [sha256, path, extra] = row.split(" ");
    if (extra !== undefined)
      throw new SbomFactsError(file, `line ${i + 1}: holds more than a hash and a path`);
    return {
      sha256: field(file, i + 1, "the sha256", sha256, SHA256),
      path: field(file, i + 1, "the path", path, FILE_PATH),
    };
  });
}

/** packages.txt: `<role> <package> <version> <architecture> [<file>]` lines. */
function readPackages(bytes: Buffer): PackageFact[] {
  const file = "packages.txt";
  return lines(file, bytes).map((row, i) => {
    const [role, name, version, architecture, path, extra] = row.split(" ");
    if (extra !== undefined) throw new SbomFactsError(file, `line ${i + 1}: holds more than five fields`);
    return {
      role: oneOf(file, i + 1, "the role", role ?? "", ROLES),
      name: field(file, i + 1, "the package", name, PACKAGE),
      version: field(file, i + 1, "the version", version, TOKEN),
      architecture: field(file, i + 1, "the architecture", architecture, TOKEN),
      ...(path !== undefined ? { file: field(file, i + 1, "the file", path, FILE_PATH) } : {}),
    };
  });
}

/** go-buildinfo.txt: `go version -m <binary>`, whose lines after the first are tab-separated. */
function readGoBuildInfo(bytes: Buffer): { version: string; modules: GoModule[] } {
  const file = "go-buildinfo.txt";
  const [first, ...rest] = lines(file, bytes);
  // A toolchain built with experiments appends them (` X:boringcrypto`).
  const version = /^\/\S*: go([0-9][0-9A-Za-z.+-]{0,63})(?: X:[A-Za-z0-9,_-]{1,200})?$/.exec(
    first ?? "",
  )?.[1];
  if (version === undefined) {
    throw new SbomFactsError(file, "line 1 does not name the binary and its Go version (`<path>: go1.x.y`)");
  }
  const modules: GoModule[] = [];
  rest.forEach((row, i) => {
    const line = i + 2;
    const [lead, kind, path, moduleVersion, sum, extra] = row.split("\t");
    if (lead !== "" || extra !== undefined) {
      throw new SbomFactsError(file, `line ${line} is not a tab-indented build information line`);
    }
    if (kind !== "mod" && kind !== "dep" && kind !== "=>") return; // path, build: not modules
    // A replacement may be a local folder (`../lib`), which has no version.
    const checkedPath = field(file, line, "the module path", path, kind === "=>" ? REPLACEMENT : MODULE_PATH);
    const checkedSum = sum ? field(file, line, "the checksum", sum, GO_SUM) : undefined;
    if (kind === "=>") {
      const replaced = modules[modules.length - 1];
      if (replaced === undefined) throw new SbomFactsError(file, `line ${line} replaces no module`);
      replaced.replacement = {
        path: checkedPath,
        ...(moduleVersion
          ? { version: field(file, line, "the version", moduleVersion, MODULE_VERSION) }
          : {}),
        ...(checkedSum ? { sum: checkedSum } : {}),
      };
      return;
    }
    modules.push({
      kind,
      path: checkedPath,
      version: field(file, line, "the version", moduleVersion, MODULE_VERSION),
      ...(checkedSum ? { sum: checkedSum } : {}),
    });
  });
  return { version, modules };
}

/** Cargo.lock: the `[[package]]` tables of the build's resolution. */
function readCargoLock(bytes: Buffer): Crate[] {
  const file = "Cargo.lock";
  const source = lines(file, bytes).join("\n");
  let lock: { package?: unknown };
  try {
    lock = parseToml(source) as { package?: unknown };
  } catch (error) {
    throw new SbomFactsError(file, `is not TOML: ${outsideText((error as Error).message, 120)}`);
  }
  if (!Array.isArray(lock.package)) throw new SbomFactsError(file, "has no [[package]] tables");
  return lock.package.map((entry: unknown, i) => {
    const at = i + 1;
    const table = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const str = (key: string) => (typeof table[key] === "string" ? (table[key] as string) : undefined);
    const where = `[[package]] ${at}`;
    const name = str("name");
    const version = str("version");
    if (
      name === undefined ||
      !CRATE_NAME.test(name) ||
      version === undefined ||
      !CRATE_VERSION.test(version)
    ) {
      throw new SbomFactsError(file, `${where} has no valid name and version`);
    }
    const src = str("source");
    const checksum = str("checksum");
    if (src !== undefined && !/^[a-z]+\+[\x21-\x7e]{1,500}$/.test(src)) {
      throw new SbomFactsError(file, `${where} (${name}) has a source that is not a cargo source URL`);
    }
    // Debian's directory registry writes a placeholder ("Could not get crate checksum"): no hash to give.
    const sha256 = checksum !== undefined && SHA256.test(checksum) ? checksum : undefined;
    return { name, version, ...(src ? { source: src } : {}), ...(sha256 ? { checksum: sha256 } : {}) };
  });
}

/** cargo-tree.txt: `<crate> v<version>` lines. */
function readCargoTree(bytes: Buffer): Set<string> {
  const file = "cargo-tree.txt";
  return new Set(
    lines(file, bytes).map((row, i) => {
      const crate = /^([A-Za-z0-9_-]{1,64}) v([0-9A-Za-z.+-]{1,64})$/.exec(row);
      if (crate === null) throw new SbomFactsError(file, `line ${i + 1} is not a crate and its version`);
      return `${crate[1]}@${crate[2]}`;
    }),
  );
}

/** What the facts' header must hold: one value of a known set. */
function single<T extends string>(header: Map<string, string[]>, key: string, allowed: readonly T[]): T {
  const values = header.get(key);
  if (values === undefined || values.length !== 1) {
    throw new SbomFactsError("facts.txt", `names no single ${key}`);
  }
  if (!allowed.includes(values[0] as T)) {
    throw new SbomFactsError(
      "facts.txt",
      `${key} is ${JSON.stringify(outsideText(values[0], 40))}, not one of ${allowed.join(", ")}`,
    );
  }
  return values[0] as T;
}

/**
 * Reads the facts folder: keys are paths relative to `/sbom/` (`"facts.txt"`), values the files' bytes.
 * @throws SbomFactsError naming the first file that is unknown, missing, too large or malformed.
 */
export function readFacts(folder: ReadonlyMap<string, Buffer>): Facts {
  for (const name of folder.keys()) {
    if (!(FACTS_FILES as readonly string[]).includes(name)) {
      throw new SbomFactsError(name, `is not a facts file (they are ${FACTS_FILES.join(", ")})`);
    }
  }
  const get = (file: FactsFile): Buffer => {
    const bytes = folder.get(file);
    if (bytes === undefined) throw new SbomFactsError(file, "is missing");
    return bytes;
  };
  const header = readHeader(get("facts.txt"));
  if (header.get("format")?.join(" ") !== "1") {
    throw new SbomFactsError("facts.txt", "is not format 1, the one this version of minimal-image reads");
  }
  const toolchain = single(header, "toolchain", ["c", "go", "rust"] as const);
  const name = header.get("binary")?.[0];
  if (name === undefined || header.get("binary")?.length !== 1) {
    throw new SbomFactsError("facts.txt", "names no single binary");
  }
  const files = readFiles(get("files.txt"));
  const binary = files.find((f) => f.path === `/${name}`);
  if (binary === undefined) throw new SbomFactsError("files.txt", `has no hash of the binary /${name}`);
  const platform = single(header, "platform", ["linux/amd64", "linux/arm64"] as const);
  const distro = header.get("distro");
  const linkInputs = folder.has("link.txt")
    ? lines("link.txt", get("link.txt")).map((row, i) => field("link.txt", i + 1, "the file", row, FILE_PATH))
    : [];
  const compiler = lines("compiler.txt", get("compiler.txt")).map((row) => outsideText(row, 200));
  if (compiler.length === 0 || compiler.length > 20) {
    throw new SbomFactsError("compiler.txt", "does not hold the compiler's version (1 to 20 lines)");
  }
  return {
    toolchain,
    platform,
    binary: { name, sha256: binary.sha256 },
    packager: single(header, "packager", ["dpkg", "apk", "none"] as const),
    ...(header.has("libc") ? { libc: single(header, "libc", ["musl", "glibc"] as const) } : {}),
    ...(header.has("link")
      ? { link: single(header, "link", ["traced", "custom-build", "differs"] as const) }
      : {}),
    ...(distro
      ? {
          distro: {
            id: distro[0] ?? "unknown",
            ...(distro[1] && distro[1] !== "-" ? { version: distro[1] } : {}),
          },
        }
      : {}),
    files: files.filter((f) => f !== binary).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    packages: readPackages(get("packages.txt")),
    linkInputs,
    compiler,
    ...(toolchain === "go" ? { go: readGoBuildInfo(get("go-buildinfo.txt")) } : {}),
    ...(toolchain === "rust" && folder.has("Cargo.lock") ? { crates: readCargoLock(get("Cargo.lock")) } : {}),
    ...(toolchain === "rust" && folder.has("cargo-tree.txt")
      ? { builtCrates: readCargoTree(get("cargo-tree.txt")) }
      : {}),
  };
}
