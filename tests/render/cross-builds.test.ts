import * as assert from "node:assert/strict";
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BuildError, buildLocally } from "../../harness/engine/build";
import { parseElf } from "../../components/inspect/elf";
import { RecipeOptions } from "../../components/recipe";
import { renderBuild } from "../../components/render";
import { freePort, LOCAL_BUILDERS, uniqueName } from "../support/env";
import { docker, imageFiles, removeImages, waitFor } from "../support/engine";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");
const MAKE_PROJECT = "../tests/fixtures/make-project";
const MAKE: RecipeOptions = {
  toolchain: "c",
  buildCommand: "make",
  output: "countdown",
  entrypointArgs: ["1", "2"],
};
/** Debian's qemu-user-static runs a static arm64 binary directly, with no binfmt registration. */
const QEMU = "qemu-aarch64-static";

/** Runs `binary` under qemu until `check` is done with it, then kills it: nothing outlives the test. */
async function underQemu(
  binary: string,
  env: Record<string, string>,
  check: (child: ChildProcess) => Promise<void>,
): Promise<void> {
  const child = spawn(QEMU, [binary], { env: { ...env }, stdio: ["ignore", "ignore", "pipe"] });
  try {
    await check(child);
  } finally {
    child.kill("SIGKILL");
  }
}

const keepsPausing = (binary: string) =>
  underQemu(binary, {}, async (child) => {
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(child.exitCode, null, "pausle must still be waiting under qemu");
  });

const answersHttp = (binary: string) =>
  freePort().then((port) =>
    underQemu(binary, { LISTEN_ADDR: `127.0.0.1:${port}` }, async () => {
      const body = await waitFor(`HTTP from qemu on 127.0.0.1:${port}`, async () => {
        const response = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) });
        return response.ok ? response.text() : undefined;
      });
      assert.match(body, /hello from a static Go binary/);
    }),
  );

const printsHelp = async (binary: string) => {
  const out = execFileSync(QEMU, [binary, "--help"], { encoding: "utf8", timeout: 30_000 });
  assert.match(out, /Usage:/);
};

const countsDown = async (binary: string) => {
  const out = execFileSync(QEMU, [binary, "1", "2"], { encoding: "utf8", timeout: 30_000 });
  assert.match(out, /2\s+.*1/s);
};

const CASES: {
  title: string;
  folder: string;
  options: RecipeOptions;
  runs: (binary: string) => Promise<void>;
}[] = [
  { title: "pausle (c, musl)", folder: "pausle", options: {}, runs: keepsPausing },
  { title: "pausle (c, glibc -static)", folder: "pausle", options: { libc: "glibc" }, runs: keepsPausing },
  { title: "hello-go", folder: "hello-go", options: {}, runs: answersHttp },
  { title: "hello-rust-deps", folder: "hello-rust-deps", options: {}, runs: printsHelp },
  {
    title: "a make project with a custom buildCommand using $CC",
    folder: MAKE_PROJECT,
    options: MAKE,
    runs: countsDown,
  },
];

describe("cross builds for linux/arm64 on the offline builders @integration", function () {
  this.timeout(900_000);
  const built: string[] = [];
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-cross-"))));
  after(async () => {
    await removeImages(...built);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const testCase of CASES) {
    it(`${testCase.title}: an arm64 image whose binary is a static AArch64 ELF that runs under qemu`, async () => {
      const tag = `minimal-image-test/${uniqueName(path.basename(testCase.folder))}:arm64`;
      const rendered = renderBuild(path.join(EXAMPLES, testCase.folder), testCase.options, {
        env: LOCAL_BUILDERS,
        platform: "linux/arm64",
      });
      built.push(tag);
      await buildLocally(rendered, { tag, platform: "linux/arm64" });
      const image = await docker.getImage(tag).inspect();
      assert.equal(`${image.Os}/${image.Architecture}`, "linux/arm64");
      const entrypoint = image.Config.Entrypoint?.[0] ?? "";
      const binary = (await imageFiles(tag)).get(entrypoint);
      assert.ok(binary, `${entrypoint} is in the image`);
      const elf = parseElf(binary.data);
      assert.equal(elf.machine, "AArch64");
      assert.equal(
        elf.isStatic,
        true,
        `not static: interpreter ${elf.interpreter}, needs ${elf.neededLibraries}`,
      );
      const file = path.join(dir, path.basename(entrypoint));
      fs.writeFileSync(file, binary.data, { mode: 0o755 });
      await testCase.runs(file);
    });
  }

  it("builds the same make project with the same command for linux/amd64, where it runs natively", async () => {
    const tag = `minimal-image-test/${uniqueName("make-project")}:amd64`;
    built.push(tag);
    const rendered = renderBuild(path.join(EXAMPLES, MAKE_PROJECT), MAKE, { env: LOCAL_BUILDERS });
    await buildLocally(rendered, { tag, platform: "linux/amd64" });
    const binary = (await imageFiles(tag)).get("/make-project");
    assert.equal(parseElf(binary!.data).machine, "x86-64");
    const file = path.join(dir, "make-project-amd64");
    fs.writeFileSync(file, binary!.data, { mode: 0o755 });
    assert.match(execFileSync(file, ["1", "2"], { encoding: "utf8", timeout: 30_000 }), /2\s+.*1/s);
  });

  it("fails a build command that ignores the target's compiler, naming both machines", async () => {
    const tag = `minimal-image-test/${uniqueName("wrong-machine")}:arm64`;
    const rendered = renderBuild(
      path.join(EXAMPLES, "pausle"),
      { libc: "glibc", buildCommand: "gcc -static -o app pausle.c", output: "app" },
      { env: LOCAL_BUILDERS, platform: "linux/arm64" },
    );
    await assert.rejects(buildLocally(rendered, { tag, platform: "linux/arm64" }), (error: unknown) => {
      assert.ok(error instanceof BuildError);
      assert.match(error.message, /\/src\/app is built for x86-64, not AArch64 \(linux\/arm64\)/);
      return true;
    });
    await removeImages(tag);
  });

  /** The CLI's Dockerfile for a folder, written into the test's folder. */
  const cliDockerfile = (folder: string, platform: string) => {
    const file = path.join(dir, `${path.basename(folder)}-${platform.split("/")[1]}.Dockerfile`);
    const cli = path.join(__dirname, "..", "..", "bin", "components", "cli", "main.js");
    execFileSync(process.execPath, [cli, "dockerfile", folder, "--platform", platform, "--write", file], {
      env: { ...process.env, ...LOCAL_BUILDERS },
      timeout: 30_000,
    });
    return file;
  };
  const dockerBuild = (dockerfile: string, platform: string, image: string, folder: string) =>
    execFileSync(
      "/usr/bin/docker",
      ["build", "-q", "--platform", platform, "-f", dockerfile, "-t", image, folder],
      {
        env: { ...process.env, DOCKER_BUILDKIT: "1" },
        timeout: 600_000,
        stdio: ["ignore", "ignore", "pipe"],
      },
    );

  // One program per offline builder (c, go, rust), through the CLI and the docker CLI as a user would.
  for (const testCase of CASES.filter((c) =>
    ["pausle (c, musl)", "hello-go", "hello-rust-deps"].includes(c.title),
  )) {
    it(`\`minimal-image dockerfile --platform linux/arm64\` + docker build --platform: ${testCase.title} as an arm64 image that runs under qemu`, async () => {
      const folder = path.join(EXAMPLES, testCase.folder);
      const tag = `minimal-image-test/${uniqueName(`cli-${testCase.folder}`)}:arm64`;
      built.push(tag);
      dockerBuild(cliDockerfile(folder, "linux/arm64"), "linux/arm64", tag, folder);
      const image = await docker.getImage(tag).inspect();
      assert.equal(image.Architecture, "arm64");
      const entrypoint = image.Config.Entrypoint?.[0] ?? "";
      const binary = (await imageFiles(tag)).get(entrypoint);
      assert.ok(binary, `${entrypoint} is in the image`);
      const elf = parseElf(binary.data);
      assert.deepEqual([elf.machine, elf.isStatic], ["AArch64", true]);
      const file = path.join(dir, `cli-${path.basename(entrypoint)}`);
      fs.writeFileSync(file, binary.data, { mode: 0o755 });
      await testCase.runs(file);
    });
  }

  it("refuses to build the arm64 Dockerfile for linux/amd64, naming both platforms", () => {
    const pausle = path.join(EXAMPLES, "pausle");
    assert.throws(
      () =>
        dockerBuild(
          cliDockerfile(pausle, "linux/arm64"),
          "linux/amd64",
          `minimal-image-test/${uniqueName("cli-wrong")}:x`,
          pausle,
        ),
      /this Dockerfile compiles for linux\/arm64, but the build is for linux\/amd64/,
    );
  });
});
