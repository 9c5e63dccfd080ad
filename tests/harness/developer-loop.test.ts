// What a developer sees from the harness (`npm run main` runs stacks through runStack): the compiler's own
// error when a build fails, and progress lines at least every 30 s when no terminal is attached.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildContext } from "../../harness/engine/build";
import { StepReporter } from "../../harness/engine/progress";
import { runStack, StackRunError } from "../../harness/executor";
import { removeImages } from "../support/engine";
import { LOCAL_BUILDERS, uniqueName } from "../support/env";

const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");

/** A program with one compile error per toolchain, and the compiler line that must reach the user. */
const BROKEN: Record<string, { files: Record<string, string>; says: RegExp }> = {
  c: {
    files: { "app.c": '#include <stdio.h>\nint main(void) {\n  printf("%d\\n", undeclared_count);\n}\n' },
    says: /app\.c:3:\d+: error: 'undeclared_count' undeclared/,
  },
  go: {
    files: {
      "go.mod": "module example.com/app\n\ngo 1.19\n",
      "main.go": 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println(prot)\n}\n',
    },
    says: /main\.go:6:\d+: undefined: prot/,
  },
  rust: {
    files: {
      "Cargo.toml": '[package]\nname = "app"\nversion = "0.1.0"\nedition = "2021"\n',
      "src/main.rs": 'fn main() {\n    println!("{}", prot);\n}\n',
    },
    says: /error\[E0425\]: cannot find value `prot` in this scope[\s\S]*src\/main\.rs:2:\d+/,
  },
};

describe("harness: the developer's loop @integration", function () {
  this.timeout(300_000);
  let work: string;
  beforeEach(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-loop-"))));
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  for (const [toolchain, { files, says }] of Object.entries(BROKEN)) {
    it(`shows the ${toolchain} compiler's error, the failing step and no control characters`, async () => {
      const source = path.join(work, "app");
      for (const [file, text] of Object.entries(files)) {
        fs.mkdirSync(path.dirname(path.join(source, file)), { recursive: true });
        fs.writeFileSync(path.join(source, file), text);
      }
      const name = uniqueName(`loop-${toolchain}`);
      await assert.rejects(
        runStack({
          dir: FIXTURE,
          stack: name,
          statePath: path.join(work, "state.json"),
          config: {
            name,
            imageName: `minimal-image-test/${name}`,
            source,
            recipe: JSON.stringify({ toolchain }),
          },
          env: { ...LOCAL_BUILDERS, MINIMAL_IMAGE_PROGRESS: "0" },
        }),
        (error: unknown) => {
          assert.ok(error instanceof StackRunError);
          assert.match(error.message, says);
          assert.match(error.message, /failing step: \[build \d\/\d\] RUN /);
          assert.ok(!error.message.includes("\u001b"), "no terminal escapes");
          assert.doesNotMatch(error.message, /more characters\)/);
          return true;
        },
      );
    });
  }

  it("prints a plain line at least every 30 s while a step runs, without a terminal", async () => {
    const tag = `minimal-image-test/${uniqueName("slow")}:x`;
    const lines: { at: number; text: string }[] = [];
    const started = Date.now();
    const reporter = new StepReporter({
      tty: false,
      write: (text) => lines.push({ at: Date.now(), text }) > 0,
    });
    await buildContext(
      {
        sourceDir: work,
        contextFiles: [],
        dockerfile: `FROM ${LOCAL_BUILDERS.MINIMAL_IMAGE_C_BUILDER}\nRUN sleep 35\n`,
      },
      { tag, noCache: true, progress: reporter },
    );
    await removeImages(tag);
    assert.ok(
      lines.every((line) => !line.text.includes("\r")),
      "plain lines only",
    );
    assert.ok(lines.some((line) => /^ {2}step \[2\/2\] RUN sleep 35\n$/.test(line.text)));
    assert.ok(lines.some((line) => /^ {2}still running \[2\/2\] RUN sleep 35 \(\d+ s\)\n$/.test(line.text)));
    const times = [started, ...lines.map((line) => line.at)];
    const longest = Math.max(...times.slice(1).map((at, i) => at - times[i]));
    assert.ok(longest <= 30_000, `${longest} ms without a line`);
  });
});
