import { ResolvedRecipe, shellQuote } from "../recipe";
import { Extra } from "../recipe/types";
import { RELINK } from "../recipe/toolchain";

/**
 * The target that builds the SBOM's facts: `docker build --target sbom` makes a `FROM scratch` image whose
 * only content is the folder {@link FACTS_DIR}, which `buildSbom` (components/sbom) turns into CycloneDX.
 */
export const SBOM_TARGET = "sbom";
/** Where the facts are written, in the facts stage and in the `sbom` target's image. */
export const FACTS_DIR = "/sbom";
/**
 * The most bytes one facts file may hold. The script cuts each at one byte more, so that an overlong file
 * is refused by name rather than read cut short.
 */
export const MAX_FACTS_FILE_BYTES = 4 * 1024 * 1024;
const FACTS_STAGE = "facts";

/**
 * Extras by the file the package database is asked about, and the package named when no package owns that
 * file (Debian's ca-certificates.crt is generated, not shipped). `passwd` is written by minimal-image itself:
 * files.txt holds its hash.
 */
const EXTRA_OWNERS: Partial<Record<Extra, [file: string, fallback: string]>> = {
  "ca-certificates": ["/etc/ssl/certs/ca-certificates.crt", "ca-certificates"],
  zoneinfo: ["/usr/share/zoneinfo/UTC", "tzdata"],
};

/**
 * The facts script, a POSIX sh program run in the facts stage. Each element is one statement. Arguments:
 * toolchain, root filesystem, binary name, platform, libc (or `-`), the C compiler that linked (or `-`),
 * the link's state (`traced`, `custom-build` or `-`), then `file:package` pairs for the extras.
 * Everything it writes is bounded (`cap`) and sorted, so that the same build gives the same bytes.
 */
const STATEMENTS = [
  "export LC_ALL=C",
  "t=$1; root=$2; name=$3; platform=$4; libc=$5; cc=$6; link=$7; shift 7",
  `o=${FACTS_DIR}`,
  `cap() { head -c ${MAX_FACTS_FILE_BYTES + 1}; }`,
  "if command -v dpkg-query >/dev/null 2>&1; then pm=dpkg; elif command -v apk >/dev/null 2>&1; then pm=apk; else pm=none; fi",
  // named ROLE PACKAGE: `ROLE name version arch` of an installed package, by name.
  "named() { case $pm in" +
    ' dpkg) dpkg-query -W -f \'${Package} ${Version} ${Architecture}\\n\' "$2" 2>/dev/null | sed "s|^|$1 |" ;;' +
    ' apk) apk info -v "$2" 2>/dev/null | head -n 1 | sed -E "s/^(.+)-([^-]+-r[0-9]+)$/$1 \\1 \\2 $(apk --print-arch)/" ;;' +
    " esac; }",
  // owner ROLE FILE...: `ROLE name version arch file` of the package that installed each file.
  'owner() { r=$1; shift; for f; do [ -e "$f" ] || continue; f=$(readlink -f "$f"); case $pm in' +
    " dpkg) p=$(dpkg -S \"$f\" 2>/dev/null | grep -v '^diversion' | head -n 1); p=${p%%: /*}; p=${p%%, *};" +
    ' [ -n "$p" ] && dpkg-query -W -f \'${Package} ${Version} ${Architecture}\\n\' "$p" 2>/dev/null | sed "s|\\$| $f|; s|^|$r |" ;;' +
    ' apk) p=$(apk info -W "$f" 2>/dev/null | sed -n "s/.* is owned by //p" | head -n 1);' +
    ' [ -n "$p" ] && echo "$r $(echo "$p" | sed -E "s/-([^-]+-r[0-9]+)$/ \\1/") $(apk --print-arch) $f" ;;' +
    " esac; done; }",
  'bin="$root/$name"',
  // The C library a static link takes: the traced link's own, else that of a probe linked by the same
  // compiler (its -print-file-name ignores the specs musl-gcc links with).
  "libc_archive() { { grep '/libc\\.a$' $o/link.txt 2>/dev/null ||" +
    " printf 'int main(void) { return 0; }\\n' | \"$cc\" -static -x c -o /tmp/minimal-image-probe - -Wl,--trace 2>/dev/null | grep '/libc\\.a$'; } | head -n 1; }",
  // A link repeated with the trace on describes the binary only if it gives the same bytes.
  `if [ "$link" = traced ]; then if cmp -s ${RELINK} "$bin"; then grep '^/' ${RELINK}.trace | grep -v -e '^/tmp/' -e '^/src/' | sort -u | cap > $o/link.txt; else link=differs; fi; fi`,
  '{ echo \'format 1\'; echo "toolchain $t"; echo "platform $platform"; echo "binary $name"; echo "packager $pm";' +
    ' [ "$libc" = - ] || echo "libc $libc"; [ "$link" = - ] || echo "link $link";' +
    ' [ -r /etc/os-release ] && (. /etc/os-release; echo "distro ${ID:-unknown} ${VERSION_ID:--}"); } | cap > $o/facts.txt',
  // The binary and the extras' single files; zoneinfo's hundreds of files are named by their package.
  '(cd "$root" && find . -path ./usr/share/zoneinfo -prune -o -type f -print | sort | xargs sha256sum) | sed "s|  \\./| /|" | cap > $o/files.txt',
  "case $t in" +
    ' c) "$cc" --version 2>/dev/null | head -n 1 | cap > $o/compiler.txt ;;' +
    ' go) go version | cap > $o/compiler.txt; go version -m "$bin" | cap > $o/go-buildinfo.txt ;;' +
    " rust) rustc -vV | cap > $o/compiler.txt; [ -f /src/Cargo.lock ] && cap < /src/Cargo.lock > $o/Cargo.lock;" +
    // The crates built into the target: the lock also holds other platforms' and proc macros' crates.
    ' if (cd /src && cargo tree --offline --locked --target "$CARGO_BUILD_TARGET" -e normal,no-proc-macro --prefix none --format "{p}" > /tmp/minimal-image-tree) 2>/dev/null;' +
    " then awk '{print $1, $2}' /tmp/minimal-image-tree | sort -u | cap > $o/cargo-tree.txt; fi ;;" +
    " esac",
  '{ [ "$cc" = - ] || owner libc "$(libc_archive)";' +
    " case $t in" +
    ' c) owner compiler "$(command -v "$cc")" "$(command -v "$(head -n 1 $o/compiler.txt | cut -d " " -f 1)")" "$("$cc" -print-prog-name=cc1)" ;;' +
    ' go) owner compiler "$(readlink -f "$(command -v go)")" ;;' +
    ' rust) owner compiler "$(readlink -f "$(command -v rustc)")"; owner std "$(rustc --print sysroot)/lib/rustlib/$CARGO_BUILD_TARGET/lib";' +
    // Debian's packaged crates: each crate of the lock found in the directory registry, by its package.
    ' [ -f $o/Cargo.lock ] && [ -d /usr/share/cargo/registry ] && awk -F\'"\' \'/^name = /{n=$2} /^version = /{print n "-" $2}\' $o/Cargo.lock | while read -r c; do owner crate "/usr/share/cargo/registry/$c"; done ;;' +
    " esac",
  "  [ ! -f $o/link.txt ] || owner linked $(cat $o/link.txt)",
  '  for x; do f=${x%%:*}; found=$(owner extra "$f"); if [ -n "$found" ]; then echo "$found"; else named extra "${x#*:}"; fi; done;' +
    " } | sort -u | cap > $o/packages.txt",
];

/**
 * The Dockerfile lines of the SBOM's two stages, to go between the builder stage and the final image: a
 * facts stage on top of the builder (sharing its compile cache) that records what was compiled in, and the
 * `sbom` target holding those facts alone. A plain build, whose target is the final image, runs neither.
 * @param buildStage the builder stage's name; `envAssignments` the variables its build command exported;
 *   `sharedMounts` the build's cache mounts that every program shares (cargo's registry, for `cargo tree`).
 */
export function sbomStages(
  recipe: ResolvedRecipe,
  buildStage: string,
  rootfs: string,
  envAssignments: string,
  buildArgNames: readonly string[],
  sharedMounts: readonly string[],
): string[] {
  const { plan, target } = recipe;
  // The C compiler that linked the C library in: the recipe's own for C, cargo's linker for Rust.
  const rustLinker = target.cross ? `${target.toolPrefix}gcc` : "cc";
  const linker = plan.toolchain === "c" ? '"$CC"' : plan.toolchain === "rust" ? rustLinker : "-";
  const link = plan.toolchain !== "c" ? "-" : plan.linkTrace !== undefined ? "traced" : "custom-build";
  const extras = recipe.extras
    .map((extra) => EXTRA_OWNERS[extra])
    .filter((owner) => owner !== undefined)
    .map(([file, fallback]) => `${file}:${fallback}`);
  const args = [plan.toolchain, rootfs, recipe.binaryName, target.platform, plan.libc ?? "-"].map(shellQuote);
  const steps = [
    `mkdir -p ${FACTS_DIR}`,
    `export ${envAssignments}`,
    ...(plan.linkTrace !== undefined
      ? [`{ (${plan.linkTrace}) > ${RELINK}.trace || rm -f ${RELINK}; }`]
      : []),
    `sh -c ${shellQuote(STATEMENTS.join("; \\\n    "))} sbom-facts ${args.join(" ")} ${linker} ${link} ${extras.map(shellQuote).join(" ")}`.trimEnd(),
    // Fixed timestamps: the target's layer is as reproducible as the facts in it.
    `find ${FACTS_DIR} -exec touch -h -d @0 {} +`,
  ];
  return [
    `# What was compiled in, for the SBOM: docker build --target ${SBOM_TARGET}. A plain build skips both stages.`,
    `FROM ${buildStage} AS ${FACTS_STAGE}`,
    // A stage does not inherit its parent's ARGs: declared again, the link repeats in the build's environment.
    ...buildArgNames.map((arg) => `ARG ${arg}`),
    `RUN ${sharedMounts.join("")}${steps.join(" \\\n && ")}`,
    "",
    `FROM scratch AS ${SBOM_TARGET}`,
    `COPY --from=${FACTS_STAGE} ${FACTS_DIR}/ ${FACTS_DIR}/`,
    "",
  ];
}
