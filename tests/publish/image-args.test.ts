import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { buildInput, dockerfilePath, validateCacheFrom, writeDockerfile } from "../../components/publish";
import { renderBuild } from "../../components/render";
import { InputError } from "../../components/validation";

const PAUSLE = path.join(__dirname, "..", "..", "examples", "pausle");

describe("publish: where the Dockerfile goes", () => {
  it("gives two stacks, and two resources of one name under different parents, different Dockerfiles", () => {
    const urn = (stack: string, parentType: string) =>
      `urn:pulumi:${stack}::project::${parentType}$minimal-image:index:MinimalImage::app`;
    const paths = [
      dockerfilePath("dev", "app", urn("dev", "pulumi:pulumi:Stack")),
      dockerfilePath("prod", "app", urn("prod", "pulumi:pulumi:Stack")),
      dockerfilePath("dev", "app", urn("dev", "team:index:Service")),
    ];
    assert.equal(new Set(paths).size, 3, paths.join(", "));
    for (const file of paths)
      assert.match(file, /^\.minimal-image\/(dev|prod)\/app-[0-9a-f]{12}\/Dockerfile$/);
  });

  it("keeps every name inside .minimal-image: dots and slashes become _", () => {
    assert.match(
      dockerfilePath("../..", "../x/y", "urn"),
      /^\.minimal-image\/_____\/___x_y-[0-9a-f]{12}\/Dockerfile$/,
    );
  });

  it("writes the Dockerfile only when its text changed, so the provider sees the same file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-publish-"));
    try {
      const rendered = renderBuild(PAUSLE, { toolchain: "c" }, { env: {} });
      const relative = dockerfilePath("dev", "app", "urn");
      assert.equal(writeDockerfile(rendered, relative, dir), relative);
      const full = path.join(dir, relative);
      const old = new Date(0);
      fs.utimesSync(full, old, old);
      writeDockerfile(rendered, relative, dir);
      assert.equal(fs.statSync(full).mtimeMs, 0, "an unchanged Dockerfile is not rewritten");
      assert.equal(fs.readFileSync(full, "utf8"), rendered.dockerfile);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
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
