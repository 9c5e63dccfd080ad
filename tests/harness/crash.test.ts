// The harness under kill -9: of the child that carries the program out, and of the parent that holds the
// lock, each at three points of a run. A rerun then converges (one container per replica, no duplicates)
// and `--down` leaves nothing of the stack: what a killed run made is in its state or carries its labels.
import assert from "node:assert/strict";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import Docker from "dockerode";
import { removeRepositories } from "../support/engine";
import { LOCAL_BUILDERS, LOCAL_REGISTRY, uniqueName } from "../support/env";
import { TestStack } from "../support/stack";

const docker = new Docker({ timeout: 60_000 });
const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");
const COMPILED = path.join(__dirname, "..", "..", "harness", "bin", "harness", "executor", "index.js");
const STATE_LABEL = "io.minimal-image.harness.state";
const REPLICAS = 3;

/** The containers and networks on the engine that carry a stack's labels. */
async function labelled(statePath: string) {
  const filters = { label: [`${STATE_LABEL}=${statePath}`] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return { containers, networks };
}

/** Polls until `probe` holds, at most `ms` milliseconds. */
async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 120_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The pid of a process's only child, once it has one. */
function childOf(pid: number): number | undefined {
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
    return children ? Number(children.split(" ")[0]) : undefined;
  } catch {
    return undefined;
  }
}

const gone = (pid: number) =>
  !fs.existsSync(`/proc/${pid}`) || /\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));

describe("harness crash safety: kill -9 of the child or the parent, then a rerun and --down @integration", function () {
  this.timeout(600_000);
  const name = uniqueName("mi-crash");
  const imageName = `minimal-image-test/${name}`;
  const config = { name, imageName, replicas: JSON.stringify({ count: REPLICAS }) };
  const started: ChildProcess[] = [];
  const stacks: TestStack[] = [];

  before(async () => {
    // One build for every case: the runs below find it in the engine's cache.
    const warm = new TestStack(FIXTURE, `${name}-warm`);
    stacks.push(warm);
    await warm.run(config);
    await warm.destroy();
  });

  after(async () => {
    for (const child of started) child.kill("SIGKILL");
    for (const stack of stacks) {
      await stack.destroy().catch(() => undefined);
      const { containers, networks } = await labelled(stack.statePath);
      for (const c of containers) await docker.getContainer(c.Id).remove({ force: true });
      for (const n of networks) await docker.getNetwork(n.Id).remove();
    }
    await removeRepositories(`${LOCAL_REGISTRY}/${imageName}`);
  });

  const containerStarts = (lines: string[]) =>
    lines.filter((line) => line.startsWith("starting container ")).length;
  const points: [string, (lines: string[]) => boolean][] = [
    ["after the image", (lines) => lines.some((line) => line.startsWith("pulling "))],
    ["mid-containers", (lines) => containerStarts(lines) >= 1],
    ["before the end", (lines) => containerStarts(lines) >= REPLICAS],
  ];

  /**
   * Starts a run in a process of its own (the parent, which runs the program in its child), and kills the
   * victim with SIGKILL as soon as the run's progress shows the point. Resolves with both pids.
   */
  function runAndKill(
    stack: TestStack,
    victim: "child" | "parent",
    point: (lines: string[]) => boolean,
  ): Promise<{ parent: ChildProcess; child: number }> {
    const options = {
      dir: FIXTURE,
      stack: stack.stack,
      statePath: stack.statePath,
      config,
      env: LOCAL_BUILDERS,
    };
    const parent = spawn(
      process.execPath,
      [
        "-e",
        `require(${JSON.stringify(COMPILED)}).runStack(JSON.parse(process.env.RUN_OPTIONS))` +
          ".then(() => process.exit(0), () => process.exit(1))",
      ],
      { env: { ...process.env, RUN_OPTIONS: JSON.stringify(options) }, stdio: ["ignore", "ignore", "pipe"] },
    );
    started.push(parent);
    const lines: string[] = [];
    let rest = "";
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the run never reached the point")), 120_000);
      parent.on("exit", () => reject(new Error(`the run ended before the point:\n${lines.join("\n")}`)));
      parent.stderr?.on("data", (chunk: Buffer) => {
        const parts = (rest + chunk.toString()).split("\n");
        rest = parts.pop() ?? "";
        lines.push(...parts.map((line) => line.trim()));
        if (!point(lines)) return;
        parent.stderr?.removeAllListeners("data");
        clearTimeout(timer);
        const child = childOf(parent.pid ?? 0);
        if (!child) return reject(new Error("the run has no child"));
        process.kill(victim === "child" ? child : (parent.pid ?? 0), "SIGKILL");
        resolve({ parent, child });
      });
    });
  }

  for (const victim of ["child", "parent"] as const) {
    for (const [point, reached] of points) {
      it(`kill -9 of the ${victim} ${point}`, async () => {
        const stack = new TestStack(FIXTURE, `${name}-${victim[0]}${points.findIndex(([p]) => p === point)}`);
        stacks.push(stack);
        const { parent, child } = await runAndKill(stack, victim, reached);
        // The child never outlives its parent, and the parent releases the lock when its child dies.
        await until(`the child ${child} to end`, () => gone(child), 10_000);
        await until(
          "the parent to end",
          () => parent.exitCode !== null || parent.signalCode !== null,
          10_000,
        );

        const rerun = await stack.run(config);
        const names = rerun.records
          .filter((r) => r.type === "docker:index/container:Container")
          .map((r) => r.name);
        const after = await labelled(stack.statePath);
        assert.equal(after.containers.length, REPLICAS, after.containers.map((c) => c.Names[0]).join(", "));
        assert.equal(new Set(after.containers.map((c) => c.Names[0])).size, REPLICAS);
        assert.ok(after.containers.every((c) => c.State === "running"));
        assert.equal(after.networks.length, 1);
        assert.equal(names.length, REPLICAS);

        await stack.run({}, { destroy: true });
        const left = await labelled(stack.statePath);
        assert.deepEqual([left.containers.length, left.networks.length], [0, 0]);
      });
    }
  }
});
