import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { InputError } from "../../components/validation";
import { ImageReport } from "../../components/inspect";
import { MinimalImage, MinimalImageArgs } from "../../components/minimal-image";
import {
  isSecretInput,
  MOCK_IMAGE_ID as IMAGE_ID,
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

  before(() => {
    setRecordingMocks((resource) => resources.push(resource), { digest: DIGEST });
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

  const create = (args: Partial<MinimalImageArgs> = {}, result: ImageReport = report()) =>
    new MinimalImage(
      "pausle",
      { source: "pausle", imageName: "pausle", registry: { server: "127.0.0.1:5000" }, ...args },
      {
        programDir,
        inspect: async (ref, options) => {
          inspected.push({ ref, username: options.username, password: options.password });
          return result;
        },
      },
    );

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
    assert.match(declaredDockerfile(), /^\.minimal-image\/stack\/pausle-[0-9a-f]{12}\/Dockerfile$/);
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

  it("names the Dockerfile per resource name and stack, and no name reaches outside its folder", async () => {
    const image = new MinimalImage(
      "..",
      { source: "pausle", imageName: "pausle", registry: { server: "127.0.0.1:5000" } },
      { programDir, inspect: async () => report() },
    );
    await resolved(image.imageRef);
    assert.match(declaredDockerfile(), /^\.minimal-image\/stack\/__-[0-9a-f]{12}\/Dockerfile$/);
    assert.equal(fs.existsSync(path.join(programDir, "Dockerfile")), false);
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
      containers.map((c) => [c.inputs.image, c.inputs.cpus]),
      [
        [IMAGE_ID, "0.5"],
        [IMAGE_ID, "0.5"],
      ],
    );
    const network = resources.find((r) => r.type === "docker:index/network:Network");
    assert.match(String(network?.inputs.name), /^pausle-[0-9a-f]{8}-net$/);
    for (const container of containers) {
      assert.deepEqual(container.inputs.networksAdvanced, [{ name: network?.inputs.name }]);
    }
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

    it("checks a secret password's presence without reading it", () => {
      assert.throws(
        () => create({ registry: { server: "r:5000", password: pulumi.secret("x") } }),
        (error: unknown) => error instanceof InputError && error.field === "registry.password",
      );
    });
  });
});
