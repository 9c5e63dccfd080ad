import * as assert from "node:assert/strict";
import { isLoopbackRegistry, pushName, registryApiHost, validateRegistry } from "../components/registry";
import { InputError } from "../components/validation";

function refused(fn: () => unknown, field: string, text?: RegExp): void {
  assert.throws(
    fn,
    (error: unknown) =>
      error instanceof InputError &&
      error.field === field &&
      (text === undefined || text.test(error.message)),
  );
}

describe("registry: the one owner of the registry rules", () => {
  it("accepts host[:port] with or without credentials", () => {
    assert.deepEqual(validateRegistry({ server: "127.0.0.1:5000" }), {
      server: "127.0.0.1:5000",
      username: undefined,
      password: undefined,
    });
    assert.equal(validateRegistry({ server: "r.example", username: "ci", password: "pw" }).username, "ci");
  });

  it("refuses a username with a colon, before anything is declared", () => {
    refused(
      () => validateRegistry({ server: "r.example", username: "a:b", password: "pw" }),
      "registry.username",
      /without `:`/,
    );
  });

  it("refuses a server with a path, half a credential pair and unknown keys", () => {
    refused(() => validateRegistry({ server: "r.example/x" }), "registry.server");
    refused(() => validateRegistry({ server: "r.example", password: "pw" }), "registry.password");
    refused(() => validateRegistry({ server: "r.example", username: "ci" }), "registry.username");
    refused(() => validateRegistry({ server: "r.example", token: "t" }), "registry.token");
  });

  it("names what is pushed, refusing a tag or digest in the image name", () => {
    assert.equal(pushName("127.0.0.1:5000", "team/app", "v1"), "127.0.0.1:5000/team/app:v1");
    refused(() => pushName("127.0.0.1:5000", "app:1", "v1"), "imageName");
    refused(() => pushName("127.0.0.1:5000", "app", "-v"), "tag");
  });

  it("says that a host in the image name goes in registry.server", () => {
    for (const [name, host, rest] of [
      ["127.0.0.1:5000/x", "127.0.0.1:5000", "x"],
      ["registry.example/team/app", "registry.example", "team/app"],
      ["localhost/app", "localhost", "app"],
    ]) {
      refused(
        () => pushName("127.0.0.1:5000", name, "v1"),
        "imageName",
        new RegExp(
          `registry host \\(${host.replace(/\./g, "\\.")}\\).*set registry.server to "${host.replace(/\./g, "\\.")}" and imageName to "${rest}"`,
        ),
      );
    }
  });

  it("speaks plain http to loopback registries only, and maps Docker Hub to its API host", () => {
    for (const host of ["localhost:5000", "127.0.0.1:5000", "127.1.2.3", "[::1]:5000"])
      assert.ok(isLoopbackRegistry(host), host);
    for (const host of ["registry.example", "10.0.0.1:5000", "localhost.example"])
      assert.ok(!isLoopbackRegistry(host), host);
    assert.equal(registryApiHost("docker.io"), "registry-1.docker.io");
    assert.equal(registryApiHost("r.example:443"), "r.example:443");
  });
});
