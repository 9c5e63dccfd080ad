import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  buildInput,
  DOCKERFILE_FOLDER,
  dockerfilePath,
  validateCacheFrom,
  writeDockerfile,
} from "../../components/publish";
import { contextDigest, ignorePatterns, renderBuild } from "../../components/render";
import { InputError } from "../../components/validation";

const PAUSLE = path.join(__dirname, "..", "..", "examples", "pausle");

describe("publish: where the Dockerfile goes", () => {
  const rendered = renderBuild(PAUSLE, { toolchain: "c" }, { env: {} });

  it("follows the Dockerfile's content alone: no stack, name or parent, so a rename rebuilds nothing", () => {
    const relative = dockerfilePath(rendered);
    assert.match(relative, /^\.minimal-image\/[0-9a-f]{16}\/Dockerfile$/);
    assert.equal(dockerfilePath(renderBuild(PAUSLE, { toolchain: "c" }, { env: {} })), relative);
    const glibc = renderBuild(PAUSLE, { toolchain: "c", libc: "glibc" }, { env: {} });
    assert.notEqual(dockerfilePath(glibc), relative, "another recipe, another file");
    assert.notEqual(
      dockerfilePath({ ...rendered, ignorePatterns: [".minimal-image"] }),
      relative,
      "another ignore file, another folder",
    );
  });

  it("writes the Dockerfile only when its text changed, so the provider sees the same file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-publish-"));
    try {
      const relative = dockerfilePath(rendered);
      assert.equal(writeDockerfile(rendered, relative, dir), relative);
      const full = path.join(dir, relative);
      const old = new Date(0);
      fs.utimesSync(full, old, old);
      writeDockerfile(rendered, relative, dir);
      assert.equal(fs.statSync(full).mtimeMs, 0, "an unchanged Dockerfile is not rewritten");
      assert.equal(fs.readFileSync(full, "utf8"), rendered.dockerfile);
      assert.equal(fs.existsSync(`${full}.dockerignore`), false, "no ignore file where none is needed");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("keeps .minimal-image/ out of a context that holds it, for the provider's hash and the build alike", () => {
    const program = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-publish-"));
    try {
      fs.cpSync(PAUSLE, program, { recursive: true });
      fs.writeFileSync(path.join(program, ".dockerignore"), "*.md\n");
      const keepOut = path.join(program, DOCKERFILE_FOLDER);
      const first = renderBuild(program, { toolchain: "c" }, { env: {}, keepOut });
      assert.deepEqual(first.ignorePatterns, ["*.md", ".minimal-image"]);
      const relative = writeDockerfile(first, dockerfilePath(first), program);
      // The file the provider (pulumi-docker getIgnorePatterns) prefers to the context's own .dockerignore.
      const ignoreFile = path.join(program, `${relative}.dockerignore`);
      assert.deepEqual(ignorePatterns(program, path.join(program, relative)), first.ignorePatterns);
      assert.match(fs.readFileSync(ignoreFile, "utf8"), /^\.minimal-image$/m);
      // Another stack's Dockerfile lands in the same folder: this build's context does not change.
      fs.mkdirSync(path.join(keepOut, "other"), { recursive: true });
      fs.writeFileSync(path.join(keepOut, "other", "Dockerfile"), "FROM scratch\n");
      const second = renderBuild(program, { toolchain: "c" }, { env: {}, keepOut });
      assert.deepEqual(second.contextFiles, first.contextFiles);
      assert.ok(!second.contextFiles.some((file) => file.startsWith(".minimal-image")));
      assert.equal(
        contextDigest(program, second.contextFiles, second.dockerfile),
        contextDigest(program, first.contextFiles, first.dockerfile),
      );
    } finally {
      fs.rmSync(program, { recursive: true, force: true });
    }
  });
});

describe("publish: docker.Image's build input", () => {
  const rendered = renderBuild(PAUSLE, { toolchain: "c" }, { env: {} });
  const programDir = path.dirname(path.dirname(PAUSLE));

  it("gives the context relative to the program's folder, with BuildKit", () => {
    assert.deepEqual(buildInput(rendered, "Dockerfile", programDir), {
      context: "examples/pausle",
      dockerfile: "Dockerfile",
      builderVersion: "BuilderBuildKit",
    });
  });

  it("passes platform and arguments, and with cache sources asks for an inline cache", () => {
    const input = buildInput(rendered, "Dockerfile", programDir, {
      platform: "linux/arm64",
      args: { A: "1" },
      cacheFrom: ["127.0.0.1:5000/app:latest"],
    });
    assert.equal(input.platform, "linux/arm64");
    assert.deepEqual(input.args, { A: "1", BUILDKIT_INLINE_CACHE: "1" });
    assert.deepEqual(input.cacheFrom, { images: ["127.0.0.1:5000/app:latest"] });
  });

  it("checks cacheFrom: a list of at most 16 image references, each named by its index", () => {
    assert.equal(validateCacheFrom(undefined), undefined);
    assert.equal(validateCacheFrom([]), undefined);
    assert.deepEqual(validateCacheFrom(["app:1"]), ["app:1"]);
    for (const [bad, field] of [
      ["app:1", "cacheFrom"],
      [Array(17).fill("app:1"), "cacheFrom"],
      [["app:1", "Not A Ref"], "cacheFrom[1]"],
    ] as const) {
      assert.throws(
        () => validateCacheFrom(bad),
        (error: unknown) => error instanceof InputError && error.field === field,
      );
    }
  });
});
