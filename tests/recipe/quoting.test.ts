import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildLocally } from "../../harness/engine/build";
import { renderBuild } from "../../components/render";
import { LOCAL_BUILDERS, uniqueName } from "../support/env";
import { docker, removeClassicStageImages, removeImages } from "../support/engine";

/** A value full of shell syntax that the recipe accepts; it must reach the compiler and the program intact. */
const TRICKY = `it's; $(id) \`id\` "q" & | * ~ #`;

/** Runs an image to completion and returns what it printed (a TTY, so the output is not multiplexed). */
async function runToEnd(image: string): Promise<string> {
  const container = await docker.createContainer({ Image: image, name: uniqueName("quoting"), Tty: true });
  try {
    await container.start();
    const exited = await container.wait();
    assert.equal(exited.StatusCode, 0);
    return (await container.logs({ stdout: true, stderr: true })).toString().replace(/\r\n/g, "\n");
  } finally {
    await container.remove({ force: true });
  }
}

describe("values full of shell syntax build on the real engine and arrive intact @integration", () => {
  let dir: string;
  const built: string[] = [];
  const startedAt = Math.floor(Date.now() / 1000);
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-quoting-"));
    fs.writeFileSync(
      path.join(dir, "main.c"),
      "#include <stdio.h>\nint main(int argc, char **argv) {\n  puts(GREETING);\n  for (int i = 1; i < argc; i++) puts(argv[i]);\n  return 0;\n}\n",
    );
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await removeImages(...built);
    await removeClassicStageImages(startedAt);
  });

  for (const builder of ["buildkit", "classic"] as const) {
    it(`passes a C flag and entrypoint args as written (${builder})`, async () => {
      const tag = `minimal-image-test/${uniqueName("quoting")}:x`;
      built.push(tag);
      const rendered = renderBuild(
        dir,
        { cflags: [`-DGREETING=${JSON.stringify(TRICKY)}`], entrypointArgs: [TRICKY, "two words"] },
        { env: LOCAL_BUILDERS },
      );
      await buildLocally(rendered, { tag, builder });
      assert.equal(await runToEnd(tag), `${TRICKY}\n${TRICKY}\ntwo words\n`);
    });
  }

  it("builds an output path with blanks and a semicolon", async () => {
    const tag = `minimal-image-test/${uniqueName("quoting-output")}:x`;
    built.push(tag);
    const output = "out dir/app;id";
    const rendered = renderBuild(
      dir,
      {
        buildCommand: `mkdir -p 'out dir' && "$CC" $CFLAGS -DGREETING='"made"' -o '${output}' main.c $LDFLAGS`,
        output,
      },
      { env: LOCAL_BUILDERS },
    );
    await buildLocally(rendered, { tag });
    assert.equal(await runToEnd(tag), "made\n");
  });
});
