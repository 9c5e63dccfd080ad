/** The languages minimal-image knows how to build into a static binary. */
export const Toolchain = {
  /** C, linked statically against `libc`. */
  C: "c",
  /** Go, built with `CGO_ENABLED=0`. */
  Go: "go",
  /** Rust, built with cargo into a static binary. */
  Rust: "rust",
} as const;
/** A language minimal-image builds: one of `Toolchain`'s values, e.g. `"c"`. */
export type Toolchain = (typeof Toolchain)[keyof typeof Toolchain];

/** The C library a C program is linked against. musl gives the smallest binaries. */
export const Libc = {
  /** musl: the smallest static binaries. */
  Musl: "musl",
  /** glibc `-static`: for programs that need glibc's behaviour. */
  Glibc: "glibc",
} as const;
/** A C library: one of `Libc`'s values, e.g. `"musl"`. */
export type Libc = (typeof Libc)[keyof typeof Libc];

/** How cargo optimises a Rust program across crates at link time (its release profile's `lto`). */
export const CargoLto = {
  /** Whole-program LTO: the smallest binary; after any change the link optimises every crate again. */
  Fat: "fat",
  /** ThinLTO: a binary a few percent larger, from faster cold builds and rebuilds. */
  Thin: "thin",
  /** No LTO across crates, 16 codegen units: rebuilds in about a second, a binary about 10 % larger. */
  Off: "off",
} as const;
/** A cargo LTO mode: one of `CargoLto`'s values, e.g. `"thin"`. */
export type CargoLto = (typeof CargoLto)[keyof typeof CargoLto];

/** Files the final image may need besides the binary, copied from the builder stage. */
export const Extra = {
  /** `/etc/ssl/certs/ca-certificates.crt`, for programs that call HTTPS services. */
  CaCertificates: "ca-certificates",
  /** `/usr/share/zoneinfo`, for programs that load time zones by name. */
  Zoneinfo: "zoneinfo",
  /** `/etc/passwd` and `/etc/group` naming the runtime user 65532 (`nonroot`), for programs that look their user up. */
  Passwd: "passwd",
} as const;
/** A file set the final image may need besides the binary: one of `Extra`'s values. */
export type Extra = (typeof Extra)[keyof typeof Extra];

/**
 * How to turn a source folder into a static binary. Every field is optional; see each default.
 *
 * Every string, here and in the `MINIMAL_IMAGE_*` variables, must be one line: no line break, carriage
 * return, NUL or other control character (tab is fine), and not blank. Values are passed to the build as
 * single, quoted words, except `setup` and `buildCommand`, which are shell by design.
 */
export interface RecipeOptions {
  /** Language of the program. Default: detected from the folder (`go.mod` → go, `Cargo.toml` → rust, `*.c` → c). */
  toolchain?: Toolchain;
  /** C library for the `c` toolchain. Default `musl`; `glibc` reproduces a glibc `-static` build. */
  libc?: Libc;
  /** `c` only: source files relative to the folder, inside it. Default: every `*.c` file at its top level. */
  sources?: string[];
  /** `c` only: extra compiler flags, appended after the size-minded defaults. */
  cflags?: string[];
  /** `c` only: extra linker flags and libraries (e.g. `-lm`), appended after the sources. */
  ldflags?: string[];
  /** `go` only: the package to build, relative to the module root. Default `.`. */
  goPackage?: string;
  /** `rust` only: the cargo binary target to build. Default: the only `[[bin]]`, else the package name. */
  cargoBin?: string;
  /**
   * `rust` only: link-time optimisation across crates. Default `fat`, the smallest binary, but a rebuild
   * runs LTO over every crate again; `thin` is in between; `off` (no LTO across crates, 16 codegen units)
   * rebuilds after a small change in about a second for a binary about 10 % larger, for fast iteration. The
   * README's rebuild benchmark measures all three. Every mode is static with rustc 1.71 or newer.
   */
  cargoLto?: CargoLto;
  /**
   * Your own build command (`make`, `./configure && make`, a script), run with `sh -c` in the source folder
   * inside the builder. The toolchain's static flags are exported to it as environment variables
   * (`CC`, `CFLAGS`, `LDFLAGS` for c; `CGO_ENABLED=0` for go; `RUSTFLAGS` for rust). Requires `output`.
   * Shell by design, so it may not end in a backslash nor hold `<<`, either of which would reach past its
   * Dockerfile line; put a here-document in a script in the folder instead.
   */
  buildCommand?: string;
  /** With `buildCommand`: the path of the binary it produces, relative to the source folder and inside it. */
  output?: string;
  /** Name of the binary inside the image (`/<binaryName>`). Default: the source folder's name. */
  binaryName?: string;
  /**
   * Image the builder stage runs in. Default: the toolchain's pinned image (see `defaultBuilder`), or the
   * image named by the environment variable `MINIMAL_IMAGE_<TOOLCHAIN>_BUILDER` (e.g. for an air-gapped mirror).
   */
  builderImage?: string;
  /**
   * Shell commands run in the builder before the source is copied in (installing compilers, for instance);
   * shell by design, with the same limits as `buildCommand`.
   * Default: the default builder's own setup, or `MINIMAL_IMAGE_<TOOLCHAIN>_SETUP` when set; none when
   * `builderImage` is given.
   */
  setup?: string[];
  /** Files copied into the final image besides the binary. Default: none. */
  extras?: Extra[];
  /** Arguments appended to the exec-form `ENTRYPOINT`. */
  entrypointArgs?: string[];
  /**
   * Whether the Dockerfile has the stages that record what was compiled in, for a CycloneDX SBOM
   * (`docker build --target sbom`; see the README). They never enter the image, and a plain build does not
   * run them. Default `true`; `false` renders the Dockerfile without them.
   */
  sbom?: boolean;
}

/** What a toolchain contributes to the builder stage, once the options have been validated. */
export interface BuildPlan {
  toolchain: Toolchain;
  libc?: Libc;
  /** Environment exported to the build command (also to a custom `buildCommand`). */
  env: Record<string, string>;
  /** Shell command that builds the program, run in `/src`. */
  command: string;
  /** Path of the produced binary, relative to `/src` unless absolute. */
  output: string;
  /** Caches the build step mounts under BuildKit; the command also works without them (classic builder). */
  caches: CacheMount[];
  /**
   * The built-in C command again, linking into `RELINK` with the linker's trace on: it prints each file the
   * link read, one a line, on stdout. Absent for a custom build command, whose link cannot be repeated.
   */
  linkTrace?: string;
  /** What the static check's failure message advises, when the toolchain knows the likely cause. */
  staticHint?: string;
  /** Commands a cross build needs in the builder (the target's compiler, linker); none for a native build. */
  crossTools: string[];
}

/**
 * A toolchain cache kept by the engine between builds (`RUN --mount=type=cache`). Its id is derived from
 * `name`, the builder and, for per-program state, the program's recipe, so no two toolchains, builders or
 * (for `program` caches) programs ever share one.
 */
export interface CacheMount {
  /** What it holds, part of its id, e.g. `go-build`. */
  name: string;
  /** Absolute path it is mounted at in the builder stage. */
  target: string;
  /**
   * `builder`: a cache the tool keys by content and locks itself (Go's build cache, cargo's registry), so
   * every program built in the same builder may share it. `program`: state only one program may use.
   */
  keyedBy: "builder" | "program";
  /** `locked` when the tool is not safe against another build using the same cache at the same time. */
  sharing: "shared" | "locked";
}

/** A builder image with the commands that prepare it. */
export interface Builder {
  image: string;
  setup: string[];
}
