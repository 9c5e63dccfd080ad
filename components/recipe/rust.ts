import * as fs from "node:fs";
import * as path from "node:path";
import { parse as parseToml } from "smol-toml";
import { readSourceFile } from "./source-file";
import { BUILD_DIR, CACHE_DIR, FieldNamer, shellQuote, ToolchainRecipe } from "./toolchain";
import { describe, formatPath, InputError } from "../validation";

const REGISTRY_CACHE = `${CACHE_DIR}/cargo-registry`;

/** A cargo binary target name, from the options or from Cargo.toml. */
export const CARGO_BIN = /^[A-Za-z0-9_-]+$/;

interface CargoManifest {
  package?: { name?: unknown };
  bin?: { name?: unknown }[];
}

/** The binary target cargo should build: the only `[[bin]]`, else the package's own name. */
function cargoBinary(sourceDir: string, name: FieldNamer): string {
  const manifestPath = path.join(sourceDir, "Cargo.toml");
  // Checked and read first, so a FIFO, a device or a symlink out of the folder fails naming the file.
  const text = readSourceFile(sourceDir, "Cargo.toml", name("cargoBin"));
  let manifest: CargoManifest;
  try {
    if (text === undefined) throw new Error("there is no such file");
    manifest = parseToml(text) as CargoManifest;
  } catch (error) {
    throw new InputError(
      name("cargoBin"),
      `cannot read ${manifestPath}: ${(error as Error).message}`,
      `Fix Cargo.toml, or name the binary target with ${formatPath(name("cargoBin"))}`,
    );
  }
  const bins = (manifest.bin ?? []).map((bin) => bin.name).filter((n): n is string => typeof n === "string");
  const found = bins.length === 1 ? bins[0] : bins.length === 0 ? manifest.package?.name : undefined;
  if (typeof found === "string") {
    // The folder is input too: a name from Cargo.toml reaches the build command like the option does.
    if (!CARGO_BIN.test(found)) {
      throw new InputError(
        name("cargoBin"),
        `Cargo.toml names the binary ${describe(found)}, which is not a cargo target name`,
        `Fix the name in Cargo.toml, or name the binary target with ${formatPath(name("cargoBin"))}`,
      );
    }
    return found;
  }
  throw new InputError(
    name("cargoBin"),
    bins.length > 1
      ? `Cargo.toml declares several binaries (${bins.join(", ")})`
      : "Cargo.toml names no package",
    `Name the binary target to build with ${formatPath(name("cargoBin"))}`,
  );
}

const BUILDER = {
  image: "rust:1.83-alpine@sha256:838d384a1138fe1f2e448e3901bb3d23683570ba3dca581160880ffad760332b",
  setup: ["apk add --no-cache musl-dev ca-certificates tzdata"],
};

export const rustRecipe: ToolchainRecipe = {
  toolchain: "rust",
  builderKey: () => "RUST",
  defaultBuilders: {
    RUST: BUILDER,
  },
  // The default builder is Alpine's, a musl host: its target is aarch64-unknown-linux-musl (the only cross
  // target, see target.ts), whose standard library rustup fetches with the musl start files and libc.a, so
  // rustc's own rust-lld links it with no C cross toolchain (pure Rust crates; a -sys crate that compiles
  // C needs a builder with an aarch64 C compiler, such as the offline one).
  crossBuilders: {
    RUST: { ...BUILDER, setup: [...BUILDER.setup, "rustup target add aarch64-unknown-linux-musl"] },
  },
  // crt-static links the C runtime in (musl on Alpine, glibc's static archive on Debian); the profile
  // settings trade build time for size: optimise for size, LTO across crates (whole-program unless the
  // recipe asks for thin, or for none: then cargo's default 16 codegen units compile the program's own crate
  // in parallel and a rebuild re-optimises only that crate), abort on panic, strip.
  env: (options, target) => ({
    RUSTFLAGS: shellQuote("-C target-feature=+crt-static"),
    CARGO_PROFILE_RELEASE_OPT_LEVEL: "z",
    CARGO_PROFILE_RELEASE_LTO: options.cargoLto ?? "fat",
    CARGO_PROFILE_RELEASE_CODEGEN_UNITS: options.cargoLto === "off" ? "16" : "1",
    CARGO_PROFILE_RELEASE_PANIC: "abort",
    CARGO_PROFILE_RELEASE_STRIP: "symbols",
    // An explicit target keeps crt-static away from build scripts and proc macros, which must stay dynamic.
    // The host's triplet with the target's CPU: the builder's own C library (gnu on Debian, musl on Alpine).
    CARGO_BUILD_TARGET: `"$(rustc -vV | sed -n 's/^host: ${target.cross ? "[^-]*/" + target.cpu : "/"}/p')"`,
    // The linker of each libc's target; cargo reads the one of CARGO_BUILD_TARGET. A glibc host (Debian)
    // links with the GNU cross gcc; a musl host (Alpine) with rust-lld, which rustc finds in its sysroot.
    ...(target.cross
      ? {
          [`CARGO_TARGET_${target.cpu.toUpperCase()}_UNKNOWN_LINUX_GNU_LINKER`]: `${target.toolPrefix}gcc`,
          [`CARGO_TARGET_${target.cpu.toUpperCase()}_UNKNOWN_LINUX_MUSL_LINKER`]: "rust-lld",
        }
      : {}),
  }),
  // Only a glibc host needs a cross tool of its own (rust-lld comes with rustc): named by the host, as above.
  crossTools: (_options, target) => [`$(rustc -vV | sed -n 's/^host: .*-gnu$/${target.toolPrefix}gcc/p')`],
  // Before 1.71 rustc let the libc crate link glibc's shared libraries under crt-static when its link kind
  // was unspecified; LTO across crates happened to drop them again, so only `off` showed it. Since 1.71 rustc
  // prefers static libraries for a static output.
  staticHint:
    "Rust: rustc older than 1.71 (Debian bookworm ships rustc 1.63) lets the libc crate link glibc shared" +
    " libraries: build with rustc 1.71 or newer (Debian bookworm: rustc-web and cargo-web), or with cargoLto" +
    " fat or thin. Otherwise a -sys crate links its C library dynamically: turn on the static or vendored" +
    " feature of that crate, or drop it",
  envCaches: [],
  plan(sourceDir, options, name, binaryName) {
    const bin = options.cargoBin ?? cargoBinary(sourceDir, name);
    const locked = fs.existsSync(path.join(sourceDir, "Cargo.lock")) ? " --locked" : "";
    const output = `${BUILD_DIR}/${binaryName}`;
    const command = [
      // The registry cache is linked in rather than mounted over CARGO_HOME, which the builder locates
      // and which may hold its configuration (the offline builders' source replacement, for one).
      `home="\${CARGO_HOME:-$HOME/.cargo}"`,
      `mkdir -p "$home" ${REGISTRY_CACHE}`,
      `{ [ -e "$home/registry" ] || ln -s ${REGISTRY_CACHE} "$home/registry"; }`,
      // cargo thinks a crate of the program fresh when its files are older than the last build in the
      // cached target directory; fresh timestamps make it recompile the program and reuse only dependencies.
      "find . -path ./target -prune -o -type f -exec touch {} +",
      `cargo build --release${locked} --bin ${shellQuote(bin)}`,
      // Copied in the same step: the target directory is a cache mount, absent from the layer.
      `cp "target/$CARGO_BUILD_TARGET/release/"${shellQuote(bin)} ${output}`,
    ].join(" && ");
    return {
      command,
      output,
      caches: [
        // cargo locks its package cache while it downloads, so concurrent builds may share the registry.
        { name: "registry", target: REGISTRY_CACHE, keyedBy: "builder", sharing: "shared" },
        { name: "target", target: "/src/target", keyedBy: "program", sharing: "locked" },
      ],
    };
  },
};
