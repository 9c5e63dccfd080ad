import * as fs from "node:fs";
import { checkRecipeString } from "./check";
import { BUILD_DIR, RELINK, shellQuote, ToolchainRecipe } from "./toolchain";
import { FieldPath, formatPath, InputError } from "../validation";

/**
 * Size-minded defaults: optimise for size, one section per function and object so the linker can drop
 * what is unused, no unwind tables or compiler ident (C needs neither at run time), no build-id, and code
 * and read-only data in one segment instead of page-aligned separate ones (the biggest saving for a tiny
 * program). RELRO and the compiler's stack protector stay on: they cost little and harden the binary.
 */
const CFLAGS = "-Os -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables -fno-ident";
const LDFLAGS = "-static -no-pie -Wl,--gc-sections -Wl,--build-id=none -Wl,-z,noseparate-code -s";

/** The `*.c` files at the top of the folder; their names are input too, checked like `sources`. */
function topLevelCSources(sourceDir: string, field: FieldPath): string[] {
  return fs
    .readdirSync(sourceDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".c"))
    .map((entry) => checkRecipeString(entry.name, field))
    .sort();
}

/** A source path as one compiler argument; `./` keeps a name such as `-x.c` from being read as an option. */
function sourceArgument(file: string): string {
  return shellQuote(file.startsWith("-") ? `./${file}` : file);
}

/** Debian with the arm64 cross toolchains of both C libraries; it runs on the build machine's platform. */
const DEBIAN_CROSS = {
  image: "debian:bookworm-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241",
  setup: [
    "dpkg --add-architecture arm64 && apt-get update && apt-get install -y --no-install-recommends gcc-aarch64-linux-gnu libc6-dev-arm64-cross musl-dev:arm64 make ca-certificates tzdata && rm -rf /var/lib/apt/lists/*",
  ],
};

export const cRecipe: ToolchainRecipe = {
  toolchain: "c",
  builderKey: (options) => (options.libc === "glibc" ? "C_GLIBC" : "C"),
  defaultBuilders: {
    C: {
      image: "alpine:3.21.0@sha256:21dc6063fd678b478f57c0e13f47560d0ea4eeba26dfc947b2a4f81f686b9f45",
      setup: ["apk add --no-cache gcc musl-dev make binutils ca-certificates tzdata"],
    },
    C_GLIBC: {
      image: "debian:bookworm-slim@sha256:abd67ffcfa541b485a3dff59865ab629aa048a6c613e639d36e7456b0b229241",
      setup: [
        "apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev make binutils ca-certificates tzdata && rm -rf /var/lib/apt/lists/*",
      ],
    },
  },
  // Alpine has no musl cross compiler; Debian has both libcs' for arm64 (musl-dev:arm64 brings
  // aarch64-linux-musl-gcc, a wrapper of gcc-aarch64-linux-gnu with musl's specs), as the offline builder.
  crossBuilders: {
    C: DEBIAN_CROSS,
    C_GLIBC: DEBIAN_CROSS,
  },
  env(options, target) {
    const p = target.toolPrefix;
    let cc: string;
    if (options.libc === "glibc") cc = `${p}gcc`;
    else if (target.cross) cc = `${target.cpu}-linux-musl-gcc`;
    // On glibc systems musl's compiler is `musl-gcc`; on musl systems (Alpine) plain `cc` is musl.
    else cc = '"$(command -v musl-gcc || command -v cc)"';
    return {
      CC: cc,
      CFLAGS: shellQuote(CFLAGS),
      LDFLAGS: shellQuote(LDFLAGS),
      AR: `${p}ar`,
      STRIP: `${p}strip`,
    };
  },
  crossTools: (options, target) => [
    options.libc === "glibc" ? `${target.toolPrefix}gcc` : `${target.cpu}-linux-musl-gcc`,
    `${target.toolPrefix}objcopy`,
  ],
  // Neither default builder has ccache, and the built-in command compiles and links in one call, which
  // ccache does not cache; a C build of this size has nothing worth caching (see bench/results.md).
  envCaches: [],
  plan(sourceDir, options, name, binaryName, target) {
    const sources = options.sources ?? topLevelCSources(sourceDir, name("sources"));
    if (sources.length === 0) {
      throw new InputError(
        name("sources"),
        `no .c files at the top of ${sourceDir}`,
        `List the files in ${formatPath(name("sources"))}, or give ${formatPath(name("buildCommand"))} and ${formatPath(name("output"))} for a project with its own build system`,
      );
    }
    const cflags = ["$CFLAGS", ...(options.cflags ?? []).map(shellQuote)].join(" ");
    const ldflags = ["$LDFLAGS", ...(options.ldflags ?? []).map(shellQuote)].join(" ");
    const output = `${BUILD_DIR}/${binaryName}`;
    // objcopy drops the `.comment` section that the C library's start files still carry.
    const link = (into: string, trace: string) =>
      `"$CC" ${cflags} -o ${into} ${sources.map(sourceArgument).join(" ")} ${ldflags}${trace}` +
      ` && ${target.toolPrefix}objcopy --remove-section=.comment ${into}`;
    return { command: link(output, ""), output, caches: [], linkTrace: link(RELINK, " -Wl,--trace") };
  },
};
