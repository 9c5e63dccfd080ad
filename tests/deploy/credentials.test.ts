// A registry that asks for credentials, through the harness on the real engine: the push, the replicas' pull
// (a Docker provider holding the credentials, which @pulumi/docker's Provider sends JSON-encoded) and the
// recorded inspection all authenticate, and the password is in no output, record, state file or error.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import Docker from "dockerode";
import { removeRepositories } from "../support/engine";
import { uniqueName } from "../support/env";
import { TestRegistry } from "../support/registry";
import { containersOf, TestStack } from "../support/stack";

const docker = new Docker({ timeout: 60_000 });
const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");
const PAUSLE = path.join(__dirname, "..", "..", "examples", "pausle");

describe("replicas from a registry with credentials @integration", function () {
  this.timeout(600_000);
  const username = "ci";
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const name = uniqueName("mi-creds");
  const imageName = `minimal-image-test/creds-${process.pid}`;
  const stack = new TestStack(FIXTURE, name);
  let registry: TestRegistry;

  before(async () => {
    registry = await TestRegistry.start({ username, password });
  });
  after(async () => {
    await stack.destroy();
    await removeRepositories(`${registry.host}/${imageName}`);
    await registry.remove();
  });

  it("pushes, pulls and inspects with the credentials, and shows the password nowhere", async () => {
    const config = {
      name,
      imageName,
      source: PAUSLE,
      registry: registry.host,
      registryUsername: username,
      replicas: JSON.stringify({ count: 2 }),
    };
    const result = await stack.run(config, { secrets: { registryPassword: password } });
    assert.match(String(result.outputs.sizeReport), /static$/, "the inspection authenticated");
    const containers = await containersOf(result, docker);
    assert.equal(containers.size, 2);
    for (const info of containers.values()) assert.equal(info.State.Running, true);
    const seen = [
      JSON.stringify(result.outputs),
      JSON.stringify(result.records),
      fs.readFileSync(stack.statePath, "utf8"),
    ];
    for (const text of seen)
      assert.ok(!text.includes(password), "the password is in no output, record or state");
    // A second run changes nothing, and a failure names no password either.
    const again = await stack.run(config, { secrets: { registryPassword: password } });
    assert.deepEqual(new Set(again.records.map((r) => r.operation)), new Set(["same", "component"]));
    const wrong = `${password}-wrong`;
    await assert.rejects(
      stack.run({ ...config, imageName: `${imageName}-other` }, { secrets: { registryPassword: wrong } }),
      (error: unknown) =>
        error instanceof Error && !error.message.includes(wrong) && !error.message.includes(password),
    );
  });
});
