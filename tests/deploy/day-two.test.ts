// Day two on the real engine, through the harness: the second and later updates of a stack with replicas.
// The harness diffs the way the bridged provider does, against the state its Read stored
// (terraform-provider-docker resourceDockerContainerRead), so a declared value that reads back in another
// form shows here as it would under `pulumi up`: as a replacement on every update.
import assert from "node:assert/strict";
import * as path from "node:path";
import Docker from "dockerode";
import { StackRunError } from "../../harness/executor";
import { StepReporter } from "../../harness/engine/progress";
import { Executor } from "../../harness/executor/executor";
import { removeRepositories } from "../support/engine";
import { freePort, LOCAL_REGISTRY, uniqueName } from "../support/env";
import { TestRegistry } from "../support/registry";
import { containersOf, TestStack } from "../support/stack";

const docker = new Docker({ timeout: 60_000 });
const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");
const PAUSLE = path.join(__dirname, "..", "..", "examples", "pausle");

describe("day two: diffs against what the provider reads back", () => {
  const CONTAINER = "docker:index/container:Container";
  const urn = `urn:pulumi:dev::p::${CONTAINER}::app-0`;
  const inputs = (cpus: string) => ({ name: "app-0", image: "sha256:1", cpus });
  /** A preview against a state whose container was read back with cpus "1.0", as the provider's Read stores 1e9. */
  const previewWith = async (declared: string) => {
    const stored = { ...inputs("1"), restart: "no", mustRun: true, start: true };
    const executor = new Executor(
      {
        resources: {
          [urn]: { type: CONTAINER, id: "c1", inputs: stored, outputs: { ...stored, cpus: "1.0", id: "c1" } },
        },
      },
      true,
      {
        programDir: process.cwd(),
        steps: new StepReporter({ write: () => true, tty: false }),
        owner: { project: "p", stack: "dev", statePath: "/nonexistent/state.json" },
        secretKey: Buffer.alloc(32),
      },
    );
    await executor.register(
      { urn, type: CONTAINER, name: "app-0", custom: true, inputs: inputs(declared) } as never,
      Symbol("unknown"),
    );
    return executor.records[0].operation;
  };

  it('replaces a container declared with cpus "1" that reads back as "1.0", as the provider would', async () => {
    assert.equal(await previewWith("1"), "replace");
  });

  it('keeps a container declared in the read-back form "1.0"', async () => {
    assert.equal(await previewWith("1.0"), "same");
  });
});

describe("day two: later updates of Docker replicas on the real engine @integration", function () {
  this.timeout(600_000);
  const name = uniqueName("mi-day2");
  const imageName = `minimal-image-test/day2-${process.pid}`;
  const stack = new TestStack(FIXTURE, name);
  const config = (replicas: object, extra: Record<string, string> = {}) => ({
    name,
    imageName,
    source: PAUSLE,
    replicas: JSON.stringify(replicas),
    ...extra,
  });

  after(async () => {
    await stack.destroy();
    await removeRepositories(`${LOCAL_REGISTRY}/${imageName}`);
  });

  it("cpuMillis 1000 (declared as the provider reads it back) gives a no-op second update", async () => {
    const first = await containersOf(await stack.run(config({ count: 2, cpuMillis: 1000 })), docker);
    for (const info of first.values()) assert.equal(info.HostConfig.NanoCpus, 1_000_000_000);
    const again = await stack.run(config({ count: 2, cpuMillis: 1000 }));
    assert.deepEqual(new Set(again.records.map((r) => r.operation)), new Set(["same", "component"]));
  });

  it("an edited single replica with a fixed host port is replaced in place and keeps that port", async () => {
    const port = await freePort();
    const replicas = { count: 1, ports: [8080], publishedPorts: [{ port: 8080, hostPort: port }] };
    const first = await containersOf(await stack.run(config(replicas)), docker);
    // An edit that changes the pushed image (a comment would not: builds are reproducible).
    const edited = { recipe: JSON.stringify({ toolchain: "c", extras: ["passwd"] }) };
    const second = await containersOf(await stack.run(config(replicas, edited)), docker);
    assert.deepEqual([...second.keys()], [...first.keys()], "the same replica name");
    const [info] = second.values();
    assert.notEqual(info.Id, [...first.values()][0].Id, "a new container, of the edited build");
    assert.equal(info.State.Running, true);
    assert.equal(info.HostConfig.PortBindings?.["8080/tcp"]?.[0]?.HostPort, String(port));
  });

  it("a container already holding a replica's name fails clearly, and once it is gone a rerun converges", async () => {
    const replicas = { count: 1, cpuMillis: 200 };
    const preview = await stack.run(config(replicas), { preview: true });
    const planned = preview.records.find(
      (r) => r.type === "docker:index/container:Container" && r.operation === "create",
    );
    assert.ok(planned, "a new replica is planned");
    const squatter = await docker.createContainer({
      Image: "minimal-image-builder/c:local",
      name: planned.name,
      Cmd: ["true"],
    });
    try {
      await assert.rejects(
        stack.run(config(replicas)),
        (error: unknown) =>
          error instanceof StackRunError &&
          error.message.includes(planned.name) &&
          /409|in use|Conflict/i.test(error.message),
      );
    } finally {
      await squatter.remove({ force: true });
    }
    const converged = await stack.run(config(replicas));
    const containers = await containersOf(converged, docker);
    assert.deepEqual([...containers.keys()], [planned.name]);
    assert.equal([...containers.values()][0].State.Running, true);
  });

  it("an update that pushes nothing new survives a registry outage: the inspection is kept in state by digest", async () => {
    const registry = await TestRegistry.start();
    const outage = new TestStack(FIXTURE, `${name}-outage`);
    const settings = { ...config({ count: 1 }), name: `${name}-outage`, registry: registry.host };
    try {
      const first = await outage.run(settings);
      assert.match(String(first.outputs.sizeReport), /static$/);
      await registry.stop();
      await assert.rejects(
        fetch(`http://${registry.host}/v2/`, { signal: AbortSignal.timeout(1_000) }),
        "the registry is down",
      );
      const again = await outage.run(settings);
      assert.deepEqual(new Set(again.records.map((r) => r.operation)), new Set(["same", "component"]));
      assert.equal(again.outputs.sizeReport, first.outputs.sizeReport, "the figures come from state");
    } finally {
      await outage.destroy();
      await removeRepositories(`${registry.host}/${imageName}`);
      await registry.remove();
    }
  });
});
