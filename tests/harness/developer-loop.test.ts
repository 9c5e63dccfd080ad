// What a developer sees from the harness (`npm run main` runs stacks through runStack): the compiler's own
// error when a build fails, and progress lines at least every 30 s when no terminal is attached.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { renderBuild } from "../../components/render";
import { buildContext, buildLocally } from "../../harness/engine/build";
import { StepReporter } from "../../harness/engine/progress";
import { runStack, StackRunError } from "../../harness/executor";
import { removeImages, removeRepositories } from "../support/engine";
import { LOCAL_BUILDERS, LOCAL_REGISTRY, uniqueName } from "../support/env";
import { TestStack } from "../support/stack";

const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");
const PAUSLE_SOURCE = path.join(__dirname, "..", "..", "examples", "pausle");
// Not on this engine, and the engine reaches no registry: its pull fails at once.
const MISSING_BUILDER = "minimal-image-builder/nope:local";
// Every engine call is bounded: a hung daemon fails the test instead of stalling the run.
const docker = new Docker({ timeout: 60_000 });

/**
 * Asserts that a build or stack run fails with one whole message for a builder image the engine cannot pull:
 * the image, its fixes (the toolchain's `variable`, the dev machine's `localBuilder`), nothing cut.
 */
async function failsNamingMissingBuilder(run: Promise<unknown>, variable: string, localBuilder: string) {
  const error = await run.then(
    () => assert.fail("the build succeeded"),
    (failure: unknown) => failure as Error,
  );
  if (error instanceof StackRunError) assert.equal(error.errors.length, 1, error.message);
  const message = error instanceof StackRunError ? error.errors[0] : error.message;
  assert.match(
    message,
    new RegExp(`the builder image ${MISSING_BUILDER} cannot be pulled or found on this engine: \\S`),
  );
  assert.match(message, /Fix it in one of three ways:\n {2}- set recipe\.builderImage to an image/);
  assert.match(
    message,
    new RegExp(`\\n {2}- or set ${variable} \\(and ${variable.replace(/_BUILDER$/, "_SETUP")}\\)`),
  );
  assert.match(message, new RegExp(`\\n {2}- or, .* run \`scripts/dev-env up\`: .*${localBuilder}`));
  assert.doesNotMatch(message, /more characters\)|…/);
}

/** The containers and networks on the engine whose names start with `prefix`, by name. */
async function engineObjects(prefix: string): Promise<{ containers: string[]; networks: string[] }> {
  const containers = (await docker.listContainers({ all: true }))
    .map((container) => container.Names[0].slice(1))
    .filter((name) => name.startsWith(prefix));
  const networks = (await docker.listNetworks())
    .map((network) => network.Name)
    .filter((name) => name.startsWith(prefix));
  return { containers: containers.sort(), networks: networks.sort() };
}

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

  it("names a builder image the engine cannot pull and the three fixes, and leaves nothing of the stack behind", async () => {
    const name = uniqueName("loop-builder");
    const imageName = `minimal-image-test/${name}`;
    const stack = new TestStack(FIXTURE, name);
    const config = { name, imageName, replicas: JSON.stringify({ count: 2 }) };
    const missing = { env: { ...LOCAL_BUILDERS, MINIMAL_IMAGE_C_BUILDER: MISSING_BUILDER } };
    const localC = LOCAL_BUILDERS.MINIMAL_IMAGE_C_BUILDER;
    try {
      // A fresh stack: the build fails before anything else is made, the replicas' network included.
      await failsNamingMissingBuilder(stack.run(config, missing), "MINIMAL_IMAGE_C_BUILDER", localC);
      assert.deepEqual(await engineObjects(name), { containers: [], networks: [] });

      // A stack that runs: a failed build of its next version keeps what it runs, and adds nothing.
      await stack.run(config);
      const running = await engineObjects(name);
      assert.equal(running.containers.length, 2);
      assert.equal(running.networks.length, 1);
      const next = { ...config, recipe: JSON.stringify({ toolchain: "c", builderImage: MISSING_BUILDER }) };
      await failsNamingMissingBuilder(stack.run(next), "MINIMAL_IMAGE_C_BUILDER", localC);
      assert.deepEqual(await engineObjects(name), running);
      for (const container of running.containers) {
        assert.equal((await docker.getContainer(container).inspect()).State.Running, true, container);
      }
    } finally {
      await stack.destroy();
      await removeRepositories(`${LOCAL_REGISTRY}/${imageName}`);
    }
    assert.deepEqual(await engineObjects(name), { containers: [], networks: [] });
  });

  it("names the builder image the same way with the classic builder, for Go too", async () => {
    const rendered = renderBuild(
      PAUSLE_SOURCE,
      { toolchain: "c", libc: "glibc" },
      {
        builder: "classic",
        env: { MINIMAL_IMAGE_C_GLIBC_BUILDER: MISSING_BUILDER },
      },
    );
    await failsNamingMissingBuilder(
      buildLocally(rendered, { tag: `minimal-image-test/${uniqueName("classic")}:x`, builder: "classic" }),
      "MINIMAL_IMAGE_C_GLIBC_BUILDER",
      LOCAL_BUILDERS.MINIMAL_IMAGE_C_GLIBC_BUILDER,
    );
    const source = path.join(work, "app");
    fs.mkdirSync(source);
    fs.writeFileSync(path.join(source, "go.mod"), "module example.com/app\n\ngo 1.19\n");
    fs.writeFileSync(path.join(source, "main.go"), "package main\n\nfunc main() {}\n");
    const go = renderBuild(source, { toolchain: "go", builderImage: MISSING_BUILDER }, { env: {} });
    await failsNamingMissingBuilder(
      buildLocally(go, { tag: `minimal-image-test/${uniqueName("go")}:x` }),
      "MINIMAL_IMAGE_GO_BUILDER",
      LOCAL_BUILDERS.MINIMAL_IMAGE_GO_BUILDER,
    );
  });

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
