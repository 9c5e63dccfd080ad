import { shellQuote, Target } from "../recipe";

/**
 * A POSIX sh program, run in the builder stage, that fails the build when a binary is not static: it has an
 * ELF interpreter (PT_INTERP) or needs shared libraries (DT_NEEDED); or when it is built for another machine
 * than the platform's (`e_machine`, e.g. an x86-64 binary where arm64 was asked for). It reads the ELF headers with `od`,
 * which every builder image has (coreutils or busybox), so it needs no binutils and no file in the context.
 *
 * Each element is one statement; the renderer joins them with `;` into a single RUN line, because the
 * classic builder has no heredocs. `$1` is the binary's path; `$2`, `$3` and `$4` the `e_machine` number and
 * name its platform's binaries carry and that platform, e.g. `183 AArch64 linux/arm64`.
 */
const STATEMENTS = [
  'f="$1"',
  'fail() { echo "minimal-image: $f is not a static binary: $*" >&2; exit 1; }',
  // u OFFSET SIZE: the unsigned integer of SIZE bytes at OFFSET, in the builder's byte order: little-endian,
  // as every target's is (x86-64, AArch64).
  'u() { od -An -v -j "$1" -N "$2" -t "u$2" "$f" | tr -d " \\n"; }',
  '[ -f "$f" ] || { echo "minimal-image: the build produced no file at $f; check the build command and output path" >&2; exit 1; }',
  '[ "$(od -An -c -N4 "$f" | tr -d " \\n")" = "177ELF" ] || fail "it is not an ELF executable"',
  'm=$(u 18 2); [ "$m" = "$2" ] || { case "$m" in 62) m=x86-64 ;; 183) m=AArch64 ;; *) m="e_machine $m" ;; esac;' +
    ' echo "minimal-image: $f is built for $m, not $3 ($4): compile it with the toolchain the build exports (CC, GOARCH, CARGO_BUILD_TARGET)" >&2; exit 1; }',
  'if [ "$(u 4 1)" = 2 ]; then w=8; po=$(u 32 8); pe=$(u 54 2); pn=$(u 56 2); else w=4; po=$(u 28 4); pe=$(u 42 2); pn=$(u 44 2); fi',
  "i=0; interp=; dyn=; loads=",
  'while [ "$i" -lt "$pn" ]; do' +
    ' h=$((po + i * pe)); t=$(u "$h" 4);' +
    ' if [ "$w" = 8 ]; then o=$(u $((h + 8)) 8); v=$(u $((h + 16)) 8); s=$(u $((h + 32)) 8);' +
    " else o=$(u $((h + 4)) 4); v=$(u $((h + 8)) 4); s=$(u $((h + 16)) 4); fi;" +
    ' case "$t" in 1) loads="$loads $v:$o:$s" ;; 2) dyn="$o:$s" ;; 3) interp=$(tail -c +$((o + 1)) "$f" | head -c $((s - 1))) ;; esac;' +
    " i=$((i + 1));" +
    " done",
  // DT_NEEDED (1) entries are offsets into the string table that DT_STRTAB (5) points at by address.
  "needed=; offs=; strtab=",
  'if [ -n "$dyn" ]; then' +
    " e=${dyn%%:*}; end=$((e + ${dyn#*:}));" +
    ' while [ "$e" -lt "$end" ]; do tg=$(u "$e" "$w"); vl=$(u $((e + w)) "$w");' +
    ' [ "$tg" = 0 ] && break; [ "$tg" = 1 ] && offs="$offs $vl"; [ "$tg" = 5 ] && strtab=$vl; e=$((e + 2 * w)); done;' +
    " fi",
  "so=; for l in $loads; do lv=${l%%:*}; r=${l#*:}; lo=${r%%:*}; ls=${r#*:};" +
    ' if [ -n "$strtab" ] && [ "$strtab" -ge "$lv" ] && [ "$strtab" -lt $((lv + ls)) ]; then so=$((strtab - lv + lo)); fi; done',
  'for n in $offs; do needed="$needed $(tail -c +$((so + n + 1)) "$f" | head -c 256 | tr "\\0" "\\n" | head -n 1)"; done',
  '[ -z "$interp" ] && [ -z "$needed" ] && exit 0',
  'msg=; [ -n "$interp" ] && msg="it has an ELF interpreter ($interp)"',
  '[ -n "$needed" ] && msg="${msg:+$msg and }it needs shared libraries:$needed"',
];

/** What the failure message advises when the toolchain names nothing more likely. */
export const STATIC_HINT =
  "Link it statically: drop -shared/dynamic flags, build Go with CGO_ENABLED=0, Rust with +crt-static";

/**
 * The check as a shell command, for the binary at `binaryPath` built for `target`.
 * @param separator between statements: `"; "` for one line, or with a Dockerfile line continuation.
 * @param hint the likely cause and fix, appended to the failure message of a binary that is not static.
 */
export function staticCheckCommand(
  binaryPath: string,
  target: Pick<Target, "machine" | "platform">,
  separator = "; ",
  hint = STATIC_HINT,
): string {
  // Inside a double-quoted sh word: these four are the characters that would still mean something there.
  const quoted = hint.replace(/[\\"$`]/g, "\\$&");
  const statements = [...STATEMENTS, `fail "$msg. ${quoted}"`];
  const { machine, platform } = target;
  const args = [binaryPath, String(machine.number), machine.name, platform].map(shellQuote).join(" ");
  return `sh -c ${shellQuote(statements.join(separator))} static-check ${args}`;
}
