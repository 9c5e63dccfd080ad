import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import fc from "fast-check";
import { renderBuild } from "../../components/render";
import { InputError } from "../../components/validation";
import { defaultBuilders, RecipeOptions, resolveRecipe } from "../../components/recipe";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");
const GOLDEN = path.join(__dirname, "..", "golden");
const NO_ENV = {};

/** Golden cases: the exact Dockerfile users get with the pinned default builders; the 4th item is the platform. */
const GOLDEN_CASES: [string, string, RecipeOptions, string?][] = [
  ["pausle-musl", "pausle", {}],
  ["pausle-glibc", "pausle", { libc: "glibc" }],
  [
    "pausle-extras-args",
    "pausle",
    { extras: ["zoneinfo", "passwd", "ca-certificates"], entrypointArgs: ["--flag", "it's"] },
  ],
  ["hello-go", "hello-go", {}],
  ["hello-rust", "hello-rust", {}],
  ["hello-rust-deps", "hello-rust-deps", {}],
  ["hello-rust-deps-thin", "hello-rust-deps", { cargoLto: "thin" }],
  ["hello-rust-deps-off", "hello-rust-deps", { cargoLto: "off" }],
  [
    "make-project",
    "../tests/fixtures/make-project",
    { toolchain: "c", buildCommand: "make", output: "countdown" },
  ],
  ["pausle-musl-arm64", "pausle", {}, "linux/arm64"],
  ["pausle-glibc-arm64", "pausle", { libc: "glibc" }, "linux/arm64"],
  ["hello-go-arm64", "hello-go", {}, "linux/arm64"],
  ["hello-rust-deps-public-arm64", "hello-rust-deps", {}, "linux/arm64"],
  [
    "hello-rust-deps-arm64",
    "hello-rust-deps",
    { builderImage: "minimal-image-builder/rust:local" },
    "linux/arm64",
  ],
  [
    "make-project-arm64",
    "../tests/fixtures/make-project",
    { toolchain: "c", buildCommand: "make", output: "countdown" },
    "linux/arm64",
  ],
];

function expectInputError(fn: () => unknown, field: string, pattern?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InputError, `expected an InputError, got ${error}`);
    assert.equal(error.field, field);
    assert.match(error.message, new RegExp(`^minimal-image: ${field.replace(/[[\]]/g, "\\$&")}: `));
    if (pattern) assert.match(error.message, pattern);
    return true;
  });
}

describe("recipes and rendering", () => {
  describe("golden Dockerfiles", () => {
    for (const [name, folder, options, platform] of GOLDEN_CASES) {
      it(`renders ${name} exactly as recorded`, () => {
        const { dockerfile } = renderBuild(path.join(EXAMPLES, folder), options, { env: NO_ENV, platform });
        const file = path.join(GOLDEN, `${name}.Dockerfile`);
        if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, dockerfile);
        assert.equal(
          dockerfile,
          fs.readFileSync(file, "utf8"),
          `re-record with UPDATE_GOLDEN=1 if the change is intended`,
        );
      });
    }
  });

  describe("platforms", () => {
    const pausle = path.join(EXAMPLES, "pausle");
    it("compiles for linux/amd64 and linux/arm64 only, naming the platform field", () => {
      expectInputError(
        () => renderBuild(pausle, {}, { env: NO_ENV, platform: "linux/s390x" }),
        "platform",
        /compiles for linux\/amd64 and linux\/arm64, not linux\/s390x\. Set it to/,
      );
      expectInputError(
        () =>
          renderBuild(pausle, {}, { env: NO_ENV, platform: "linux/arm64/v7", platformField: ["--platform"] }),
        "--platform",
      );
    });

    it("cross-compiles Rust on the public builder: rustup's aarch64 musl target, linked by rust-lld", () => {
      const { dockerfile, recipe } = renderBuild(
        path.join(EXAMPLES, "hello-rust-deps"),
        {},
        { env: NO_ENV, platform: "linux/arm64" },
      );
      assert.match(
        dockerfile,
        /^FROM --platform=\$BUILDPLATFORM rust:1\.83-alpine@sha256:[0-9a-f]{64} AS build$/m,
      );
      assert.match(
        dockerfile,
        /^RUN apk add --no-cache musl-dev ca-certificates tzdata && rustup target add aarch64-unknown-linux-musl$/m,
      );
      assert.equal(recipe.plan.env.CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER, "rust-lld");
      // The shell the builder runs, fed each builder's `rustc -vV`: Alpine's musl host, Debian's glibc one.
      const shell = (host: string, script: string) =>
        execFileSync("sh", ["-c", `rustc() { echo "host: ${host}"; }; ${script}`], {
          encoding: "utf8",
        }).trim();
      const target = `echo ${recipe.plan.env.CARGO_BUILD_TARGET}`;
      const tools = `for t in ${recipe.plan.crossTools.join(" ")}; do echo "$t"; done`;
      assert.deepEqual(
        ["x86_64-unknown-linux-musl", "x86_64-unknown-linux-gnu"].map((host) => [
          shell(host, target),
          shell(host, tools),
        ]),
        [
          ["aarch64-unknown-linux-musl", ""],
          ["aarch64-unknown-linux-gnu", "aarch64-linux-gnu-gcc"],
        ],
      );
    });

    it("gives a custom build command the target's toolchain, so one command builds for either platform", () => {
      const make = { toolchain: "c", buildCommand: "make", output: "countdown" } as const;
      const folder = path.join(EXAMPLES, "..", "tests", "fixtures", "make-project");
      const env = (platform: string, libc: "musl" | "glibc") =>
        resolveRecipe(folder, { ...make, libc }, { env: NO_ENV, platform }).plan.env;
      assert.deepEqual(
        [env("linux/arm64", "musl"), env("linux/arm64", "glibc")].map(({ CC, AR, STRIP }) => [CC, AR, STRIP]),
        [
          ["aarch64-linux-musl-gcc", "aarch64-linux-gnu-ar", "aarch64-linux-gnu-strip"],
          ["aarch64-linux-gnu-gcc", "aarch64-linux-gnu-ar", "aarch64-linux-gnu-strip"],
        ],
      );
      assert.deepEqual([env("linux/amd64", "glibc").AR, env("linux/amd64", "glibc").STRIP], ["ar", "strip"]);
      const go = resolveRecipe(path.join(EXAMPLES, "hello-go"), {}, { env: NO_ENV, platform: "linux/arm64" });
      assert.deepEqual([go.plan.env.GOOS, go.plan.env.GOARCH], ["linux", "arm64"]);
    });
  });

  it("ends with a FROM scratch stage of one COPY, a non-root USER and an exec-form ENTRYPOINT", () => {
    const { dockerfile } = renderBuild(
      path.join(EXAMPLES, "pausle"),
      { entrypointArgs: ["a b", '"q"'] },
      { env: NO_ENV },
    );
    const final = dockerfile.slice(dockerfile.lastIndexOf("FROM "));
    assert.match(final, /^FROM scratch\n/);
    assert.equal(final.match(/^(COPY|ADD|RUN)\b/gm)?.length, 1, "exactly one layer-making instruction");
    assert.match(final, /^USER 65532:65532$/m);
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(final)?.[1] ?? "";
    assert.deepEqual(JSON.parse(entrypoint), ["/pausle", "a b", '"q"']);
  });

  it("renders byte-identical output for the same inputs, whatever the options", () => {
    // Values the recipe accepts, shell metacharacters included; tests/recipe-injection.test.ts covers the rest.
    const word = fc.stringMatching(/^[A-Za-z0-9 ._=+'"$;&|-]{0,11}[A-Za-z0-9]$/);
    const options = fc.record(
      {
        libc: fc.constantFrom("musl", "glibc"),
        cflags: fc.array(word, { maxLength: 3 }),
        ldflags: fc.array(word, { maxLength: 3 }),
        extras: fc.subarray(["ca-certificates", "zoneinfo", "passwd"]),
        entrypointArgs: fc.array(word, { maxLength: 3 }),
        setup: fc.array(word, { maxLength: 2 }),
        binaryName: fc.stringMatching(/^[a-z][a-z0-9._-]{0,10}$/),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(options, (opts) => {
        const first = renderBuild(path.join(EXAMPLES, "pausle"), opts, { env: NO_ENV });
        const second = renderBuild(path.join(EXAMPLES, "pausle"), structuredClone(opts), { env: NO_ENV });
        assert.equal(first.dockerfile, second.dockerfile);
        assert.deepEqual(first.contextFiles, second.contextFiles);
      }),
      { numRuns: 200 },
    );
  });

  describe("cargoLto", () => {
    const rustEnv = (options: RecipeOptions) =>
      resolveRecipe(path.join(EXAMPLES, "hello-rust-deps"), options, { env: NO_ENV }).plan.env;

    it("off: no LTO across crates and 16 codegen units, for fast rebuilds", () => {
      const env = rustEnv({ cargoLto: "off" });
      assert.equal(env.CARGO_PROFILE_RELEASE_LTO, "off");
      assert.equal(env.CARGO_PROFILE_RELEASE_CODEGEN_UNITS, "16");
      assert.equal(env.RUSTFLAGS, "'-C target-feature=+crt-static'", "off links the C runtime in too");
    });

    it("fat (the default) and thin: one codegen unit", () => {
      for (const [options, lto] of [
        [{}, "fat"],
        [{ cargoLto: "fat" }, "fat"],
        [{ cargoLto: "thin" }, "thin"],
      ] as const) {
        const env = rustEnv(options);
        assert.equal(env.CARGO_PROFILE_RELEASE_LTO, lto);
        assert.equal(env.CARGO_PROFILE_RELEASE_CODEGEN_UNITS, "1");
      }
    });

    it("renders off into the build step's exports, and a per-mode target cache", () => {
      const folder = path.join(EXAMPLES, "hello-rust-deps");
      const off = renderBuild(folder, { cargoLto: "off" }, { env: NO_ENV }).dockerfile;
      const fat = renderBuild(folder, {}, { env: NO_ENV }).dockerfile;
      assert.match(off, / CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 /);
      const targetCache = (dockerfile: string) =>
        /id=(minimal-image-rust-target-[0-9a-f]+)/.exec(dockerfile)?.[1];
      assert.ok(targetCache(off));
      assert.notEqual(targetCache(off), targetCache(fat), "another profile is another target directory");
    });
  });

  describe("the static check's advice", () => {
    const RUST_HINT =
      /is not a static binary: \$\*" .*fail "\$msg\. Rust: rustc older than 1\.71 .*rustc-web and cargo-web.*a -sys crate links its C library dynamically/s;

    it("names an old rustc and a -sys crate for Rust, with the fix, in every LTO mode", () => {
      for (const cargoLto of ["fat", "thin", "off"] as const) {
        const { dockerfile } = renderBuild(
          path.join(EXAMPLES, "hello-rust-deps"),
          { cargoLto },
          { env: NO_ENV },
        );
        assert.match(dockerfile, RUST_HINT);
      }
    });

    it("keeps the generic advice for C and Go", () => {
      for (const folder of ["pausle", "hello-go"]) {
        const { dockerfile } = renderBuild(path.join(EXAMPLES, folder), {}, { env: NO_ENV });
        assert.match(dockerfile, /fail "\$msg\. Link it statically: drop -shared\/dynamic flags/);
        assert.doesNotMatch(dockerfile, /rustc-web/);
      }
    });
  });

  it("detects the toolchain from the folder", () => {
    assert.equal(resolveRecipe(path.join(EXAMPLES, "pausle"), {}, { env: NO_ENV }).toolchain, "c");
    assert.equal(resolveRecipe(path.join(EXAMPLES, "hello-go"), {}, { env: NO_ENV }).toolchain, "go");
    assert.equal(resolveRecipe(path.join(EXAMPLES, "hello-rust"), {}, { env: NO_ENV }).toolchain, "rust");
  });

  describe("builder images", () => {
    it("defaults to official images pinned by digest", () => {
      for (const [key, builder] of Object.entries(defaultBuilders())) {
        assert.match(
          builder.image,
          /^[a-z0-9.:/-]+@sha256:[a-f0-9]{64}$/,
          `${key} default must be pinned by digest`,
        );
        assert.ok(builder.setup.length > 0, `${key} default installs what it needs`);
      }
    });

    it("takes an override from the environment, without the default's setup", () => {
      const recipe = resolveRecipe(
        path.join(EXAMPLES, "hello-go"),
        {},
        { env: { MINIMAL_IMAGE_GO_BUILDER: "mirror.internal:5000/golang:1.24" } },
      );
      assert.deepEqual(recipe.builder, { image: "mirror.internal:5000/golang:1.24", setup: [] });
    });

    it("takes setup commands from the environment", () => {
      const env = {
        MINIMAL_IMAGE_C_BUILDER: "mirror.internal/alpine:3",
        MINIMAL_IMAGE_C_SETUP: "apk add gcc musl-dev",
      };
      assert.deepEqual(resolveRecipe(path.join(EXAMPLES, "pausle"), {}, { env }).builder.setup, [
        "apk add gcc musl-dev",
      ]);
    });

    it("prefers the builderImage option over the environment", () => {
      const env = { MINIMAL_IMAGE_C_BUILDER: "from-env/cc:1" };
      const recipe = resolveRecipe(
        path.join(EXAMPLES, "pausle"),
        { builderImage: "mine/cc:2", setup: ["true"] },
        { env },
      );
      assert.deepEqual(recipe.builder, { image: "mine/cc:2", setup: ["true"] });
    });

    it("names the environment variable when its image reference does not parse", () => {
      expectInputError(
        () =>
          resolveRecipe(
            path.join(EXAMPLES, "pausle"),
            {},
            { env: { MINIMAL_IMAGE_C_BUILDER: "Not An Image" } },
          ),
        "MINIMAL_IMAGE_C_BUILDER",
      );
    });
  });

  describe("bad input fails before anything is built, naming the field", () => {
    let emptyDir: string;
    before(() => {
      emptyDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-empty-"));
    });
    after(() => fs.rmSync(emptyDir, { recursive: true, force: true }));

    const pausle = () => path.join(EXAMPLES, "pausle");
    const cases: [string, () => [unknown, unknown], string, RegExp?][] = [
      [
        "a missing source folder",
        () => ["/nonexistent/minimal-image", {}],
        "source",
        /not a readable folder/,
      ],
      ["an empty source folder", () => [emptyDir, {}], "source", /is empty/],
      ["a source that is not a string", () => [42, {}], "source"],
      ["an unknown toolchain", () => [pausle(), { toolchain: "java" }], "recipe.toolchain", /c, go, rust/],
      ["an unknown libc", () => [pausle(), { libc: "uclibc" }], "recipe.libc"],
      [
        "libc on go",
        () => [path.join(EXAMPLES, "hello-go"), { libc: "musl" }],
        "recipe.libc",
        /c toolchain only/,
      ],
      [
        "an LTO mode cargo has but minimal-image does not offer",
        () => [path.join(EXAMPLES, "hello-rust"), { cargoLto: "false" }],
        "recipe.cargoLto",
        /"false" is not supported\. Use one of: fat, thin, off$/,
      ],
      ["cargoLto on c", () => [pausle(), { cargoLto: "thin" }], "recipe.cargoLto", /rust toolchain only/],
      [
        "a build command without output",
        () => [pausle(), { buildCommand: "make" }],
        "recipe.output",
        /required/,
      ],
      [
        "an output outside the build",
        () => [pausle(), { buildCommand: "make", output: "../app" }],
        "recipe.output",
        /outside the source folder/,
      ],
      [
        "an absolute output",
        () => [pausle(), { buildCommand: "make", output: "/usr/bin/app" }],
        "recipe.output",
        /outside/,
      ],
      ["output without a build command", () => [pausle(), { output: "app" }], "recipe.output"],
      [
        "a builder image that does not parse",
        () => [pausle(), { builderImage: "UPPER/Case::x" }],
        "recipe.builderImage",
        /not a valid image reference/,
      ],
      [
        "an entrypoint arg that is not a string",
        () => [pausle(), { entrypointArgs: ["ok", 3] }],
        "recipe.entrypointArgs[1]",
        /expected a string/,
      ],
      [
        "entrypoint args that are not a list",
        () => [pausle(), { entrypointArgs: "x" }],
        "recipe.entrypointArgs",
      ],
      [
        "an unknown extra",
        () => [pausle(), { extras: ["bash"] }],
        "recipe.extras[0]",
        /ca-certificates, zoneinfo, passwd/,
      ],
      ["an unknown option", () => [pausle(), { toolchian: "c" }], "recipe.toolchian", /not a recipe option/],
      ["a bad binary name", () => [pausle(), { binaryName: "../x" }], "recipe.binaryName"],
      [
        "a go package outside the module",
        () => [path.join(EXAMPLES, "hello-go"), { goPackage: "../x" }],
        "recipe.goPackage",
      ],
      ["recipe options that are not an object", () => [pausle(), "c"], "recipe"],
      [
        "no C sources",
        () => [path.join(EXAMPLES, "hello-go"), { toolchain: "c" }],
        "recipe.sources",
        /no \.c files/,
      ],
      [
        "a folder of unknown language",
        () => [path.join(EXAMPLES, "..", "tests", "golden"), {}],
        "recipe.toolchain",
        /cannot tell/,
      ],
      [
        "an output with a Dockerfile line in it",
        () => [pausle(), { buildCommand: "make", output: "app\nRUN echo INJECTED" }],
        "recipe.output",
        /U\+000A .*Remove it: a line break would start a new Dockerfile instruction/,
      ],
      [
        "an output that is the folder itself",
        () => [pausle(), { buildCommand: "make", output: "./" }],
        "recipe.output",
        /source folder itself/,
      ],
      [
        "a C flag with a newline",
        () => [pausle(), { cflags: ["-O2", "-g", "-x\nRUN id"] }],
        "recipe.cflags[2]",
        /U\+000A/,
      ],
      ["a linker flag with a carriage return", () => [pausle(), { ldflags: ["-lm\r"] }], "recipe.ldflags[0]"],
      [
        "a source outside the folder",
        () => [pausle(), { sources: ["../x.c"] }],
        "recipe.sources[0]",
        /outside/,
      ],
      ["an absolute source", () => [pausle(), { sources: ["/etc/passwd"] }], "recipe.sources[0]", /outside/],
      ["an empty setup command", () => [pausle(), { setup: [""] }], "recipe.setup[0]", /is empty/],
      ["a blank build command", () => [pausle(), { buildCommand: "  ", output: "a" }], "recipe.buildCommand"],
      [
        "a build command that continues the Dockerfile line",
        () => [pausle(), { buildCommand: "make \\ ", output: "a" }],
        "recipe.buildCommand",
        /backslash/,
      ],
      [
        "a setup command with a here-document",
        () => [pausle(), { setup: ["cat <<EOF"] }],
        "recipe.setup[0]",
        /here-document.*script inside the source folder/,
      ],
      [
        "an entrypoint arg with NUL",
        () => [pausle(), { entrypointArgs: ["a\0b"] }],
        "recipe.entrypointArgs[0]",
      ],
      [
        "an empty entrypoint arg",
        () => [pausle(), { entrypointArgs: ["a", ""] }],
        "recipe.entrypointArgs[1]",
      ],
      [
        "a go package that climbs out of the module",
        () => [path.join(EXAMPLES, "hello-go"), { goPackage: "./../x" }],
        "recipe.goPackage",
        /outside/,
      ],
    ];
    for (const [what, args, field, pattern] of cases) {
      it(`rejects ${what}`, () =>
        expectInputError(() => renderBuild(...args(), { env: NO_ENV }), field, pattern));
    }

    it("rejects a setup variable with a newline, naming the variable", () => {
      const env = { MINIMAL_IMAGE_C_BUILDER: "mirror.internal/cc", MINIMAL_IMAGE_C_SETUP: "true\nRUN id" };
      expectInputError(() => renderBuild(pausle(), {}, { env }), "MINIMAL_IMAGE_C_SETUP", /U\+000A/);
    });

    describe("names read from the folder are input too", () => {
      let dir: string;
      beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-hostile-"))));
      afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

      it("rejects a C file whose name holds a newline", () => {
        fs.writeFileSync(path.join(dir, "main.c"), "int main(void) { return 0; }\n");
        fs.writeFileSync(path.join(dir, "x\nRUN id\n.c"), "");
        expectInputError(() => renderBuild(dir, {}, { env: NO_ENV }), "recipe.sources", /U\+000A/);
      });

      it("rejects a Cargo.toml binary name that is not a cargo target name", () => {
        fs.writeFileSync(path.join(dir, "Cargo.toml"), '[package]\nname = "x\\"; id; \\""\n');
        expectInputError(
          () => renderBuild(dir, {}, { env: NO_ENV }),
          "recipe.cargoBin",
          /not a cargo target/,
        );
      });
    });
  });

  describe("shell words are quoted where they meet the shell", () => {
    it("quotes the output in the static check and in cp", () => {
      const { dockerfile } = renderBuild(
        path.join(EXAMPLES, "pausle"),
        { buildCommand: "make", output: "out dir/app;id" },
        { env: NO_ENV },
      );
      assert.match(dockerfile, /' static-check '\/src\/out dir\/app;id' 62 x86-64 linux\/amd64 \\\n/);
      assert.match(dockerfile, /^ && cp '\/src\/out dir\/app;id' \/minimal-image\/rootfs\/pausle \\$/m);
    });

    it("keeps a source named like an option from being read as one", () => {
      const { dockerfile } = renderBuild(
        path.join(EXAMPLES, "pausle"),
        { sources: ["-x.c", "./pausle.c"] },
        { env: NO_ENV },
      );
      assert.match(dockerfile, / \.\/-x\.c pausle\.c \$LDFLAGS/);
    });
  });
});
