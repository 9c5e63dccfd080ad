import * as assert from "node:assert/strict";
import { isDigest, parseImageReference, validateTag } from "../components/reference";
import { InputError } from "../components/validation";

const SHA256 = `sha256:${"a".repeat(64)}`;
const SHA512 = `sha512:${"b".repeat(128)}`;

describe("reference: the one reference and digest grammar", () => {
  it("splits host, repository, tag and digest, with Docker Hub's defaults", () => {
    assert.deepEqual(parseImageReference(`127.0.0.1:5000/team/app:v1@${SHA256}`, "ref"), {
      registry: "127.0.0.1:5000",
      repository: "team/app",
      tag: "v1",
      digest: SHA256,
    });
    assert.deepEqual(parseImageReference("alpine", "ref"), {
      registry: "docker.io",
      repository: "library/alpine",
      tag: undefined,
      digest: undefined,
    });
  });

  it("accepts sha256 and sha512 digests, and nothing else, everywhere", () => {
    assert.ok(isDigest(SHA256) && isDigest(SHA512));
    for (const bad of [`sha256:${"a".repeat(63)}`, `md5:${"a".repeat(32)}`, `SHA256:${"a".repeat(64)}`, 1]) {
      assert.ok(!isDigest(bad), String(bad));
    }
    assert.equal(parseImageReference(`app@${SHA512}`, "ref").digest, SHA512);
    assert.throws(() => parseImageReference(`app@sha1:${"a".repeat(40)}`, ["imageRef"]), InputError);
  });

  it("refuses a bad port, a bad tag and a non-string, naming the field", () => {
    for (const [bad, check] of [
      ["host:70000/app", () => parseImageReference("host:70000/app", ["x"])],
      ["-tag", () => validateTag("-tag", ["x"])],
      ["42", () => parseImageReference(42, ["x"])],
    ] as const) {
      assert.throws(check, (error: unknown) => error instanceof InputError && error.field === "x", bad);
    }
  });
});
