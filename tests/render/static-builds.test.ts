import * as assert from "node:assert/strict";
import * as path from "node:path";
import { BuildError, buildLocally } from "../../harness/engine/build";
import { renderBuild } from "../../components/render";
import { parseElf } from "../../components/inspect/elf";
import { RecipeOptions } from "../../components/recipe";
import { LOCAL_BUILDERS, uniqueName } from "../support/env";
import { docker, httpBody, imageFiles, removeClassicStageImages, removeImages } from "../support/engine";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");

interface Case {
  title: string;
  folder: string;
  options: RecipeOptions;
  binary: string;
  /** Upper bound of `docker image inspect .Size`, in bytes. */
  maxImageBytes: number;
  behaves: (image: string) => Promise<void>;
}

async function keepsRunningUntilKilled(image: string): Promise<void> {
  const container = await docker.createContainer({ Image: image, name: uniqueName("pausle") });
  try {
    await container.start();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal((await container.inspect()).State.Running, true, "pausle must still be waiting");
    // As PID 1 it ignores signals it has no handler for, as in the post; SIGKILL always ends it.
    await container.kill({ signal: "SIGKILL" });
    const exited = await container.wait();
    assert.equal(exited.StatusCode, 137);
  } finally {
    await container.remove({ force: true });
  }
}

async function answersHttp(image: string, greeting: RegExp): Promise<void> {
  assert.match(await httpBody(image), greeting);
}

const CASES: Case[] = [
  {
    title: "pausle (c, musl)",
    folder: "pausle",
    options: {},
    binary: "/pausle",
    maxImageBytes: 16_000,
    behaves: keepsRunningUntilKilled,
  },
  {
    title: "pausle (c, glibc -static)",
    folder: "pausle",
    options: { libc: "glibc" },
    binary: "/pausle",
    maxImageBytes: 1_000_000,
    behaves: keepsRunningUntilKilled,
  },
  {
    title: "hello-go",
    folder: "hello-go",
    options: {},
    binary: "/hello-go",
    maxImageBytes: 8_000_000,
    behaves: (image) => answersHttp(image, /hello from a static Go binary/),
  },
  {
    title: "hello-rust",
    folder: "hello-rust",
    options: {},
    binary: "/hello-rust",
    maxImageBytes: 2_500_000,
    behaves: (image) => answersHttp(image, /hello from a static Rust binary/),
  },
  {
    title: "a make project (custom build command)",
    folder: "../tests/fixtures/make-project",
    options: { toolchain: "c", buildCommand: "make", output: "countdown", entrypointArgs: ["1", "2"] },
    binary: "/make-project",
    maxImageBytes: 40_000,
    behaves: async (image) => {
      const container = await docker.createContainer({ Image: image, name: uniqueName("countdown") });
      try {
        await container.start();
        assert.equal((await container.wait()).StatusCode, 0);
        const logs = (await container.logs({ stdout: true })).toString("utf8");
        assert.match(logs, /2\s+.*1/s);
      } finally {
        await container.remove({ force: true });
      }
    },
  },
];

describe("static builds on the real engine @integration", function () {
  this.timeout(600_000);
  const built: string[] = [];
  const startedAt = Math.floor(Date.now() / 1000);
  after(async () => {
    await removeImages(...built);
    await removeClassicStageImages(startedAt);
  });

  for (const testCase of CASES) {
    for (const builder of ["buildkit", "classic"] as const) {
      // Every case with BuildKit (as Pulumi builds); the classic builder for the C cases keeps both honest cheaply.
      if (builder === "classic" && !testCase.folder.startsWith("pausle")) continue;
      it(`${testCase.title} with ${builder}: static, one layer, runs as 65532, within ${testCase.maxImageBytes} bytes, behaves`, async () => {
        const tag = `minimal-image-test/${uniqueName(path.basename(testCase.folder))}:${builder}`;
        const rendered = renderBuild(path.join(EXAMPLES, testCase.folder), testCase.options, {
          env: LOCAL_BUILDERS,
        });
        built.push(tag);
        await buildLocally(rendered, { tag, builder });

        const image = await docker.getImage(tag).inspect();
        assert.equal(image.RootFS.Layers?.length, 1, "one layer");
        assert.equal(image.Config.User, "65532:65532");
        assert.deepEqual(image.Config.Entrypoint, [
          testCase.binary,
          ...(testCase.options.entrypointArgs ?? []),
        ]);
        assert.ok(
          image.Size <= testCase.maxImageBytes,
          `image is ${image.Size} bytes, over ${testCase.maxImageBytes}`,
        );

        const files = await imageFiles(tag);
        const binary = files.get(testCase.binary);
        assert.ok(binary, `${testCase.binary} is in the image`);
        const elf = parseElf(binary.data);
        assert.equal(
          elf.isStatic,
          true,
          `not static: interpreter ${elf.interpreter}, needs ${elf.neededLibraries}`,
        );
        assert.equal(binary.mode & 0o777, 0o555, "the binary is read-only and executable");
        const regularFiles = [...files.values()].filter((file) => file.type === "file");
        assert.equal(regularFiles.length, 1, "the binary is the only file");
        if (testCase.options.libc === "glibc") {
          assert.ok(
            image.Size <= binary.size * 1.05,
            `image ${image.Size} B is more than 5% over the binary's ${binary.size} B`,
          );
        }
        await testCase.behaves(tag);
      });
    }
  }

  it("copies opted-in extras into the same single layer", async () => {
    const tag = `minimal-image-test/${uniqueName("extras")}:x`;
    const options: RecipeOptions = { extras: ["ca-certificates", "zoneinfo", "passwd"] };
    built.push(tag);
    await buildLocally(renderBuild(path.join(EXAMPLES, "pausle"), options, { env: LOCAL_BUILDERS }), { tag });
    assert.equal((await docker.getImage(tag).inspect()).RootFS.Layers?.length, 1);
    const files = await imageFiles(tag);
    assert.match(files.get("/etc/ssl/certs/ca-certificates.crt")?.data.toString() ?? "", /BEGIN CERTIFICATE/);
    assert.ok(files.has("/usr/share/zoneinfo/UTC"));
    assert.match(files.get("/etc/passwd")?.data.toString() ?? "", /^nonroot:x:65532:65532:/);
  });

  it("builds the same layer twice from scratch (reproducible bytes, digest and compressed size)", async () => {
    const layers: string[][] = [];
    for (const attempt of [1, 2]) {
      const tag = `minimal-image-test/${uniqueName("repro")}:${attempt}`;
      built.push(tag);
      const rendered = renderBuild(
        path.join(EXAMPLES, "pausle"),
        { extras: ["passwd"] },
        { env: LOCAL_BUILDERS },
      );
      await buildLocally(rendered, { tag, noCache: true });
      layers.push((await docker.getImage(tag).inspect()).RootFS.Layers ?? []);
    }
    assert.equal(layers[0].length, 1);
    assert.deepEqual(layers[0], layers[1]);
  });

  for (const builder of ["classic", "buildkit"] as const) {
    it(`fails a deliberately dynamic build (${builder}) with a message naming the interpreter`, async () => {
      const tag = `minimal-image-test/${uniqueName("dynamic")}:x`;
      const rendered = renderBuild(
        path.join(EXAMPLES, "pausle"),
        { buildCommand: "gcc -o app pausle.c", output: "app" },
        { env: LOCAL_BUILDERS },
      );
      await assert.rejects(buildLocally(rendered, { tag, builder }), (error: unknown) => {
        assert.ok(error instanceof BuildError);
        assert.match(
          error.message,
          /is not a static binary: it has an ELF interpreter \(\/lib64\/ld-linux-x86-64\.so\.2\)/,
        );
        assert.match(error.message, /needs shared libraries: libc\.so\.6/);
        return true;
      });
      await removeImages(tag);
    });
  }
});
