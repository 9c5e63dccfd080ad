import * as assert from "node:assert/strict";
import * as path from "node:path";
import { renderBuild } from "../../components/render";
import { RecipeOptions } from "../../components/recipe";
import { runCli } from "../support/capture";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");
const NO_ENV = {};
const MOUNT = /--mount=type=cache,id=([^,]+),target=([^,]+),sharing=(shared|locked)/g;

interface Mount {
  id: string;
  target: string;
  sharing: string;
}

function mounts(dockerfile: string): Mount[] {
  return [...dockerfile.matchAll(MOUNT)].map(([, id, target, sharing]) => ({ id, target, sharing }));
}

/** The build's mounts alone: the SBOM's facts stage mounts what it uses (tests/render/sbom-stages.test.ts). */
const render = (
  folder: string,
  options: RecipeOptions = {},
  context: { builder?: "buildkit" | "classic"; cacheScope?: string } = {},
) =>
  renderBuild(path.join(EXAMPLES, folder), { sbom: false, ...options }, { env: NO_ENV, ...context })
    .dockerfile;

/** The id of the mount at `target`. */
const idAt = (dockerfile: string, target: string) => mounts(dockerfile).find((m) => m.target === target)?.id;

describe("toolchain cache mounts", () => {
  it("mounts Go's build and module caches, shared, keyed by toolchain and builder", () => {
    const found = mounts(render("hello-go"));
    assert.deepEqual(
      found.map((m) => [m.target, m.sharing]),
      [
        ["/minimal-image/cache/go-build", "shared"],
        ["/minimal-image/cache/go-mod", "shared"],
      ],
    );
    assert.match(found[0].id, /^minimal-image-go-build-[0-9a-f]{16}$/);
    assert.match(found[1].id, /^minimal-image-go-modules-[0-9a-f]{16}$/);
  });

  it("mounts cargo's registry (shared) and the program's target directory (locked), copying out in the same step", () => {
    const dockerfile = render("hello-rust");
    assert.deepEqual(
      mounts(dockerfile).map((m) => [m.target, m.sharing]),
      [
        ["/minimal-image/cache/cargo-registry", "shared"],
        ["/src/target", "locked"],
      ],
    );
    const step = dockerfile.split("\nRUN ").find((run) => run.includes("cargo build")) ?? "";
    assert.match(step, /cargo build [^\n]*&& cp "target\/\$CARGO_BUILD_TARGET\/release\/"hello-rust /);
  });

  it("gives two programs different target directories but one registry and one Go cache per builder", () => {
    const rust = render("hello-rust");
    const rustDeps = render("hello-rust-deps");
    assert.notEqual(idAt(rust, "/src/target"), idAt(rustDeps, "/src/target"));
    assert.equal(
      idAt(rust, "/minimal-image/cache/cargo-registry"),
      idAt(rustDeps, "/minimal-image/cache/cargo-registry"),
    );
    const renamed = render("hello-go", { binaryName: "other" });
    assert.equal(
      idAt(render("hello-go"), "/minimal-image/cache/go-build"),
      idAt(renamed, "/minimal-image/cache/go-build"),
    );
  });

  it("never shares a cache between builders, setups or scopes", () => {
    const base = render("hello-rust");
    const variants = [
      render("hello-rust", { builderImage: "127.0.0.1:5000/rust:other" }),
      render("hello-rust", { setup: ["true"] }),
      render("hello-rust", {}, { cacheScope: "cold-1" }),
    ];
    const baseIds = new Set(mounts(base).map((m) => m.id));
    for (const variant of variants) {
      for (const { id } of mounts(variant)) assert.ok(!baseIds.has(id), `${id} is shared`);
    }
  });

  it("keeps caches a custom build command can use, and drops the target directory it may write its output to", () => {
    const go = render("hello-go", { buildCommand: "go build -o app .", output: "app" });
    assert.equal(mounts(go).length, 2);
    const rust = render("hello-rust", { buildCommand: "cargo build --release", output: "target/release/x" });
    assert.deepEqual(mounts(rust), []);
  });

  it("mounts nothing for C, whose one-call compile and link has nothing to cache", () => {
    assert.deepEqual(mounts(render("pausle")), []);
  });

  for (const folder of ["hello-go", "hello-rust"]) {
    it(`renders ${folder} for the classic builder as the BuildKit file without its mounts or SBOM stages`, () => {
      const classic = render(folder, {}, { builder: "classic" });
      // The classic builder runs every stage of a file on every build: it gets no SBOM stages.
      const buildkit = render(folder);
      assert.deepEqual(mounts(classic), []);
      assert.equal(classic, buildkit.replace(/--mount=\S+ \\\n {4}/g, ""));
    });
  }

  it("the CLI renders for the classic builder with --builder classic, and names the flag when it is wrong", async () => {
    const folder = path.join(EXAMPLES, "hello-go");
    const classic = await runCli("dockerfile", folder, "--builder", "classic");
    assert.equal(classic.code, 0);
    assert.equal(classic.stdout, renderBuild(folder, {}, { builder: "classic" }).dockerfile);
    assert.equal((await runCli("dockerfile", folder)).stdout, renderBuild(folder, {}).dockerfile);
    const bad = await runCli("dockerfile", folder, "--builder", "kaniko");
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /'--builder <name>' argument 'kaniko' is invalid. Allowed choices are buildkit, classic/,
    );
  });
});
