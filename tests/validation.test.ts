import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { formatPath, InputError, integer, oneOf, record, rejectUnknownKeys } from "../components/validation";

describe("validation: the one kit", () => {
  it("formats a path as code would name the field", () => {
    assert.equal(
      formatPath(["replicas", "publishedPorts", 0, "hostPort"]),
      "replicas.publishedPorts[0].hostPort",
    );
    assert.equal(
      formatPath(["replicas", "labels", "app.kubernetes.io/name"]),
      'replicas.labels["app.kubernetes.io/name"]',
    );
    assert.equal(formatPath(["--extra", 1]), "--extra[1]");
    assert.equal(formatPath(["MINIMAL_IMAGE_C_BUILDER"]), "MINIMAL_IMAGE_C_BUILDER");
  });

  it("carries the path as an array and names the field, the problem and the fix", () => {
    const error = new InputError(["recipe", "sources", 2], "is empty", "Give a file");
    assert.deepEqual(error.path, ["recipe", "sources", 2]);
    assert.equal(error.field, "recipe.sources[2]");
    assert.equal(error.message, "minimal-image: recipe.sources[2]: is empty. Give a file");
  });

  it("refuses what each helper does not accept, naming the path", () => {
    const at = ["x", "y"] as const;
    const field = (fn: () => unknown) =>
      assert.throws(fn, (error: unknown) => error instanceof InputError && error.field === "x.y");
    field(() => integer(1.5, at, 0, 10));
    field(() => integer(11, at, 0, 10));
    field(() => oneOf("c", ["a", "b"], at));
    field(() => record([], at));
    field(() => record(pulumi.output({}), at));
    assert.throws(
      () => rejectUnknownKeys({ a: 1, z: 2 }, ["a"], ["x"], "an option"),
      (error: unknown) =>
        error instanceof InputError && error.field === "x.z" && /is not an option/.test(error.message),
    );
  });
});
