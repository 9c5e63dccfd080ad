import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { StackRunError } from "../../scripts/executor";
import { LOCAL_BUILDERS } from "../support/env";
import { containersOf, TestStack } from "../support/stack";

const MiB = 1024 * 1024;
// Every engine call is bounded: a hung daemon fails the test instead of stalling the run.
const docker = new Docker({ timeout: 60_000 });
const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");

/** Fields of /proc/<pid>/status, e.g. `Uid`, `CapEff`, `VmRSS`. */
function procStatus(pid: number): Record<string, string> {
  const lines = readFileSync(`/proc/${pid}/status`, "utf8").trim().split("\n");
  return Object.fromEntries(lines.map((line) => line.split(/:\s+/, 2) as [string, string]));
}

describe("replicas: the component's Docker resources on the real engine @integration", function () {
  this.timeout(600_000);
  const name = `mi-replicas-${process.pid}-${Date.now().toString(36)}`;
  const stack = new TestStack(FIXTURE, name);
  const config = (replicas: object) => ({
    name,
    imageName: "minimal-image-test/replicas",
    replicas: JSON.stringify(replicas),
  });

  after(() => stack.destroy());

  it("runs 3 replicas by digest as 65532 with a read-only root, no capabilities and a memory limit", async () => {
    const result = await stack.run(config({ count: 3 }));
    const imageRef = String(result.outputs.imageRef);
    assert.match(imageRef, /^127\.0\.0\.1:5000\/minimal-image-test\/replicas@sha256:[a-f0-9]{64}$/);
    const containers = await containersOf(result, docker);
    assert.deepEqual(
      [...containers.keys()].sort(),
      [0, 1, 2].map((i) => `${name}-${i}`),
    );
    const pulled = await docker.getImage(imageRef).inspect();
    for (const [resource, info] of containers) {
      assert.equal(info.Image, pulled.Id, `${resource} runs the pushed digest`);
      assert.equal(info.State.Running, true);
      assert.equal(info.Config.User, "65532:65532");
      assert.equal(info.HostConfig.ReadonlyRootfs, true);
      assert.deepEqual(info.HostConfig.CapDrop, ["ALL"]);
      assert.deepEqual(info.HostConfig.SecurityOpt, ["no-new-privileges:true"]);
      assert.equal(info.HostConfig.Memory, 64 * MiB);
      assert.equal(info.HostConfig.MemorySwap, 64 * MiB);
      assert.equal(info.HostConfig.RestartPolicy?.Name, "unless-stopped");
      // What the kernel enforces on the running process, not only what Docker recorded.
      const status = procStatus(info.State.Pid);
      assert.equal(status.Uid, "65532\t65532\t65532\t65532");
      assert.equal(status.Gid, "65532\t65532\t65532\t65532");
      assert.equal(status.CapEff, "0000000000000000");
      assert.equal(status.CapBnd, "0000000000000000");
      assert.equal(status.NoNewPrivs, "1");
      const root = readFileSync(`/proc/${info.State.Pid}/mountinfo`, "utf8")
        .split("\n")
        .find((line) => line.split(" ")[4] === "/");
      assert.match(root ?? "", /^\S+ \S+ \S+ \S+ \/ (\S*,)?ro[, ]/, `root mount: ${root}`);
    }
  });

  it("an unchanged program changes nothing, and its preview carries out nothing", async () => {
    const preview = await stack.run(config({ count: 3 }), { preview: true });
    assert.deepEqual(new Set(preview.records.map((r) => r.operation)), new Set(["same"]));
    const again = await stack.run(config({ count: 3 }));
    assert.deepEqual(new Set(again.records.map((r) => r.operation)), new Set(["same"]));
  });

  it("a preview of a bigger count plans the new replicas and starts none", async () => {
    const preview = await stack.run(config({ count: 4 }), { preview: true });
    const planned = preview.records.filter((r) => r.operation === "create").map((r) => r.name);
    assert.deepEqual(planned, [`${name}-3`]);
    await assert.rejects(docker.getContainer(`${name}-3`).inspect(), /no such container/i);
  });

  it("scales 3 -> 5 -> 2, creating and removing only the difference", async () => {
    const before = await containersOf(await stack.run(config({ count: 3 })), docker);
    const five = await stack.run(config({ count: 5 }));
    const created = five.records.filter((r) => r.operation === "create").map((r) => r.name);
    assert.deepEqual(created.sort(), [`${name}-3`, `${name}-4`]);
    const fiveContainers = await containersOf(five, docker);
    for (const [resource, info] of before) assert.equal(fiveContainers.get(resource)?.Id, info.Id);

    const two = await containersOf(await stack.run(config({ count: 2 })), docker);
    assert.deepEqual([...two.keys()].sort(), [`${name}-0`, `${name}-1`]);
    for (const [resource, info] of two) assert.equal(info.Id, before.get(resource)?.Id);
    for (const gone of [2, 3, 4]) {
      await assert.rejects(docker.getContainer(`${name}-${gone}`).inspect(), /no such container/i);
    }
  });

  it("replaces replicas whose arguments changed", async () => {
    const before = await containersOf(await stack.run(config({ count: 2 })), docker);
    const changed = await stack.run(config({ count: 2, args: ["--changed"] }));
    assert.deepEqual(
      changed.records.filter((r) => r.type.endsWith("Container")).map((r) => r.operation),
      ["replace", "replace"],
    );
    for (const [resource, info] of await containersOf(changed, docker)) {
      assert.notEqual(info.Id, before.get(resource)?.Id);
      assert.deepEqual(info.Config.Cmd, ["--changed"]);
    }
  });

  it("publishes a port on 127.0.0.1 at a port Docker picks", async () => {
    const result = await stack.run(config({ count: 1, ports: [8080], publishedPorts: [{ port: 8080 }] }));
    const [info] = (await containersOf(result, docker)).values();
    const [binding] = info.NetworkSettings.Ports["8080/tcp"];
    assert.equal(binding.HostIp, "127.0.0.1");
    assert.ok(Number(binding.HostPort) > 0, `host port ${binding.HostPort}`);
  });

  it("fails clearly on a container of the same name that it did not create, and leaves it alone", async () => {
    const other = new TestStack(FIXTURE, `${name}-foreign`);
    const foreignName = `${name}-foreign-0`;
    const foreign = await docker.createContainer({
      Image: LOCAL_BUILDERS.MINIMAL_IMAGE_C_BUILDER,
      name: foreignName,
    });
    try {
      await assert.rejects(
        other.run({ ...config({ count: 1 }), name: `${name}-foreign` }),
        (error: unknown) =>
          error instanceof StackRunError &&
          /container name "\/[^"]+-foreign-0" is already in use/.test(error.message),
      );
      assert.equal((await foreign.inspect()).Id, foreign.id);
    } finally {
      await foreign.remove({ force: true });
      await other.destroy();
    }
  });
});
