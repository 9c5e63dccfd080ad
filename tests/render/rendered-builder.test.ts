import * as assert from "node:assert/strict";
import * as path from "node:path";
import { renderBuild, renderedBuilder } from "../../components/render";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");

describe("renderedBuilder: the builder stage of a rendered Dockerfile", () => {
  for (const [example, recipe, variable] of [
    ["pausle", { toolchain: "c" }, "MINIMAL_IMAGE_C_BUILDER"],
    ["pausle", { toolchain: "c", libc: "glibc" }, "MINIMAL_IMAGE_C_GLIBC_BUILDER"],
    ["hello-go", { toolchain: "go" }, "MINIMAL_IMAGE_GO_BUILDER"],
    ["hello-rust", { toolchain: "rust" }, "MINIMAL_IMAGE_RUST_BUILDER"],
  ] as const) {
    it(`names the image and ${variable} for ${JSON.stringify(recipe)}`, () => {
      const { dockerfile } = renderBuild(path.join(EXAMPLES, example), {
        ...recipe,
        builderImage: "mirror/b:1",
      });
      assert.deepEqual(renderedBuilder(dockerfile), {
        image: "mirror/b:1",
        variables: { image: variable, setup: variable.replace(/_BUILDER$/, "_SETUP") },
      });
    });
  }

  it("finds none in a Dockerfile minimal-image did not render", () => {
    assert.equal(renderedBuilder("FROM alpine:3.21 AS build\nRUN true\n"), undefined);
    assert.equal(renderedBuilder('FROM scratch\nLABEL io.minimal-image.toolchain="c"\n'), undefined);
  });
});
