import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { InputError } from "../../components/validation";
import { ImageReport } from "../../components/inspect";
import { MinimalImage, MinimalImageArgs } from "../../components/minimal-image";
import {
  isSecretInput,
  MOCK_IMAGE_ID as IMAGE_ID,
  MOCK_PICKED_PORT,
  registrationsSettled,
  Declared,
  setRecordingMocks,
  settle,
} from "../support/pulumi";
import { imageReport } from "../support/report";

const REPO_ROOT = path.join(__dirname, "..", "..");
const DIGEST = `sha256:${"ab".repeat(32)}`;

/** Resolves an Output in a mocked program (Outputs of a mocked update are always known). */
function resolved<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply((value) => resolve(value)));
}

const report = imageReport;

describe("MinimalImage component (mocks)", () => {
  let resources: Declared[];
  let programDir: string;
  let inspected: { ref: string; username?: string; password?: string }[];
  /** What the mocked inspection reports in the current test. */
  let result: ImageReport;

  before(() => {
    setRecordingMocks((resource) => resources.push(resource), {
      digest: DIGEST,
      inspect: ({ imageRef, username, password }) => {
        inspected.push({ ref: imageRef, username, password });
        return result;
      },
    });
  });

  beforeEach(() => {
    resources = [];
    inspected = [];
    // The Dockerfile is written under the program folder: use a scratch copy so the repo stays clean.
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-program-"));
    fs.cpSync(path.join(REPO_ROOT, "examples", "pausle"), path.join(programDir, "pausle"), {
      recursive: true,
    });
  });
  afterEach(() => fs.rmSync(programDir, { recursive: true, force: true }));

  const create = (args: Partial<MinimalImageArgs> = {}, reported: ImageReport = report()) => {
    result = reported;
    return new MinimalImage(
      "pausle",
      { source: "pausle", imageName: "pausle", registry: { server: "127.0.0.1:5000" }, ...args },
      { programDir },
    );
  };

  /** The Dockerfile path the component declared, relative to the program's folder. */
  const declaredDockerfile = () =>
    (resources.find((r) => r.type === "docker:index/image:Image")?.inputs.build as { dockerfile: string })
      .dockerfile;

  it("builds with docker.Image from the rendered Dockerfile, at a stable path outside the source folder", async () => {
    const image = create();
    await resolved(image.imageRef);
    const built = resources.find((r) => r.type === "docker:index/image:Image");
    assert.ok(built);
    assert.equal(built.inputs.imageName, "127.0.0.1:5000/pausle:latest");
    assert.deepEqual(built.inputs.build, {
      context: "pausle",
      dockerfile: declaredDockerfile(),
      builderVersion: "BuilderBuildKit",
      platform: "linux/amd64",
    });
    assert.match(declaredDockerfile(), /^\.minimal-image\/[0-9a-f]{16}\/Dockerfile$/);
    const dockerfile = fs.readFileSync(path.join(programDir, declaredDockerfile()), "utf8");
    assert.match(dockerfile, /^FROM scratch$/m);
    assert.deepEqual(
      fs.readdirSync(path.join(programDir, "pausle")),
      fs.readdirSync(path.join(REPO_ROOT, "examples", "pausle")),
      "the source folder is untouched",
    );
  });

  it("does not rewrite an unchanged Dockerfile, so the provider sees the same file", async () => {
    await resolved(create().imageRef);
    const file = path.join(programDir, declaredDockerfile());
    const before = fs.statSync(file).mtimeMs;
    await new Promise((resolve) => setTimeout(resolve, 20));
    await resolved(create().imageRef);
    assert.equal(fs.statSync(file).mtimeMs, before);
  });

  it("passes platform and build args through, and declares each build argument in the Dockerfile", async () => {
    await resolved(create({ platform: "linux/arm64", buildArgs: { VERSION: "1" } }).imageRef);
    const build = resources.find((r) => r.type === "docker:index/image:Image")?.inputs.build as Record<
      string,
      unknown
    >;
    assert.equal(build.platform, "linux/arm64");
    assert.deepEqual(build.args, { VERSION: "1" });
    assert.match(fs.readFileSync(path.join(programDir, declaredDockerfile()), "utf8"), /^ARG VERSION$/m);
  });

  it("names the Dockerfile by its content: no resource name reaches the path, and an alias rebuilds nothing", async () => {
    await resolved(create().imageRef);
    const first = declaredDockerfile();
    resources = [];
    const renamed = new MinimalImage(
      "..",
      { source: "pausle", imageName: "pausle", registry: { server: "127.0.0.1:5000" } },
      { programDir, aliases: [{ name: "pausle" }] },
    );
    await resolved(renamed.imageRef);
    assert.equal(declaredDockerfile(), first);
    assert.equal(fs.existsSync(path.join(programDir, "Dockerfile")), false);
  });

  it('keeps its Dockerfiles out of a `source: "."` context: three runs (dev, prod, dev) declare the same build', async () => {
    // The program's folder is the context: .minimal-image/ is inside it, and other stacks write there too.
    fs.cpSync(path.join(programDir, "pausle"), programDir, { recursive: true });
    const declared = async () => {
      resources = [];
      const image = create({ source: ".", replicas: { count: 1 } });
      await resolved(image.replicaNames);
      const built = resources.find((r) => r.type === "docker:index/image:Image");
      return { build: built?.inputs.build, names: await resolved(image.replicaNames) };
    };
    const dev = await declared();
    // What another stack's Dockerfile looks like in the shared folder.
    fs.mkdirSync(path.join(programDir, ".minimal-image", "0123456789abcdef"), { recursive: true });
    fs.writeFileSync(
      path.join(programDir, ".minimal-image", "0123456789abcdef", "Dockerfile"),
      "FROM scratch\n",
    );
    await declared();
    const devAgain = await declared();
    assert.deepEqual(devAgain, dev);
    const ignore = fs.readFileSync(path.join(programDir, `${declaredDockerfile()}.dockerignore`), "utf8");
    assert.match(ignore, /^\.minimal-image$/m, "the provider's hash and the build skip the folder");
  });

  it("keeps the registry password secret in the provider's inputs and out of every output", async () => {
    const image = create({
      registry: { server: "127.0.0.1:5000", username: "ci", password: pulumi.output("hunter2") },
    });
    const outputs = await resolved(
      pulumi.all([image.imageRef, image.sizeReport, image.digest, image.compressedSizeBytes]),
    );
    // The SDK marks the whole registry block secret once it holds a secret: the password is never in the clear.
    const registry = resources.find((r) => r.type === "docker:index/image:Image")?.inputs.registry as Record<
      string,
      unknown
    >;
    assert.ok(isSecretInput(registry), `registry must be secret, got ${JSON.stringify(registry)}`);
    assert.deepEqual(registry.value, { server: "127.0.0.1:5000", username: "ci", password: "hunter2" });
    const imageName = resources.find((r) => r.type === "docker:index/image:Image")?.inputs.imageName;
    assert.equal(
      imageName,
      "127.0.0.1:5000/pausle:latest",
      "only the password is secret, not the image name",
    );
    assert.equal(inspected[0].password, "hunter2", "the inspection authenticates with it");
    assert.ok(!JSON.stringify(outputs).includes("hunter2"));
    assert.equal(await pulumi.isSecret(image.imageRef), false, "size outputs stay readable");
  });

  it("wires every output from the inspection of the pushed digest", async () => {
    const image = create();
    const [ref, digest, tag, line] = await resolved(
      pulumi.all([image.imageRef, image.digest, image.tag, image.sizeReport]),
    );
    const figures = await resolved(
      pulumi.all([
        image.compressedSizeBytes,
        image.uncompressedSizeBytes,
        image.binarySizeBytes,
        image.layerCount,
        image.isStatic,
      ]),
    );
    assert.equal(inspected[0].ref, `127.0.0.1:5000/pausle@${DIGEST}`, "inspects by digest, not by tag");
    assert.equal(ref, `127.0.0.1:5000/pausle@${DIGEST}`);
    assert.equal(digest, DIGEST);
    assert.equal(tag, "latest");
    assert.deepEqual(figures, [3_700, 5_040, 5_040, 1, true]);
    assert.equal(line, "pausle: 3.7 kB compressed, 5.0 kB on disk, 1 layer, static");
  });

  it("fails when the pushed binary is not static, naming the interpreter", async () => {
    const failing = report({
      isStatic: false,
      interpreter: "/lib64/ld-linux-x86-64.so.2",
      neededLibraries: ["libc.so.6"],
    });
    const image = create({}, failing);
    await assert.rejects(
      settle(image.isStatic),
      /\/pausle is not static \(ELF interpreter \/lib64\/ld-linux-x86-64\.so\.2\), needs libc\.so\.6/,
    );
  });

  it("puts maxImageBytes in the build itself, so an image over it fails before anything is pushed", async () => {
    await resolved(create({ maxImageBytes: 4_000 }).imageRef);
    const dockerfile = fs.readFileSync(path.join(programDir, declaredDockerfile()), "utf8");
    assert.match(dockerfile, /\[ "\$size" -le 4000 \]/);
    assert.match(dockerfile, /over maxImageBytes \(4000\)/);
  });

  it("runs replicas from the built digest, named per stack and image generation", async () => {
    const passing = create({ replicas: { count: 2 } });
    const names = await resolved(passing.replicaNames);
    assert.equal(names.length, 2);
    assert.match(names[0], /^pausle-[0-9a-f]{8}-0$/);
    assert.equal(names[1], names[0].replace(/-0$/, "-1"));
    // Containers run the image the engine holds for the pushed digest (the provider compares image IDs).
    const pulled = resources.find((r) => r.type === "docker:index/remoteImage:RemoteImage");
    assert.equal(pulled?.inputs.name, `127.0.0.1:5000/pausle@${DIGEST}`);
    assert.equal(pulled?.inputs.platform, "linux/amd64");
    const containers = resources.filter((r) => r.type === "docker:index/container:Container");
    assert.deepEqual(
      containers.map((c) => [c.inputs.image, c.inputs.cpus, c.inputs.memory]),
      [
        [IMAGE_ID, "0.5", 64],
        [IMAGE_ID, "0.5", 64],
      ],
    );
    const network = resources.find((r) => r.type === "docker:index/network:Network");
    assert.match(String(network?.inputs.name), /^pausle-[0-9a-f]{8}-net$/);
    for (const container of containers) {
      assert.deepEqual(container.inputs.networksAdvanced, [{ name: network?.inputs.name }]);
    }
  });

  it('declares cpus as the provider reads it back: 1000 as "1.0", so an unchanged replica is not replaced', async () => {
    // terraform-provider-docker's Read stores nanoInt64ToDecimalString(NanoCPUs), 1e9 -> "1.0", and `cpus` is
    // ForceNew: "1" would replace every replica on every update.
    await resolved(create({ replicas: { count: 1, cpuMillis: 1000 } }).replicaNames);
    const container = resources.find((r) => r.type === "docker:index/container:Container");
    assert.equal(container?.inputs.cpus, "1.0");
  });

  it("starts a new generation for a new tag, registry or cache source, which change the pushed digest", async () => {
    const names = async (args: Partial<MinimalImageArgs>) =>
      resolved(create({ replicas: { count: 1 }, ...args }).replicaNames);
    const base = await names({});
    for (const changed of [
      { tag: "v2" },
      { registry: { server: "localhost:5000" } },
      { cacheFrom: ["127.0.0.1:5000/pausle:latest"] },
      { buildArgs: { V: "2" } },
    ]) {
      assert.notDeepEqual(await names(changed), base, JSON.stringify(changed));
    }
  });

  it("replaces a replica with a fixed host port in place (a brief gap) instead of beside its successor", async () => {
    const replicas = { count: 1, ports: [8080], publishedPorts: [{ port: 8080, hostPort: 18099 }] };
    const first = await resolved(create({ replicas }).replicaNames);
    fs.appendFileSync(path.join(programDir, "pausle", "pausle.c"), "\n/* changed */\n");
    const changed = await resolved(create({ replicas }).replicaNames);
    assert.deepEqual(changed, first, "the same container, replaced by the provider (delete before replace)");
  });

  it("reports each replica's published ports, with the host port the engine picked", async () => {
    const image = create({
      replicas: {
        count: 2,
        ports: [8080, 9090],
        publishedPorts: [{ port: 8080 }, { port: 9090, hostIp: "0.0.0.0" }],
      },
    });
    const [names, ports] = await resolved(pulumi.all([image.replicaNames, image.replicaPorts]));
    assert.deepEqual(Object.keys(ports), names);
    const hostPorts = names.flatMap((name) => ports[name].map((port) => port.hostPort));
    assert.deepEqual(
      hostPorts.sort((a, b) => a - b),
      [0, 1, 2, 3].map((i) => MOCK_PICKED_PORT + i),
    );
    for (const name of names) {
      assert.deepEqual(
        ports[name].map(({ port, hostIp }) => ({ port, hostIp })),
        [
          { port: 8080, hostIp: "127.0.0.1" },
          { port: 9090, hostIp: "0.0.0.0" },
        ],
      );
    }
  });

  it("reports a fixed host port as given, and no ports without Docker replicas", async () => {
    const fixed = create({
      replicas: { count: 1, ports: [8080], publishedPorts: [{ port: 8080, hostPort: 18099 }] },
    });
    const [names, ports] = await resolved(pulumi.all([fixed.replicaNames, fixed.replicaPorts]));
    assert.deepEqual(ports, { [names[0]]: [{ port: 8080, hostIp: "127.0.0.1", hostPort: 18099 }] });
    assert.deepEqual(await resolved(create().replicaPorts), {});
    const kubernetes = create({ replicas: { count: 2, runtime: "kubernetes", ports: [8080] } });
    assert.deepEqual(await resolved(kubernetes.replicaPorts), {});
  });

  it("pulls through the engine of the user's Docker provider, with the registry's credentials", async () => {
    const engine = new docker.Provider("engine", { host: "tcp://127.0.0.1:2376" });
    const image = new MinimalImage(
      "pausle",
      {
        source: "pausle",
        imageName: "pausle",
        registry: { server: "127.0.0.1:5000", username: "ci", password: pulumi.secret("pw") },
        replicas: { count: 1 },
      },
      { programDir, providers: { docker: engine } },
    );
    await resolved(image.replicaNames);
    const made = resources.filter((r) => r.type === "pulumi:providers:docker" && r.name !== "engine");
    assert.equal(made.length, 1);
    for (const provider of made) assert.equal(provider.inputs.host, "tcp://127.0.0.1:2376");
  });

  it("gives a changed program new replica names, and an unchanged one the same", async () => {
    const first = await resolved(create({ replicas: { count: 1 } }).replicaNames);
    const same = await resolved(create({ replicas: { count: 1 } }).replicaNames);
    fs.appendFileSync(path.join(programDir, "pausle", "pausle.c"), "\n/* changed */\n");
    const changed = await resolved(create({ replicas: { count: 1 } }).replicaNames);
    assert.deepEqual(same, first);
    assert.notDeepEqual(changed, first);
  });

  it("runs replicas on Kubernetes by digest, pulling with a secret made from the registry credentials", async () => {
    const image = create({
      registry: { server: "127.0.0.1:5000", username: "ci", password: pulumi.secret("hunter2") },
      replicas: { count: 3, runtime: "kubernetes", namespace: "apps", ports: [8080] },
    });
    await resolved(image.replicaNames);
    const deployment = resources.find((r) => r.type === "kubernetes:apps/v1:Deployment");
    const pod = (deployment?.inputs.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    const [container] = pod.containers as { image: string }[];
    assert.equal(container.image, `127.0.0.1:5000/pausle@${DIGEST}`);
    assert.match((pod.imagePullSecrets as { name: string }[])[0].name, /^pausle-[0-9a-f]{8}-pull$/);
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64" });
    const secret = resources.find((r) => r.type === "kubernetes:core/v1:Secret");
    // The SDK marks the enclosing `data` object secret, so the password is never in the clear.
    assert.ok(isSecretInput(secret?.inputs.data), "the pull secret's data stays secret");
  });

  describe("rejects bad input before anything is declared", () => {
    const cases: [string, Partial<MinimalImageArgs>, string][] = [
      ["a missing registry server", { registry: { server: "" } }, "registry.server"],
      [
        "a password without a username",
        { registry: { server: "r:5000", password: "x" } },
        "registry.password",
      ],
      [
        "a username without a password",
        { registry: { server: "r:5000", username: "u" } },
        "registry.username",
      ],
      ["a malformed image name", { imageName: "Bad Name" }, "imageName"],
      ["an image name with a tag", { imageName: "pausle:v1" }, "imageName"],
      ["a malformed tag", { tag: "-bad" }, "tag"],
      ["a negative budget", { maxImageBytes: -1 }, "maxImageBytes"],
      ["a fractional budget", { maxImageBytes: 1.5 }, "maxImageBytes"],
      ["a missing source folder", { source: "does-not-exist" }, "source"],
      ["a bad recipe option", { recipe: { toolchain: "cobol" as never } }, "recipe.toolchain"],
      ["a negative replica count", { replicas: { count: -1 } }, "replicas.count"],
      [
        "a username with a colon",
        { registry: { server: "r:5000", username: "a:b", password: "x" } },
        "registry.username",
      ],
      [
        "a CPU limit the provider reads back as another",
        { replicas: { count: 1, cpuMillis: 50 } },
        "replicas.cpuMillis",
      ],
    ];
    for (const [what, args, field] of cases) {
      it(`rejects ${what} before declaring anything`, async () => {
        assert.throws(
          () => create(args),
          (error: unknown) => error instanceof InputError && error.field === field,
        );
        await registrationsSettled();
        assert.deepEqual(
          resources.map((r) => r.type),
          [],
        );
      });
    }

    it("refuses a name that cannot name a Service (`1app`) before declaring the image", async () => {
      assert.throws(
        () =>
          new MinimalImage(
            "1app",
            {
              source: "pausle",
              imageName: "pausle",
              registry: { server: "127.0.0.1:5000" },
              replicas: { runtime: "kubernetes", ports: [8080], service: {} },
            },
            { programDir },
          ),
        (error: unknown) => error instanceof InputError && /cannot name a Service/.test(error.message),
      );
      await registrationsSettled();
      assert.deepEqual(resources, []);
    });

    it("checks a secret password's presence without reading it", () => {
      assert.throws(
        () => create({ registry: { server: "r:5000", password: pulumi.secret("x") } }),
        (error: unknown) => error instanceof InputError && error.field === "registry.password",
      );
    });
  });
});
