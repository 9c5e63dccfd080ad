import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { dockerReplicaSpecs } from "../../components/deploy/docker";
import { listReplicas, removeContainers, startContainers } from "../../components/deploy/engine";
import { ReplicaOptionsInput } from "../../components/deploy/options";
import { dockerOptions } from "./fixtures";

const REPOSITORY = "127.0.0.1:5000/minimal-image-test/pausle-deploy";
const TAG = `${REPOSITORY}:t`;
const MiB = 1024 * 1024;
// Every engine call is bounded: a hung daemon fails the test instead of stalling the run.
const docker = new Docker({ timeout: 60_000 });

function run(command: string, args: string[], cwd?: string): string {
  return execFileSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** Builds the static pausle into a FROM scratch image, pushes it and returns its digest reference. */
function buildPausleImage(dir: string): string {
  writeFileSync(join(dir, "p.c"), "#include <unistd.h>\nint main(void){return pause();}\n");
  run("cc", ["-static", "-Os", "-s", "p.c", "-o", "pausle"], dir);
  writeFileSync(
    join(dir, "Dockerfile"),
    'FROM scratch\nCOPY pausle /pausle\nUSER 65532:65532\nENTRYPOINT ["/pausle"]\n',
  );
  run("docker", ["build", "-q", "-t", TAG, dir]);
  run("docker", ["push", "-q", TAG]);
  const digests: string[] = JSON.parse(
    run("docker", ["image", "inspect", "-f", "{{json .RepoDigests}}", TAG]),
  );
  const ref = digests.find((d) => d.startsWith(`${REPOSITORY}@sha256:`));
  assert.ok(ref, `no digest of ${REPOSITORY} in ${digests}`);
  return ref;
}

/** Fields of /proc/<pid>/status, e.g. `Uid`, `CapEff`, `VmRSS`. */
function procStatus(pid: number): Record<string, string> {
  const lines = readFileSync(`/proc/${pid}/status`, "utf8").trim().split("\n");
  return Object.fromEntries(lines.map((line) => line.split(/:\s+/, 2) as [string, string]));
}

describe("deploy: Docker engine @integration", function () {
  this.timeout(300_000);
  const name = `mi-deploy-${process.pid}-${Date.now().toString(36)}`;
  const used = new Set<string>();
  let dir: string;
  let imageRef: string;

  function specs(input: ReplicaOptionsInput, setName = name) {
    used.add(setName);
    return dockerReplicaSpecs({ name: setName, imageRef, options: dockerOptions(input) });
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "minimal-image-deploy-"));
    imageRef = buildPausleImage(dir);
  });

  after(async () => {
    for (const setName of used)
      await removeContainers(
        (await listReplicas(setName, docker)).map((r) => r.name),
        docker,
      );
    try {
      run("docker", ["image", "rm", TAG]);
    } catch {
      // Already gone, or still used by a container another run left behind: not this run's to force.
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs 3 replicas as 65532 with a read-only root, no capabilities and a memory limit", async () => {
    const started = await startContainers(specs({ count: 3 }), docker);
    assert.deepEqual(
      started.map((c) => [c.name, c.created]),
      [0, 1, 2].map((i) => [`${name}-${i}`, true]),
    );
    const replicas = await listReplicas(name, docker);
    assert.deepEqual(
      replicas.map((r) => [r.index, r.state]),
      [0, 1, 2].map((i) => [i, "running"]),
    );
    for (const replica of replicas) {
      const info = await docker.getContainer(replica.id).inspect();
      assert.equal(info.Config.Image, imageRef, "run by digest");
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
      console.log(`      ${replica.name}: VmRSS ${status.VmRSS}`);
    }
  });

  it("scales 3 -> 5 -> 2, creating and removing only the difference", async () => {
    const before = await listReplicas(name, docker);
    assert.equal(before.length, 3);

    const grown = await startContainers(specs({ count: 5 }), docker);
    assert.deepEqual(
      grown.map((c) => c.created),
      [false, false, false, true, true],
    );
    const five = await listReplicas(name, docker);
    assert.deepEqual(
      five.slice(0, 3).map((r) => r.id),
      before.map((r) => r.id),
    );
    assert.deepEqual(
      five.map((r) => r.state),
      Array(5).fill("running"),
    );

    const desired = new Set(specs({ count: 2 }).map((spec) => spec.name));
    await removeContainers(
      five.filter((r) => !desired.has(r.name)).map((r) => r.name),
      docker,
    );
    const shrunk = await startContainers(specs({ count: 2 }), docker);
    assert.deepEqual(
      shrunk.map((c) => c.created),
      [false, false],
    );
    const two = await listReplicas(name, docker);
    assert.deepEqual(
      two.map((r) => r.id),
      before.slice(0, 2).map((r) => r.id),
    );
  });

  it("replaces a replica whose spec changed", async () => {
    const before = await listReplicas(name, docker);
    const changed = await startContainers(specs({ count: 2, args: ["--changed"] }), docker);
    assert.deepEqual(
      changed.map((c) => c.created),
      [true, true],
    );
    const after = await listReplicas(name, docker);
    assert.equal(after.length, 2);
    for (const [i, replica] of after.entries()) assert.notEqual(replica.id, before[i].id);
    const info = await docker.getContainer(after[0].id).inspect();
    assert.deepEqual(info.Config.Cmd, ["--changed"]);
  });

  it("leaves alone a container of the same name that it did not create", async () => {
    const setName = `${name}-foreign`;
    const foreign = await docker.createContainer({ Image: imageRef, name: `${setName}-0` });
    try {
      await assert.rejects(
        startContainers(specs({ count: 1 }, setName), docker),
        /not a minimal-image replica/,
      );
      assert.equal((await foreign.inspect()).Id, foreign.id);
    } finally {
      await foreign.remove({ force: true });
    }
  });

  it("publishes a port on 127.0.0.1 at a port Docker picks", async () => {
    const setName = `${name}-pub`;
    const [started] = await startContainers(
      specs({ count: 1, ports: [8080], publishedPorts: [{ port: 8080 }] }, setName),
      docker,
    );
    const info = await docker.getContainer(started.id).inspect();
    const [binding] = info.NetworkSettings.Ports["8080/tcp"];
    assert.equal(binding.HostIp, "127.0.0.1");
    assert.ok(Number(binding.HostPort) > 0, `host port ${binding.HostPort}`);
  });
});
