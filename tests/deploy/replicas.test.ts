import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { StackRunError, StackRunResult } from "../../harness/executor";
import { removeRepositories } from "../support/engine";
import { LOCAL_REGISTRY } from "../support/env";
import { containersOf, TestStack } from "../support/stack";

const MiB = 1024 * 1024;
// Every engine call is bounded: a hung daemon fails the test instead of stalling the run.
const docker = new Docker({ timeout: 60_000 });
const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");
const GREETING_SOURCE = path.join(__dirname, "..", "fixtures", "greeting");
const PAUSLE_SOURCE = path.join(__dirname, "..", "..", "examples", "pausle");

/** Fields of /proc/<pid>/status, e.g. `Uid`, `CapEff`, `VmRSS`. */
function procStatus(pid: number): Record<string, string> {
  const lines = fs.readFileSync(`/proc/${pid}/status`, "utf8").trim().split("\n");
  return Object.fromEntries(lines.map((line) => line.split(/:\s+/, 2) as [string, string]));
}

/** The digest a tag points at in the local registry, as the registry itself answers. */
async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
  const response = await fetch(`http://${LOCAL_REGISTRY}/v2/${repository}/manifests/${tag}`, {
    method: "HEAD",
    headers: { accept: "application/vnd.docker.distribution.manifest.v2+json" },
    signal: AbortSignal.timeout(10_000),
  });
  return response.ok ? (response.headers.get("docker-content-digest") ?? undefined) : undefined;
}

/** The container records of a run. */
const containerRecords = (result: StackRunResult) =>
  result.records.filter((record) => record.type === "docker:index/container:Container");

describe("replicas: the component's Docker resources on the real engine @integration", function () {
  this.timeout(600_000);
  const name = `mi-replicas-${process.pid}-${Date.now().toString(36)}`;
  const imageName = `minimal-image-test/replicas-${process.pid}`;
  const stack = new TestStack(FIXTURE, name);
  const config = (replicas: object, extra: Record<string, string> = {}) => ({
    name,
    imageName,
    replicas: JSON.stringify(replicas),
    ...extra,
  });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-replicas-"));

  after(async () => {
    await stack.destroy();
    // What the stacks leave on the engine by design: docker.Image's build (its delete keeps it) and the
    // replicas' pulls (RemoteImage with keepLocally).
    await removeRepositories(
      ...["", "-gate", "-greeting"].map((suffix) => `${LOCAL_REGISTRY}/${imageName}${suffix}`),
    );
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("runs 3 replicas by digest as 65532, read-only, without capabilities, within memory and CPU limits, on a network of their own", async () => {
    const result = await stack.run(config({ count: 3 }));
    const imageRef = String(result.outputs.imageRef);
    assert.match(imageRef, new RegExp(`^127\\.0\\.0\\.1:5000/${imageName}@sha256:[a-f0-9]{64}$`));
    const containers = await containersOf(result, docker);
    assert.equal(containers.size, 3);
    const pulled = await docker.getImage(imageRef).inspect();
    for (const [resource, info] of containers) {
      assert.match(resource, new RegExp(`^${name}-[0-9a-f]{8}-[0-2]$`));
      assert.equal(info.Name, `/${resource}`);
      assert.equal(info.Image, pulled.Id, `${resource} runs the pushed digest`);
      assert.equal(info.State.Running, true);
      assert.equal(info.Config.User, "65532:65532");
      assert.equal(info.HostConfig.ReadonlyRootfs, true);
      assert.deepEqual(info.HostConfig.CapDrop, ["ALL"]);
      assert.deepEqual(info.HostConfig.SecurityOpt, ["no-new-privileges:true"]);
      assert.equal(info.HostConfig.Memory, 64 * MiB);
      assert.equal(info.HostConfig.MemorySwap, 64 * MiB);
      assert.equal(info.HostConfig.NanoCpus, 500_000_000);
      assert.equal(info.HostConfig.RestartPolicy?.Name, "unless-stopped");
      const networks = Object.keys(info.NetworkSettings.Networks);
      assert.deepEqual(networks, [info.HostConfig.NetworkMode]);
      assert.match(networks[0], new RegExp(`^${name}-[0-9a-f]{8}-net$`), "not the default bridge");
      // What the kernel enforces on the running process, not only what Docker recorded.
      const status = procStatus(info.State.Pid);
      assert.equal(status.Uid, "65532\t65532\t65532\t65532");
      assert.equal(status.Gid, "65532\t65532\t65532\t65532");
      assert.equal(status.CapEff, "0000000000000000");
      assert.equal(status.CapBnd, "0000000000000000");
      assert.equal(status.NoNewPrivs, "1");
      const root = fs
        .readFileSync(`/proc/${info.State.Pid}/mountinfo`, "utf8")
        .split("\n")
        .find((line) => line.split(" ")[4] === "/");
      assert.match(root ?? "", /^\S+ \S+ \S+ \S+ \/ (\S*,)?ro[, ]/, `root mount: ${root}`);
    }
  });

  it("an unchanged program changes nothing, and its preview carries out nothing", async () => {
    const preview = await stack.run(config({ count: 3 }), { preview: true });
    assert.deepEqual(new Set(preview.records.map((r) => r.operation)), new Set(["same", "component"]));
    const again = await stack.run(config({ count: 3 }));
    assert.deepEqual(new Set(again.records.map((r) => r.operation)), new Set(["same", "component"]));
  });

  it("a preview of a bigger count plans the new replica and starts none", async () => {
    const before = new Set((await docker.listContainers({ all: true })).map((c) => c.Id));
    const preview = await stack.run(config({ count: 4 }), { preview: true });
    const planned = containerRecords(preview).filter((r) => r.operation === "create");
    assert.equal(planned.length, 1);
    assert.match(planned[0].name, /-3$/);
    const after = (await docker.listContainers({ all: true })).map((c) => c.Id);
    assert.deepEqual(
      after.filter((id) => !before.has(id)),
      [],
    );
  });

  it("scales 3 -> 5 -> 2, creating and removing only the difference", async () => {
    const before = await containersOf(await stack.run(config({ count: 3 })), docker);
    const five = await stack.run(config({ count: 5 }));
    const created = containerRecords(five).filter((r) => r.operation === "create");
    assert.deepEqual(created.map((r) => r.name.slice(-2)).sort(), ["-3", "-4"]);
    const fiveContainers = await containersOf(five, docker);
    for (const [resource, info] of before) assert.equal(fiveContainers.get(resource)?.Id, info.Id);

    const two = await containersOf(await stack.run(config({ count: 2 })), docker);
    assert.equal(two.size, 2);
    for (const [resource, info] of two) assert.equal(info.Id, before.get(resource)?.Id);
    for (const [resource] of fiveContainers) {
      if (!two.has(resource))
        await assert.rejects(docker.getContainer(resource).inspect(), /no such container/i);
    }
  });

  it("a new image starts its generation while the old one still runs, then removes the old one", async () => {
    const first = await containersOf(await stack.run(config({ count: 2 })), docker);
    const source = path.join(work, "pausle-b");
    fs.cpSync(PAUSLE_SOURCE, source, { recursive: true });
    fs.appendFileSync(path.join(source, "pausle.c"), "\n/* generation B */\n");
    const since = Math.floor(Date.now() / 1000) - 1;
    const second = await stack.run(config({ count: 2 }, { source }));
    const until = Math.floor(Date.now() / 1000) + 1;
    const secondContainers = await containersOf(second, docker);
    assert.equal(secondContainers.size, 2);
    for (const resource of secondContainers.keys()) assert.ok(!first.has(resource), `${resource} is new`);
    const events = await docker.getEvents({ since, until, filters: { type: ["container"] } });
    const lines = (
      await new Promise<string>((resolve, reject) => {
        let text = "";
        events.on("data", (chunk: Buffer) => (text += chunk.toString()));
        events.on("end", () => resolve(text));
        events.on("error", reject);
      })
    )
      .split("\n")
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as { Action: string; Actor: { Attributes: { name: string } }; timeNano: number },
      );
    const at = (action: string, names: Iterable<string>) => {
      const wanted = new Set(names);
      return lines
        .filter((e) => e.Action === action && wanted.has(e.Actor.Attributes.name))
        .map((e) => e.timeNano);
    };
    const newStarted = Math.max(...at("start", secondContainers.keys()));
    const oldDestroyed = Math.min(...at("destroy", first.keys()));
    assert.ok(Number.isFinite(newStarted) && Number.isFinite(oldDestroyed), "both events were seen");
    assert.ok(newStarted < oldDestroyed, "the new generation started before the old one was removed");
    for (const resource of first.keys())
      await assert.rejects(docker.getContainer(resource).inspect(), /no such container/i);
  });

  it("publishes a port on 127.0.0.1 at a port Docker picks, and reports it among the outputs", async () => {
    const published = config({ count: 1, ports: [8080], publishedPorts: [{ port: 8080 }] });
    const result = await stack.run(published);
    const [info] = (await containersOf(result, docker)).values();
    const [binding] = info.NetworkSettings.Ports["8080/tcp"];
    assert.equal(binding.HostIp, "127.0.0.1");
    assert.ok(Number(binding.HostPort) > 0, `host port ${binding.HostPort}`);
    const reported = {
      [info.Name.slice(1)]: [{ port: 8080, hostIp: "127.0.0.1", hostPort: Number(binding.HostPort) }],
    };
    assert.deepEqual(result.outputs.replicaPorts, reported);
    // The picked port read back is no change: the next run keeps the container and reports the same port.
    const again = await stack.run(published);
    assert.deepEqual(
      containerRecords(again).map((record) => record.operation),
      ["same"],
    );
    assert.deepEqual(again.outputs.replicaPorts, reported);
  });

  it("the same program in two stacks on one engine runs under disjoint names", async () => {
    const other = new TestStack(FIXTURE, `${name}-other`);
    try {
      const mine = await containersOf(await stack.run(config({ count: 2 })), docker);
      const theirs = await containersOf(await other.run(config({ count: 2 })), docker);
      const names = [...mine.keys(), ...theirs.keys()];
      assert.equal(new Set(names).size, 4, names.join(", "));
      for (const info of [...mine.values(), ...theirs.values()]) {
        assert.equal((await docker.getContainer(info.Id).inspect()).State.Running, true);
      }
    } finally {
      await other.destroy();
    }
  });

  it("bakes build arguments into the build", async () => {
    const greeting = new TestStack(FIXTURE, `${name}-greeting`);
    try {
      const recipe = {
        toolchain: "c",
        buildCommand: '"$CC" $CFLAGS -DGREETING="\\"$GREETING\\"" -o greeting greeting.c $LDFLAGS',
        output: "greeting",
      };
      const result = await greeting.run({
        ...config({ count: 1 }),
        name: `${name}-greeting`,
        imageName: `${imageName}-greeting`,
        source: GREETING_SOURCE,
        recipe: JSON.stringify(recipe),
        buildArgs: JSON.stringify({ GREETING: "hi" }),
      });
      const [info] = (await containersOf(result, docker)).values();
      const logs = await docker.getContainer(info.Id).logs({ stdout: true, stderr: true });
      assert.match(logs.toString("latin1"), /hi/);
    } finally {
      await greeting.destroy();
    }
  });

  for (const [what, extra, message] of [
    ["over maxImageBytes", { maxImageBytes: "1000" }, /over maxImageBytes \(1000\)/],
    [
      "not static",
      {
        recipe: JSON.stringify({ toolchain: "c", buildCommand: "cc -o dyn pausle.c", output: "dyn" }),
      },
      /is not a static binary/,
    ],
  ] as const) {
    it(`an image ${what} fails in its build, and the registry's tag keeps the previous digest`, async () => {
      const gate = new TestStack(FIXTURE, `${name}-gate`);
      const gated = { ...config({ count: 1 }), name: `${name}-gate`, imageName: `${imageName}-gate` };
      try {
        await gate.run(gated);
        const before = await tagDigest(`${imageName}-gate`, "latest");
        assert.ok(before);
        await assert.rejects(
          gate.run({ ...gated, ...extra }),
          (error: unknown) => error instanceof StackRunError && message.test(error.message),
        );
        assert.equal(await tagDigest(`${imageName}-gate`, "latest"), before);
      } finally {
        await gate.destroy();
      }
    });
  }
});
