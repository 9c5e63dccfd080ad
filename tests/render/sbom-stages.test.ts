import * as assert from "node:assert/strict";
import * as path from "node:path";
import { renderBuild, SBOM_TARGET } from "../../components/render";
import { RecipeOptions } from "../../components/recipe";
import { InputError } from "../../components/validation";
import { runCli } from "../support/capture";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");
const MAKE_PROJECT = path.join(__dirname, "..", "fixtures", "make-project");

function render(folder: string, options: RecipeOptions = {}, platform?: string): string {
  return renderBuild(path.join(EXAMPLES, folder), options, { env: {}, platform }).dockerfile;
}

/** Each stage's FROM line, in order. */
const stages = (dockerfile: string) => dockerfile.split("\n").filter((line) => line.startsWith("FROM "));
/** The final image's stage: everything from the last FROM. */
const finalStage = (dockerfile: string) => dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));

describe("the SBOM's stages in the rendered Dockerfile", () => {
  it("adds a facts stage on the builder and the `sbom` target between the builder and the final image", () => {
    assert.equal(SBOM_TARGET, "sbom");
    const dockerfile = render("pausle");
    assert.deepEqual(stages(dockerfile).slice(1), [
      "FROM build AS facts",
      "FROM scratch AS sbom",
      "FROM scratch",
    ]);
    // The target holds the facts folder and nothing else.
    const target = dockerfile.slice(
      dockerfile.indexOf("FROM scratch AS sbom"),
      dockerfile.lastIndexOf("\nFROM "),
    );
    assert.equal(target.trim(), "FROM scratch AS sbom\nCOPY --from=facts /sbom/ /sbom/");
  });

  it("leaves the builder stage and the final image, the default target, exactly as without it", () => {
    for (const [folder, options, platform] of [
      ["pausle", {}],
      ["pausle", { libc: "glibc", extras: ["passwd", "ca-certificates"] }, "linux/arm64"],
      ["hello-go", {}],
      ["hello-rust-deps", {}],
    ] as [string, RecipeOptions, string?][]) {
      const withSbom = render(folder, options, platform);
      const without = render(folder, { ...options, sbom: false }, platform);
      assert.doesNotMatch(without, /AS facts|AS sbom|\/sbom/);
      assert.equal(finalStage(withSbom), finalStage(without));
      const facts = withSbom.indexOf("# What was compiled in, for the SBOM");
      assert.equal(withSbom.slice(0, facts), without.slice(0, without.lastIndexOf("FROM scratch")));
    }
  });

  it("mounts cargo's registry, the build's own, for cargo tree, and no other cache", () => {
    const registry =
      /--mount=type=cache,id=(minimal-image-rust-registry-[0-9a-f]+),target=\/minimal-image\/cache\/cargo-registry,sharing=shared/g;
    const rust = render("hello-rust-deps");
    const facts = rust.slice(rust.indexOf("FROM build AS facts"));
    const ids = [...rust.matchAll(registry)].map((match) => match[1]);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
    assert.equal([...facts.matchAll(/--mount=/g)].length, 1);
    const go = render("hello-go");
    assert.doesNotMatch(go.slice(go.indexOf("FROM build AS facts")), /--mount=/);
  });

  it("renders none for the classic builder, which would run them on every build", () => {
    const dockerfile = renderBuild(
      path.join(EXAMPLES, "pausle"),
      {},
      { env: {}, builder: "classic" },
    ).dockerfile;
    assert.deepEqual(stages(dockerfile).slice(1), ["FROM scratch"]);
  });

  it("is on by default, and `recipe.sbom` must be a boolean", () => {
    assert.equal(renderBuild(path.join(EXAMPLES, "pausle"), {}, { env: {} }).recipe.sbom, true);
    assert.equal(renderBuild(path.join(EXAMPLES, "pausle"), { sbom: false }, { env: {} }).recipe.sbom, false);
    assert.throws(
      () => renderBuild(path.join(EXAMPLES, "pausle"), { sbom: "no" }, { env: {} }),
      (error: unknown) =>
        error instanceof InputError &&
        error.field === "recipe.sbom" &&
        /expected true or false, got "no"\. Give a boolean/.test(error.message),
    );
  });

  it("the CLI renders them, and none with --no-sbom", async () => {
    const folder = path.join(EXAMPLES, "pausle");
    const env = { env: process.env };
    assert.equal((await runCli("dockerfile", folder)).stdout, renderBuild(folder, {}, env).dockerfile);
    const without = await runCli("dockerfile", folder, "--no-sbom");
    assert.equal(without.stdout, renderBuild(folder, { sbom: false }, env).dockerfile);
  });

  it("traces the built-in C link again, and says a custom build command's cannot be", () => {
    const builtIn = render("pausle");
    assert.match(
      builtIn,
      /\{ \("\$CC" .* -Wl,--trace && objcopy --remove-section=\.comment \/minimal-image\/relink\) > \/minimal-image\/relink\.trace/,
    );
    assert.match(
      builtIn,
      / sbom-facts c \/minimal-image\/rootfs pausle linux\/amd64 musl "\$CC" traced \\$/m,
    );
    const custom = renderBuild(
      MAKE_PROJECT,
      { toolchain: "c", buildCommand: "make", output: "countdown" },
      { env: {} },
    );
    assert.doesNotMatch(custom.dockerfile, /\) > \/minimal-image\/relink\.trace/, "no link to repeat");
    assert.match(
      custom.dockerfile,
      / sbom-facts c \/minimal-image\/rootfs make-project linux\/amd64 musl "\$CC" custom-build \\$/m,
    );
  });

  it("names the target platform, its linker and the extras' packages", () => {
    assert.match(
      render("hello-rust-deps", { builderImage: "minimal-image-builder/rust:local" }, "linux/arm64"),
      / sbom-facts rust \/minimal-image\/rootfs hello-rust-deps linux\/arm64 - aarch64-linux-gnu-gcc - \\$/m,
    );
    assert.match(
      render("hello-go", { extras: ["zoneinfo", "passwd", "ca-certificates"] }),
      / sbom-facts go \/minimal-image\/rootfs hello-go linux\/amd64 - - - \/etc\/ssl\/certs\/ca-certificates\.crt:ca-certificates \/usr\/share\/zoneinfo\/UTC:tzdata \\$/m,
    );
  });
});
