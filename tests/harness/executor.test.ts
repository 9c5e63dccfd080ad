// The local executor's own rules: where Pulumi would run a program, one run per stack at a time, engine
// errors said in terms a user can act on, and a RemoteImage's deletion as the provider carries it out.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { buildContext } from "../../harness/engine/build";
import { StepReporter } from "../../harness/engine/progress";
import { engineError } from "../../harness/engine/engine-error";
import { pushLocally } from "../../harness/engine/push";
import { programLocation, runStack, StackRunError, startTime } from "../../harness/executor";
import { dockerRemoteImage, registryAuthFor } from "../../harness/executor/docker-remote-image";
import { Executor, mapSecrets } from "../../harness/executor/executor";
import { removeImages, removeRepositories } from "../support/engine";
import { LOCAL_BUILDERS, LOCAL_REGISTRY, uniqueName } from "../support/env";

const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");

describe("local executor", function () {
  this.timeout(120_000);
  let work: string;
  beforeEach(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-executor-"))));
  afterEach(() => fs.rmSync(work, { recursive: true, force: true }));

  it("runs a program where Pulumi's language host would: a main: file, a main: folder, or none", () => {
    fs.mkdirSync(path.join(work, "src"));
    fs.writeFileSync(path.join(work, "src", "app.ts"), "");
    assert.deepEqual(programLocation(work, "src/app.ts"), {
      programDir: path.join(work, "src"),
      entry: "app.ts",
    });
    assert.deepEqual(programLocation(work, "src"), { programDir: path.join(work, "src"), entry: "." });
    assert.deepEqual(programLocation(work, undefined), { programDir: work, entry: "." });
  });

  const lockOf = (...holders: { pid: number; start: string | undefined }[]) =>
    `${JSON.stringify({ holders })}\n`;

  it("refuses a second concurrent run of a stack, naming the fix, and leaves the first run's lock alone", async () => {
    const statePath = path.join(work, "state.json");
    const held = lockOf({ pid: process.pid, start: startTime(process.pid) });
    fs.writeFileSync(`${statePath}.lock`, held);
    await assert.rejects(
      runStack({ dir: FIXTURE, stack: "locked", statePath, preview: true }),
      (error: unknown) =>
        error instanceof StackRunError &&
        /being changed by another run \(process \d+\); wait for it to finish.*remove .*state\.json\.lock/.test(
          error.message,
        ),
    );
    assert.equal(fs.readFileSync(`${statePath}.lock`, "utf8"), held);
  });

  it("takes over the lock of a run that is gone, or whose pid a later process reuses, and releases it when done", async () => {
    const statePath = path.join(work, "state.json");
    const config = { name: "locktest", imageName: "minimal-image-test/locktest" };
    for (const stale of [
      lockOf({ pid: 4194304, start: "1" }), // above Linux's pid_max: no such process
      // A live, unrelated process (this one) under the pid, started at another time: the pid was reused.
      lockOf({ pid: process.pid, start: String(Number(startTime(process.pid)) - 1) }),
    ]) {
      fs.writeFileSync(`${statePath}.lock`, stale);
      const result = await runStack({ dir: FIXTURE, stack: "stale", statePath, preview: true, config });
      assert.ok(result.records.some((r) => r.type === "minimal-image:index:MinimalImage"));
      assert.equal(fs.existsSync(`${statePath}.lock`), false);
    }
  });

  it("says how to recover from a lock file it cannot read", async () => {
    const statePath = path.join(work, "state.json");
    fs.writeFileSync(`${statePath}.lock`, "12345\n"); // an older harness's lock: a bare pid
    await assert.rejects(
      runStack({ dir: FIXTURE, stack: "old", statePath, preview: true }),
      /lock file of stack .* is unreadable; if no run .* is going on, remove .*state\.json\.lock and run again/,
    );
  });

  it("names a corrupt state file and the fix, on a run and on --down, and keeps the file", async () => {
    const statePath = path.join(work, "state.json");
    fs.writeFileSync(statePath, '{"resources": {');
    const config = { name: "corrupt", imageName: "minimal-image-test/corrupt" };
    for (const destroy of [false, true]) {
      await assert.rejects(
        runStack({ dir: FIXTURE, stack: "corrupt", statePath, destroy, config }),
        (error: unknown) =>
          error instanceof StackRunError &&
          error.message.includes(`the state file ${statePath} is corrupt (not JSON:`) &&
          error.message.includes(`mv '${statePath}' '${statePath}.corrupt'`),
      );
    }
    assert.equal(fs.readFileSync(statePath, "utf8"), '{"resources": {');
  });

  it("keeps secrets out of what it stores: a hash in their place", () => {
    const sig = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
    const stored = mapSecrets(
      { registry: { server: "r", password: { ...sig, value: "hunter2" } } },
      () => "[secret]",
    );
    assert.deepEqual(stored, { registry: { server: "r", password: "[secret]" } });
  });

  it("keeps secrets in state as a keyed hash only: the same secret under another stack's key differs, no plain sha256", async () => {
    const sig = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };
    const saved = async (key: Buffer) => {
      let state = "";
      const executor = new Executor({ resources: {} }, false, {
        programDir: work,
        steps: new StepReporter({ write: () => true, tty: false }),
        owner: { project: "p", stack: "dev", statePath: path.join(work, "state.json") },
        secretKey: key,
        save: (written) => (state = JSON.stringify(written)),
      });
      const inputs = { registryAuth: { ...sig, value: "hunter2" } };
      await executor.register(
        {
          urn: "urn:pulumi:dev::p::pulumi:providers:docker::d",
          type: "pulumi:providers:docker",
          name: "d",
          inputs,
          deleteBeforeReplace: false,
        },
        Symbol("unknown"),
      );
      assert.ok(!executor.records.some((r) => JSON.stringify(r).includes("hunter2")));
      return state;
    };
    const [one, two] = [await saved(Buffer.alloc(32, 1)), await saved(Buffer.alloc(32, 2))];
    const plain = createHash("sha256").update(JSON.stringify("hunter2")).digest("hex");
    for (const state of [one, two]) assert.ok(!state.includes("hunter2") && !state.includes(plain), state);
    assert.notEqual(one, two);
  });

  it("says how to start an engine when none answers, instead of a bare ECONNREFUSED", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED /var/run/docker.sock"), {
      code: "ECONNREFUSED",
    });
    assert.match(
      engineError("docker build of x:1", refused).message,
      /no Docker engine answers .*scripts\/dev-env up.*DOCKER_HOST/,
    );
    const docker = new Docker({ socketPath: path.join(work, "no-engine.sock") });
    await assert.rejects(
      buildContext(
        { sourceDir: work, contextFiles: [], dockerfile: "FROM scratch\n" },
        { tag: "x:1", docker },
      ),
      /minimal-image: docker build of x:1: no Docker engine answers/,
    );
  });

  it("says which engine error a failed call met, cleaned of control characters", () => {
    const error = Object.assign(new Error("conflict\n\u001b[31mminimal-image: all good\u001b[0m"), {
      statusCode: 409,
    });
    const message = engineError("creating container x", error).message;
    assert.ok(!message.includes("\n") && !message.includes("\u001b"), message);
    assert.match(message, /engine answered 409/);
  });
});

describe("local executor: docker.RemoteImage deletion on the real engine @integration", () => {
  const docker = new Docker();
  const context = {
    docker,
    programDir: os.tmpdir(),
    providerInputs: () => undefined,
    owner: { project: "p", stack: "dev", statePath: path.join(os.tmpdir(), "unused-state.json") },
    progress: () => undefined,
    steps: new StepReporter({ write: () => true, tty: false }),
  };
  const [kept, removed] = ["kept", "removed"].map((n) => `minimal-image-test/${uniqueName(`remote-${n}`)}:x`);
  before(async () => {
    const builder = docker.getImage(LOCAL_BUILDERS.MINIMAL_IMAGE_C_BUILDER);
    for (const name of [kept, removed]) {
      const [repo, tag] = name.split(":");
      await builder.tag({ repo, tag });
    }
  });
  after(() => removeImages(kept, removed));

  it("removes the name it pulled, not the image other names still hold, and not with keepLocally", async () => {
    await dockerRemoteImage.remove("", { name: removed }, context);
    await assert.rejects(docker.getImage(removed).inspect(), { statusCode: 404 });
    await docker.getImage(kept).inspect();
    await docker.getImage(LOCAL_BUILDERS.MINIMAL_IMAGE_C_BUILDER).inspect();
    await dockerRemoteImage.remove("", { name: removed }, context);
    await dockerRemoteImage.remove("", { name: kept, keepLocally: true }, context);
    await docker.getImage(kept).inspect();
  });
});

describe("registryAuth as @pulumi/docker's Provider sends it", () => {
  const entries = [{ address: "127.0.0.1:5001", username: "ci", password: "pw-not-shown" }];

  it("reads the JSON-encoded list the provider sends, and a plain list", () => {
    const want = { username: "ci", password: "pw-not-shown", serveraddress: "127.0.0.1:5001" };
    assert.deepEqual(registryAuthFor({ registryAuth: JSON.stringify(entries) }, "127.0.0.1:5001"), want);
    assert.deepEqual(registryAuthFor({ registryAuth: entries }, "127.0.0.1:5001"), want);
    assert.equal(registryAuthFor({ registryAuth: JSON.stringify(entries) }, "127.0.0.1:5000"), undefined);
    assert.equal(registryAuthFor(undefined, "127.0.0.1:5001"), undefined);
  });

  it("refuses registryAuth that is neither, naming it and not echoing it", () => {
    for (const registryAuth of ["{pw-not-shown", JSON.stringify({ password: "pw-not-shown" })]) {
      assert.throws(
        () => registryAuthFor({ registryAuth }, "127.0.0.1:5001"),
        (err: Error) =>
          /registryAuth is not (JSON|a list)/.test(err.message) && !err.message.includes("pw-not"),
      );
    }
  });
});

describe("local executor: pushes @integration", function () {
  this.timeout(120_000);
  const docker = new Docker({ timeout: 60_000 });
  const repository = `${LOCAL_REGISTRY}/minimal-image-test/${uniqueName("push")}`;
  let work: string;
  const build = async (content: string, tag: string) => {
    fs.writeFileSync(path.join(work, "f"), content);
    const dockerfile = "FROM scratch\nCOPY f /f\n";
    return (await buildContext({ sourceDir: work, contextFiles: ["f"], dockerfile }, { tag, docker }))
      .imageId;
  };
  before(() => (work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-push-"))));
  after(async () => {
    await removeRepositories(repository, `127.0.0.1:${stallPort}/stall`);
    fs.rmSync(work, { recursive: true, force: true });
  });
  let stallPort = 0;

  it("pushes the image ID it built, though another build took the same tag since", async () => {
    const built = await build(`a ${Date.now()}`, `${repository}:built`);
    await build(`b ${Date.now()}`, `${repository}:shared`); // the other build, finished after ours
    const repoDigest = await pushLocally(`${repository}:shared`, undefined, docker, undefined, {
      imageId: built,
    });
    assert.ok((await docker.getImage(built).inspect()).RepoDigests.includes(repoDigest), repoDigest);
  });

  it("stops a push the registry never answers, naming the step and the registry", async () => {
    // A registry that accepts the connection and the version check, then never answers.
    const held: import("node:net").Socket[] = [];
    const server = http.createServer((request, response) => {
      if (request.url === "/v2/") {
        response.writeHead(200, { "docker-distribution-api-version": "registry/2.0" }).end("{}");
      }
    });
    server.on("connection", (socket) => held.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    stallPort = (server.address() as import("node:net").AddressInfo).port;
    const name = `127.0.0.1:${stallPort}/stall:x`;
    try {
      const built = await build(`c ${Date.now()}`, name);
      const started = Date.now();
      await assert.rejects(
        pushLocally(name, undefined, docker, undefined, { stallMs: 3_000 }),
        new RegExp(
          `^Error: minimal-image: pushing ${name}: the engine reported no progress for 3 s.*` +
            `registry 127\\.0\\.0\\.1:${stallPort} answers`,
        ),
      );
      assert.ok(Date.now() - started < 30_000);
      await docker.getImage(built).inspect();
    } finally {
      held.forEach((socket) => socket.destroy());
      server.close();
    }
  });
});
