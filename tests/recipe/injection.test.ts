import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { parse as parseShell } from "shell-quote";
import { renderBuild } from "../../components/render";
import { InputError } from "../../components/validation";

/**
 * No recipe value can add a Dockerfile instruction or run a shell command of its own: every field is fed
 * hostile strings; each is either refused with an InputError naming the field, or renders a Dockerfile with
 * the same instructions as a benign value, where the real /bin/sh sees the value as the one argument it is.
 */

const EXAMPLES = path.join(__dirname, "..", "..", "examples");
const PAUSLE = path.join(EXAMPLES, "pausle");
/** A benign value: a plain word that appears nowhere else in a rendered Dockerfile. */
const MARKER = "zq7marker";

/** Pieces of known attacks, mixed with arbitrary characters. `canary` is a command only an injection runs. */
const ATTACK_PIECES = [
  "\n",
  "\r",
  "\0",
  "\t",
  " ",
  "\\",
  "\\\n",
  "'",
  '"',
  "$",
  "`",
  ";",
  "&&",
  "|",
  "<<",
  "<<EOF",
  "<",
  ">",
  "#",
  "*",
  "?",
  "~",
  "..",
  "/",
  "-",
  "=",
  "(",
  ")",
  "{",
  "}",
  "!",
  "$(canary)",
  "`canary`",
  ";canary",
  "\nRUN canary",
  "FROM scratch",
  "\u2028",
  "\u001b[31m",
  "\ud800",
  "é",
];
const hostile = fc.oneof(
  fc.string({
    unit: fc.oneof(
      fc.constantFrom(...ATTACK_PIECES),
      fc.string({ unit: "binary-ascii", minLength: 1, maxLength: 1 }),
    ),
    maxLength: 6,
  }),
  fc.string({ unit: "binary", maxLength: 8 }),
);

/** How an accepted value reaches the build, and so how to check that it stayed in its place. */
type Reach =
  /** One argument of a command: the real sh must pass it, as `expected(value)`, where the marker was. */
  | { kind: "argument"; expected?: (value: string) => string }
  /** Shell by design (`setup`, `buildCommand`): it may run commands, but only inside its RUN line. */
  | { kind: "snippet" }
  /** An element of the exec-form ENTRYPOINT (JSON; no shell). */
  | { kind: "entrypoint" }
  /** The builder stage's image in `FROM <image> AS build`. */
  | { kind: "image" }
  /** A closed set of values. */
  | { kind: "choice" };

interface FieldCase {
  /** The option (or environment variable) under test, and the field name its errors must carry. */
  option: string;
  field: string;
  folder: string;
  options: (value: string) => Record<string, unknown>;
  env?: (value: string) => Record<string, string>;
  reach: Reach;
  /** A value that renders a plain build. Default: the marker (`echo <marker>` for a snippet). */
  benign?: string;
  /** Valid-looking values, so that the accepting path is exercised as well as the refusing one. */
  plausible?: fc.Arbitrary<string>;
}

const asPath = (value: string) => path.posix.normalize(value);
const word = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/);

const CASES: FieldCase[] = [
  {
    option: "toolchain",
    field: "recipe.toolchain",
    folder: PAUSLE,
    options: (v) => ({ toolchain: v }),
    reach: { kind: "choice" },
    benign: "c",
    plausible: fc.constantFrom("c", "go"),
  },
  {
    option: "libc",
    field: "recipe.libc",
    folder: PAUSLE,
    options: (v) => ({ libc: v }),
    reach: { kind: "choice" },
    benign: "musl",
    plausible: fc.constantFrom("musl", "glibc"),
  },
  {
    option: "sources",
    field: "recipe.sources[1]",
    folder: PAUSLE,
    options: (v) => ({ sources: ["pausle.c", v] }),
    reach: {
      kind: "argument",
      expected: (v) => (asPath(v).startsWith("-") ? `./${asPath(v)}` : asPath(v)),
    },
    plausible: fc.stringMatching(/^-?[a-z][a-z ;$'"*./-]{0,8}\.c$/),
  },
  {
    option: "cflags",
    field: "recipe.cflags[1]",
    folder: PAUSLE,
    options: (v) => ({ cflags: ["-O2", v] }),
    reach: { kind: "argument" },
  },
  {
    option: "ldflags",
    field: "recipe.ldflags[1]",
    folder: PAUSLE,
    options: (v) => ({ ldflags: ["-lm", v] }),
    reach: { kind: "argument" },
  },
  {
    option: "goPackage",
    field: "recipe.goPackage",
    folder: path.join(EXAMPLES, "hello-go"),
    options: (v) => ({ goPackage: v }),
    reach: { kind: "argument" },
    benign: `./${MARKER}`,
    plausible: word.map((w) => `./${w}`),
  },
  {
    option: "cargoBin",
    field: "recipe.cargoBin",
    folder: path.join(EXAMPLES, "hello-rust"),
    options: (v) => ({ cargoBin: v }),
    reach: { kind: "argument" },
    plausible: word,
  },
  {
    option: "cargoLto",
    field: "recipe.cargoLto",
    folder: path.join(EXAMPLES, "hello-rust"),
    options: (v) => ({ cargoLto: v }),
    reach: { kind: "choice" },
    benign: "fat",
    plausible: fc.constantFrom("fat", "thin", "off"),
  },
  {
    option: "buildCommand",
    field: "recipe.buildCommand",
    folder: PAUSLE,
    options: (v) => ({ buildCommand: v, output: "app" }),
    reach: { kind: "snippet" },
  },
  {
    option: "output",
    field: "recipe.output",
    folder: PAUSLE,
    options: (v) => ({ buildCommand: "make", output: v }),
    reach: { kind: "argument", expected: asPath },
  },
  {
    option: "binaryName",
    field: "recipe.binaryName",
    folder: PAUSLE,
    options: (v) => ({ binaryName: v }),
    reach: { kind: "argument" },
    plausible: word,
  },
  {
    option: "builderImage",
    field: "recipe.builderImage",
    folder: PAUSLE,
    options: (v) => ({ builderImage: v }),
    reach: { kind: "image" },
    benign: "mirror.internal/cc",
    plausible: word.map((w) => `127.0.0.1:5000/${w.toLowerCase()}:1`),
  },
  {
    option: "setup",
    field: "recipe.setup[1]",
    folder: PAUSLE,
    options: (v) => ({ setup: ["true", v] }),
    reach: { kind: "snippet" },
  },
  {
    option: "extras",
    field: "recipe.extras[0]",
    folder: PAUSLE,
    options: (v) => ({ extras: [v] }),
    reach: { kind: "choice" },
    benign: "passwd",
    plausible: fc.constantFrom("ca-certificates", "zoneinfo", "passwd"),
  },
  {
    option: "sbom",
    field: "recipe.sbom",
    folder: PAUSLE,
    // A boolean: "true" stands for it, and any string must be refused. `false` drops stages by design
    // (tests/render/sbom-stages.test.ts), so it is not compared with the benign file here.
    options: (v) => ({ sbom: v === "true" ? true : v }),
    reach: { kind: "choice" },
    benign: "true",
    plausible: fc.constantFrom("true"),
  },
  {
    option: "entrypointArgs",
    field: "recipe.entrypointArgs[1]",
    folder: PAUSLE,
    options: (v) => ({ entrypointArgs: ["--flag", v] }),
    reach: { kind: "entrypoint" },
  },
  {
    option: "MINIMAL_IMAGE_C_BUILDER",
    field: "MINIMAL_IMAGE_C_BUILDER",
    folder: PAUSLE,
    options: () => ({}),
    env: (v) => ({ MINIMAL_IMAGE_C_BUILDER: v }),
    reach: { kind: "image" },
    benign: "mirror.internal/cc",
    plausible: word.map((w) => `mirror.internal/${w.toLowerCase()}`),
  },
  {
    option: "MINIMAL_IMAGE_C_SETUP",
    field: "MINIMAL_IMAGE_C_SETUP",
    folder: PAUSLE,
    options: () => ({}),
    env: (v) => ({ MINIMAL_IMAGE_C_BUILDER: "mirror.internal/cc", MINIMAL_IMAGE_C_SETUP: v }),
    reach: { kind: "snippet" },
  },
];

/** Docker's line continuation (an escape character, then blanks, at the end of a line). */
const CONTINUATION = /\\[ \t]*$/;

/**
 * Whether a shell-form body holds a `<<` operator. A body the parser cannot read (a shell snippet such as
 * `${`, which `buildCommand` may hold) counts as one if `<<` appears anywhere in it: never a miss.
 */
function startsHeredoc(body: string): boolean {
  try {
    return parseShell(body).some((token) => typeof token === "object" && "op" in token && token.op === "<<");
  } catch {
    return body.includes("<<");
  }
}

/**
 * The instructions of a Dockerfile as Docker's parser reads them: comment and blank lines dropped,
 * continued lines joined (without the newline, as Docker does). Shell-form RUN/COPY/ADD lines that start a
 * here-document are marked, because BuildKit would read the lines after them as its body.
 */
function instructions(dockerfile: string): { keyword: string; text: string }[] {
  const result: { keyword: string; text: string }[] = [];
  let pending = "";
  for (const line of dockerfile.split("\n")) {
    if (/^\s*#/.test(line) || (pending === "" && line.trim() === "")) continue;
    if (CONTINUATION.test(line)) {
      pending += line.replace(CONTINUATION, "");
      continue;
    }
    const text = pending + line;
    pending = "";
    const [keyword, ...rest] = text.trim().split(/\s+/);
    const body = rest.join(" ");
    const heredoc =
      ["RUN", "COPY", "ADD"].includes(keyword.toUpperCase()) && !body.startsWith("[") && startsHeredoc(body);
    result.push({ keyword: heredoc ? `${keyword} with a here-document` : keyword.toUpperCase(), text });
  }
  if (pending !== "") result.push({ keyword: "(continued past the end)", text: pending });
  return result;
}

/** Every command the RUN lines would start, each as its argv, with every program replaced by a logging stub. */
class StubShell {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-stubs-"));
  private readonly bin = path.join(this.dir, "bin");
  private readonly log = path.join(this.dir, "log");
  private static readonly PROGRAMS = [
    "mkdir",
    "cc",
    "objcopy",
    "sh",
    "cp",
    "chmod",
    "find",
    "go",
    "cargo",
    "rustc",
    "sed",
    "apk",
    "make",
    "canary",
  ];

  constructor() {
    fs.mkdirSync(this.bin);
    for (const program of StubShell.PROGRAMS) {
      const stub = path.join(this.bin, program);
      // argc, the program's name, then each argument, NUL-terminated: no argument can forge a record.
      fs.writeFileSync(stub, `#!/bin/sh\nprintf '%s\\0' "$#" "\${0##*/}" "$@" >> "$STUB_LOG"\n`);
      fs.chmodSync(stub, 0o755);
    }
  }

  /**
   * Runs each RUN line as Docker does (`/bin/sh -c <line>`) and returns the argv of every command started,
   * sorted (the commands of a pipeline start in any order).
   */
  run(runLines: string[]): { status: (number | null)[]; commands: string[][] } {
    fs.rmSync(this.log, { force: true });
    const status = runLines.map(
      (line) =>
        spawnSync("/bin/sh", ["-c", line], {
          cwd: this.dir,
          env: { PATH: path.join(this.dir, "bin"), STUB_LOG: this.log },
          timeout: 10_000,
        }).status,
    );
    const fields = fs.existsSync(this.log) ? fs.readFileSync(this.log, "utf8").split("\0").slice(0, -1) : [];
    const commands: string[][] = [];
    for (let i = 0; i < fields.length;) {
      const argc = Number(fields[i]);
      commands.push(fields.slice(i + 1, i + 2 + argc));
      i += 2 + argc;
    }
    return { status, commands: sortCommands(commands) };
  }

  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function sortCommands(commands: string[][]): string[][] {
  return commands.sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

/** The shell command of each RUN instruction. */
function runCommands(rendered: { keyword: string; text: string }[]): string[] {
  return rendered.filter((i) => i.keyword === "RUN").map((i) => i.text.replace(/^\s*RUN\s+/, ""));
}

function render(testCase: FieldCase, value: string): string {
  return renderBuild(testCase.folder, testCase.options(value), { env: testCase.env?.(value) ?? {} })
    .dockerfile;
}

describe("no recipe value can inject a Dockerfile instruction or a shell command", () => {
  let shell: StubShell;
  before(() => (shell = new StubShell()));
  after(() => shell.cleanup());

  it("covers every recipe option", () => {
    // The recipe's own list of options, as its error for an unknown one gives it.
    let known: string[] = [];
    assert.throws(
      () => renderBuild(PAUSLE, { notAnOption: 1 }, { env: {} }),
      (error: Error) => {
        known = /Use one of: (.*)$/.exec(error.message)?.[1].split(", ") ?? [];
        return error instanceof InputError;
      },
    );
    assert.ok(known.length > 10, "the error lists the options");
    assert.deepEqual(
      known.filter((option) => !CASES.some((c) => c.option === option)),
      [],
      "every option has a case below",
    );
  });

  for (const testCase of CASES) {
    it(`${testCase.field}: refused with its name, or kept in its place`, function () {
      this.timeout(90_000);
      const benignValue = testCase.benign ?? (testCase.reach.kind === "snippet" ? `echo ${MARKER}` : MARKER);
      const benign = render(testCase, benignValue);
      const benignInstructions = instructions(benign).map((i) => i.keyword);
      const benignShell =
        testCase.reach.kind === "argument" ? shell.run(runCommands(instructions(benign))) : undefined;
      let accepted = 0;
      const values = testCase.plausible ? fc.oneof(hostile, testCase.plausible) : hostile;
      fc.assert(
        fc.property(values, (value) => {
          let dockerfile: string;
          try {
            dockerfile = render(testCase, value);
          } catch (error) {
            assert.ok(error instanceof InputError, `expected an InputError, got ${error}`);
            assert.equal(error.field, testCase.field);
            return;
          }
          // An empty variable is documented to mean unset (builder) or no setup: not a value to place.
          if (testCase.env && value === "") return;
          accepted++;
          const rendered = instructions(dockerfile);
          assert.deepEqual(
            rendered.map((i) => i.keyword),
            benignInstructions,
            "the same instructions as with a benign value",
          );
          const reach = testCase.reach;
          if (reach.kind === "argument" && benignShell) {
            const expected = reach.expected ? reach.expected(value) : value;
            assert.deepEqual(shell.run(runCommands(rendered)), {
              status: benignShell.status,
              // A function, so that `$'` and the like in the value are not replacement patterns.
              commands: sortCommands(
                benignShell.commands.map((argv) =>
                  argv.map((arg) => arg.replaceAll(benignValue, () => expected)),
                ),
              ),
            });
          } else if (reach.kind === "entrypoint") {
            const entrypoint = rendered
              .find((i) => i.keyword === "ENTRYPOINT")
              ?.text.slice("ENTRYPOINT ".length);
            assert.deepEqual(JSON.parse(entrypoint ?? ""), ["/pausle", "--flag", value]);
          } else if (reach.kind === "image") {
            const from = rendered.find((i) => i.keyword === "FROM")?.text.split(" ");
            assert.deepEqual(from, ["FROM", value, "AS", "build"]);
          }
        }),
        { numRuns: 150 },
      );
      assert.ok(accepted > 0 || testCase.reach.kind === "choice", "some values were accepted and checked");
    });
  }
});
