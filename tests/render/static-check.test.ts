import * as assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { resolveTarget, Target } from "../../components/recipe/target";
import { staticCheckCommand } from "../../components/render";

/** The platform of binaries `cc` compiles here, and the other one minimal-image compiles for. */
const [HERE, OTHER] = (
  process.arch === "arm64" ? ["linux/arm64", "linux/amd64"] : ["linux/amd64", "linux/arm64"]
).map((platform) => resolveTarget(platform, ["platform"]));

/** Runs the builder-stage check with the machine's own sh and od, as a builder image would. */
function check(
  binary: string,
  hint?: string,
  target: Target = HERE,
): { status: number | null; stderr: string } {
  const command = staticCheckCommand(binary, target, "; ", hint);
  const result = spawnSync("sh", ["-c", command], { encoding: "utf8", timeout: 30_000 });
  return { status: result.status, stderr: result.stderr };
}

describe("the builder stage's static check", () => {
  let dir: string;
  const compile = (name: string, ...flags: string[]) => {
    const out = path.join(dir, name);
    execFileSync("cc", ["-Os", "-o", out, path.join(dir, "main.c"), ...flags], { timeout: 60_000 });
    return out;
  };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-elf-"));
    fs.writeFileSync(path.join(dir, "main.c"), "#include <unistd.h>\nint main(void) { return pause(); }\n");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("passes a static binary", () => assert.equal(check(compile("static", "-static")).status, 0));

  it("fails a static binary of another machine than the platform's, naming both", () => {
    const { status, stderr } = check(compile("static-elsewhere", "-static"), undefined, OTHER);
    assert.equal(status, 1);
    assert.match(
      stderr,
      new RegExp(
        `static-elsewhere is built for ${HERE.machine.name}, not ${OTHER.machine.name} \\(${OTHER.platform}\\): compile it with the toolchain the build exports`,
      ),
    );
  });

  it("passes a static-pie binary (it has a dynamic section but needs nothing)", () => {
    assert.equal(check(compile("static-pie", "-static-pie")).status, 0);
  });

  it("fails a dynamic binary, naming its interpreter and libraries", () => {
    const { status, stderr } = check(compile("dynamic"));
    assert.equal(status, 1);
    assert.match(
      stderr,
      /is not a static binary: it has an ELF interpreter \(\/lib64\/ld-linux-x86-64\.so\.2\)/,
    );
    assert.match(stderr, /needs shared libraries: libc\.so\.6/);
  });

  it("ends the failure with the generic advice, or with the toolchain's own, word for word", () => {
    const dynamic = compile("dynamic-advice");
    assert.match(check(dynamic).stderr, /libc\.so\.6\. Link it statically: .*Rust with \+crt-static\n$/);
    const hint = `Rust: use rustc 1.71 or newer; "quoted" $HOME \`false\` back\\slash, it's literal`;
    const { status, stderr } = check(dynamic, hint);
    assert.equal(status, 1);
    assert.ok(stderr.endsWith(`libc.so.6. ${hint}\n`), stderr);
    assert.equal(check(compile("static-advice", "-static"), hint).status, 0, "a static binary passes");
  });

  it("takes a path with blanks and shell metacharacters as one word", () => {
    const odd = path.join(dir, "out dir;$(false)");
    fs.mkdirSync(odd);
    const binary = path.join(odd, "app 'x'");
    fs.copyFileSync(compile("static-for-odd-path", "-static"), binary);
    fs.chmodSync(binary, 0o755);
    assert.deepEqual(check(binary), { status: 0, stderr: "" });
  });

  it("fails a file that is not ELF", () => {
    const text = path.join(dir, "script.sh");
    fs.writeFileSync(text, "#!/bin/sh\necho hi\n");
    assert.match(check(text).stderr, /is not an ELF executable/);
  });

  it("fails a missing output with a hint", () => {
    assert.match(
      check(path.join(dir, "nothing-here")).stderr,
      /the build produced no file at .*check the build command and output path/,
    );
  });
});
