// The artifact, as users get it: `npm pack`, installed with the pinned peers into throwaway projects laid out
// as `pulumi new typescript` lays one out, its CLI run from node_modules/.bin, and stack programs that
// import "minimal-image" loaded by Pulumi's own runner and carried out on the real engine.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { runStack } from "../../harness/executor";
import { LOCAL_BUILDERS, uniqueName } from "../support/env";
import { imageReport } from "../support/report";

const ROOT = path.join(__dirname, "..", "..");
const PEERS = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).devDependencies as Record<
  string,
  string
>;
const docker = new Docker({ timeout: 120_000 });

function exec(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(command, args, {
    cwd,
    env,
    encoding: "utf8",
    timeout: 300_000,
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** A stack program as a user writes it: it imports the package by name. */
const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { MinimalImage } from "minimal-image";

const config = new pulumi.Config();
const app = new MinimalImage("app", {
  source: "./pausle",
  recipe: { toolchain: "c" },
  imageName: config.require("imageName"),
  registry: { server: "127.0.0.1:5000" },
  maxImageBytes: 16_000,
});

export const imageRef = app.imageRef;
export const sizeReport = app.sizeReport;
export const isStatic = app.isStatic;
`;

/** The tsconfig.json `pulumi new typescript` writes. */
const PULUMI_NEW_TSCONFIG = {
  compilerOptions: {
    strict: true,
    outDir: "bin",
    target: "es2020",
    module: "commonjs",
    moduleResolution: "node",
    sourceMap: true,
    experimentalDecorators: true,
    pretty: true,
    noFallthroughCasesInSwitch: true,
    noImplicitReturns: true,
    forceConsistentCasingInFileNames: true,
  },
  files: ["index.ts"],
};

describe("the packed package in a consumer project @integration", function () {
  this.timeout(900_000);
  let work: string;
  let project: string;
  const images: string[] = [];

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-consumer-"));
    const tarball = exec("npm", ["pack", "--silent", "--pack-destination", work], ROOT)
      .trim()
      .split("\n")
      .pop()!;
    project = path.join(work, "project");
    fs.mkdirSync(project);
    fs.writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify(
        {
          name: "consumer",
          main: "index.ts",
          devDependencies: { "@types/node": PEERS["@types/node"], typescript: PEERS.typescript },
          dependencies: {
            "minimal-image": `file:${path.join(work, tarball)}`,
            "@pulumi/pulumi": PEERS["@pulumi/pulumi"],
            "@pulumi/docker": PEERS["@pulumi/docker"],
            "@pulumi/kubernetes": PEERS["@pulumi/kubernetes"],
          },
        },
        null,
        2,
      ),
    );
    exec("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], project);
    fs.cpSync(path.join(ROOT, "examples", "pausle"), path.join(project, "pausle"), { recursive: true });
  });

  after(async () => {
    for (const image of images)
      await docker
        .getImage(image)
        .remove({ force: true })
        .catch(() => undefined);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("ships what users need: compiled entry, CLI, types, README, LICENSE, CHANGELOG; no tests", () => {
    const installed = path.join(project, "node_modules", "minimal-image");
    for (const file of [
      "bin/index.js",
      "bin/index.d.ts",
      "bin/components/cli/main.js",
      "README.md",
      "LICENSE",
      "CHANGELOG.md",
    ]) {
      assert.ok(fs.existsSync(path.join(installed, file)), `${file} is in the tarball`);
    }
    assert.equal(fs.existsSync(path.join(installed, "bin", "tests")), false);
    assert.equal(fs.existsSync(path.join(installed, "bin", "scripts")), false);
  });

  it("ships no test harness: no file imports dockerode or runs stack programs, and no runtime dependency brings it", () => {
    const installed = path.join(project, "node_modules", "minimal-image");
    const shipped = (fs.readdirSync(installed, { recursive: true }) as string[]).filter((file) =>
      /\.(js|ts)$/.test(file),
    );
    assert.ok(shipped.length > 20, `${shipped.length} files`);
    for (const file of shipped) {
      const text = fs.readFileSync(path.join(installed, file), "utf8");
      assert.doesNotMatch(text, /["']dockerode["']|harness\/|runStack/, `${file} is harness code`);
    }
    const tree = exec("npm", ["ls", "--omit=dev", "--all", "--parseable"], project);
    assert.doesNotMatch(tree, /node_modules\/dockerode$/m, "npm ls --omit=dev lists dockerode");
  });

  it("type-checks in a consumer under tsc --strict without skipLibCheck, as pulumi new sets it up", () => {
    fs.writeFileSync(path.join(project, "index.ts"), PROGRAM);
    const tsconfig = {
      ...PULUMI_NEW_TSCONFIG,
      compilerOptions: { ...PULUMI_NEW_TSCONFIG.compilerOptions, noEmit: true },
    };
    assert.equal("skipLibCheck" in tsconfig.compilerOptions, false);
    fs.writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
    try {
      exec(path.join(project, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json"], project);
    } catch (error) {
      assert.fail(`tsc --strict failed:\n${(error as { stdout?: string }).stdout ?? error}`);
    }
  });

  it("day two under mocks, against the installed package: provider forms, refusals before registration, the user's engine", () => {
    // A plain Node script in the consumer project: the installed package and that project's @pulumi/pulumi.
    const script = `
      const pulumi = require("@pulumi/pulumi");
      const docker = require("@pulumi/docker");
      const declared = [];
      pulumi.runtime.setMocks({
        newResource: (args) => {
          declared.push({ type: args.type, name: args.name, inputs: args.inputs });
          const state = { ...args.inputs };
          if (args.type === "docker:index/image:Image") state.repoDigest = "127.0.0.1:5000/app@sha256:" + "ab".repeat(32);
          if (args.type.endsWith(":ImageInspection")) state.report = ${JSON.stringify(imageReport())};
          return { id: args.name + "-id", state };
        },
        call: (args) => args.inputs,
      }, "project", "dev", false);
      const { MinimalImage } = require("minimal-image");
      const base = { source: "pausle", recipe: { toolchain: "c" }, imageName: "app", registry: { server: "127.0.0.1:5000" } };
      const settled = () => new Promise((resolve) => setTimeout(resolve, 300));
      const refusal = (make) => { try { make(); return "accepted"; } catch (error) { return error.field; } };
      (async () => {
        const results = {};
        new MinimalImage("app", { ...base, replicas: { count: 1, cpuMillis: 1000 } });
        await settled();
        results.cpus = declared.find((d) => d.type === "docker:index/container:Container").inputs.cpus;
        declared.length = 0;
        results.outputArgs = refusal(() => new MinimalImage("args", { ...base, buildArgs: { V: pulumi.output("1") }, replicas: { count: 1 } }));
        results.service = refusal(() => new MinimalImage("1app", { ...base, replicas: { runtime: "kubernetes", ports: [8080], service: {} } }));
        await settled();
        results.declaredAfterRefusals = declared.map((d) => d.type);
        const engine = new docker.Provider("engine", { host: "tcp://127.0.0.1:2376" });
        new MinimalImage("pulls", { ...base, registry: { server: "127.0.0.1:5000", username: "ci", password: pulumi.secret("pw") }, replicas: { count: 1 } }, { providers: { docker: engine } });
        await settled();
        results.hosts = declared.filter((d) => d.type === "pulumi:providers:docker").map((d) => d.inputs.host);
        console.log(JSON.stringify(results));
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    fs.writeFileSync(path.join(project, "day-two.js"), script);
    const printed = exec(process.execPath, ["day-two.js"], project, { ...process.env, ...LOCAL_BUILDERS });
    const results = JSON.parse(printed.trim().split("\n").pop()!);
    assert.equal(results.cpus, "1.0", "cpuMillis 1000 is declared as the provider reads it back");
    assert.equal(results.outputArgs, "buildArgs", "an Output build argument with Docker replicas is refused");
    assert.equal(results.service, "name", "`1app` cannot name a Service");
    assert.deepEqual(results.declaredAfterRefusals, [], "the refused components registered nothing");
    assert.deepEqual(
      results.hosts,
      ["tcp://127.0.0.1:2376", "tcp://127.0.0.1:2376"],
      "every docker provider has the user's host",
    );
  });

  it("its CLI renders a Dockerfile that runs as 65532, and the image built from it runs", async () => {
    const dockerfile = exec(
      path.join(project, "node_modules", ".bin", "minimal-image"),
      ["dockerfile", "pausle"],
      project,
      {
        ...process.env,
        ...LOCAL_BUILDERS,
      },
    );
    assert.match(dockerfile, /^USER 65532:65532$/m);
    assert.doesNotMatch(dockerfile, /undefined/);
    fs.writeFileSync(path.join(work, "Dockerfile"), dockerfile);
    const tag = `${uniqueName("consumer-cli")}:t`;
    images.push(tag);
    exec(
      "/usr/bin/docker",
      ["build", "-q", "-t", tag, "-f", path.join(work, "Dockerfile"), "pausle"],
      project,
      {
        ...process.env,
        DOCKER_BUILDKIT: "1",
      },
    );
    const container = await docker.createContainer({ Image: tag, name: uniqueName("consumer-cli") });
    try {
      await container.start();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const info = await container.inspect();
      assert.equal(info.State.Running, true, `pausle runs (${info.State.Status}, ${info.State.Error})`);
      assert.equal(info.Config.User, "65532:65532");
      const status = fs.readFileSync(`/proc/${info.State.Pid}/status`, "utf8");
      assert.match(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m);
    } finally {
      await container.remove({ force: true });
    }
  });

  // Each Node.js example, copied alone into the project as a user would take it as a template.
  const nodeExamples = fs
    .readdirSync(path.join(ROOT, "examples"))
    .filter((name) => fs.existsSync(path.join(ROOT, "examples", name, "index.ts")));
  for (const example of nodeExamples) {
    it(`examples/${example} copied alone into the project type-checks and loads under Pulumi's runner`, async () => {
      const copy = path.join(project, "examples-copy", example);
      fs.cpSync(path.join(ROOT, "examples", example), copy, { recursive: true });
      try {
        // The runner type-checks with the folder's tsconfig.json, which must resolve the installed package.
        const preview = await runStack({
          dir: copy,
          stack: "copy",
          preview: true,
          statePath: path.join(work, `copy-${example}.json`),
          env: LOCAL_BUILDERS,
        });
        assert.ok(preview.records.some((r) => r.type === "minimal-image:index:MinimalImage"));
      } finally {
        fs.rmSync(copy, { recursive: true, force: true });
      }
    });
  }

  for (const layout of ["with the tsconfig.json of pulumi new", "without a tsconfig.json"]) {
    it(`a stack program importing "minimal-image" loads under Pulumi's runner ${layout}, and its image is built, pushed and measured`, async () => {
      fs.writeFileSync(path.join(project, "index.ts"), PROGRAM);
      // `pulumi new typescript` names no main: the runner falls back to package.json's `main`.
      fs.writeFileSync(
        path.join(project, "Pulumi.yaml"),
        "name: consumer\nruntime:\n  name: nodejs\n  options:\n    packagemanager: npm\n",
      );
      const tsconfig = path.join(project, "tsconfig.json");
      if (layout.startsWith("with")) fs.writeFileSync(tsconfig, JSON.stringify(PULUMI_NEW_TSCONFIG, null, 2));
      else fs.rmSync(tsconfig, { force: true });
      const statePath = path.join(work, `${layout.length}.json`);
      const config = { imageName: `minimal-image-test/consumer-${process.pid}` };
      images.push(`127.0.0.1:5000/${config.imageName}:latest`);
      try {
        const preview = await runStack({
          dir: project,
          stack: "dev",
          preview: true,
          statePath,
          config,
          env: LOCAL_BUILDERS,
        });
        assert.ok(
          preview.records.some((r) => r.type === "minimal-image:index:MinimalImage" && r.name === "app"),
        );
        const up = await runStack({ dir: project, stack: "dev", statePath, config, env: LOCAL_BUILDERS });
        assert.equal(up.outputs.isStatic, true);
        assert.match(String(up.outputs.sizeReport), /^pausle: .* 1 layer, static$/);
        const pushed = await docker
          .getImage(String(up.outputs.imageRef))
          .inspect()
          .catch(() => undefined);
        const built = await docker.getImage(`127.0.0.1:5000/${config.imageName}:latest`).inspect();
        assert.equal(built.Config.User, "65532:65532");
        assert.ok(pushed === undefined || pushed.Id === built.Id);
      } finally {
        await runStack({ dir: project, stack: "dev", destroy: true, statePath });
      }
    });
  }
});
