import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import * as providerServer from "@pulumi/pulumi/provider/server";
import { InputError } from "../../components/validation";
import { ReplicaOptionsInput } from "../../components/deploy";
import { ImageReport } from "../../components/inspect";
import { imageReport, MINIMAL_IMAGE_OUTPUTS } from "../support/report";
import { MinimalImage as Component, MinimalImageArgs } from "../../components/minimal-image";
import { Declared, isSecretInput, setRecordingMocks, settle } from "../support/pulumi";

// Another language's program reaches MinimalImage through the plugin host: the engine sends the inputs
// over gRPC, the provider server deserializes them (plain values stay plain; secrets and values that carry
// dependencies become Outputs, at the top level or nested) and ComponentProvider.construct runs the
// constructor. These tests send inputs in that wire form through the server's own deserialization and
// compare what construct declares and returns with what the TypeScript API does for the same values.

const ROOT = path.join(__dirname, "..", "..");
const TYPE = "minimal-image:index:MinimalImage";
const DIGEST = `sha256:${"ab".repeat(32)}`;
/** A resource of the calling program that an input depends on. */
const UPSTREAM = "urn:pulumi:stack::project::random:index/randomPet:RandomPet::upstream";

const { specialSigKey, specialSecretSig, specialOutputValueSig } = pulumi.runtime;

/** The server's input deserialization: internal to @pulumi/pulumi, so reached by name. */
const { deserializeInputs } = providerServer as unknown as {
  deserializeInputs(
    struct: { toJavaScript(): Record<string, unknown> },
    dependencies: Map<string, { getUrnsList(): string[] }>,
  ): Promise<Record<string, unknown>>;
};

/** A secret as an SDK without output values sends it. */
const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });
/** An output value: how the engine passes an Output to a provider that accepts them, as this one does. */
const outputValue = (value: unknown, options: { secret?: boolean; dependencies?: string[] } = {}) => ({
  [specialSigKey]: specialOutputValueSig,
  value,
  secret: options.secret ?? false,
  dependencies: options.dependencies ?? [],
});

const OUTPUTS = MINIMAL_IMAGE_OUTPUTS;

const REPORT: ImageReport = imageReport();

describe("MinimalImage through the component provider's construct (other languages)", () => {
  let resources: Declared[];
  let programDir: string;
  let provider: ComponentProvider;

  /**
   * MinimalImage as the plugin host constructs it, with the test seams (no registry to inspect; a scratch
   * program folder) that the TypeScript API is given too. The same class name, so that the analyzer finds
   * its args in the sources.
   */
  const seamed = () =>
    class MinimalImage extends Component {
      constructor(name: string, args: MinimalImageArgs, opts: pulumi.ComponentResourceOptions = {}) {
        super(name, args, { ...opts, programDir });
      }
    };

  before(async function () {
    this.timeout(60_000);
    await setRecordingMocks((resource) => resources.push(resource), {
      digest: DIGEST,
      inspect: () => REPORT,
    });
    provider = new ComponentProvider({ components: [seamed()], name: "minimal-image", dirname: ROOT });
    await provider.getSchema();
  });

  beforeEach(() => {
    resources = [];
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-construct-"));
    fs.cpSync(path.join(ROOT, "examples", "pausle"), path.join(programDir, "pausle"), { recursive: true });
  });
  afterEach(() => fs.rmSync(programDir, { recursive: true, force: true }));

  /** Deserializes wire inputs exactly as the provider server does for a Construct request. */
  async function received(wire: Record<string, unknown>, dependencies: Record<string, string[]> = {}) {
    const map = new Map(
      Object.entries(dependencies).map(([key, urns]) => [key, { getUrnsList: () => urns }]),
    );
    return deserializeInputs({ toJavaScript: () => wire }, map);
  }

  /** Runs construct, then resolves every output; returns what was declared and returned. */
  async function viaConstruct(
    inputs: Record<string, unknown>,
    options: pulumi.ComponentResourceOptions = {},
  ) {
    resources = [];
    const result = await provider.construct("pausle", TYPE, inputs as pulumi.Inputs, options);
    return {
      outputs: await resolveOutputs(result.state as Record<string, unknown>),
      children: await settled(),
    };
  }

  /** The same through the TypeScript API. */
  async function viaTypeScript(args: MinimalImageArgs, options: pulumi.ComponentResourceOptions = {}) {
    resources = [];
    const image = new (seamed())("pausle", args, options);
    return {
      outputs: await resolveOutputs(image as unknown as Record<string, unknown>),
      children: await settled(),
    };
  }

  it("declares the same children and returns the same outputs for Docker replicas", async () => {
    const wire = {
      source: "pausle",
      imageName: "pausle",
      tag: "v1",
      recipe: { toolchain: "c", libc: "musl", extras: ["passwd"] },
      registry: {
        server: "127.0.0.1:5000",
        username: "ci",
        password: outputValue("hunter2", { secret: true }),
      },
      buildArgs: { VERSION: "1.2" },
      maxImageBytes: 16_000,
      replicas: { count: 2, runtime: "docker", restartPolicy: "unless-stopped", ports: [8080] },
    };
    const inputs = await received(wire);
    const registry = inputs.registry as Record<string, unknown>;
    assert.ok(pulumi.Output.isInstance(registry.password), "the secret password arrives as an Output");

    const constructed = await viaConstruct(inputs);
    const typed = await viaTypeScript({
      source: "pausle",
      imageName: "pausle",
      tag: "v1",
      recipe: { toolchain: "c", libc: "musl", extras: ["passwd"] },
      registry: { server: "127.0.0.1:5000", username: "ci", password: pulumi.secret("hunter2") },
      buildArgs: { VERSION: "1.2" },
      maxImageBytes: 16_000,
      replicas: { count: 2, runtime: "docker", restartPolicy: "unless-stopped", ports: [8080] },
    });

    assert.deepEqual(constructed.children, typed.children);
    assert.deepEqual(constructed.outputs, typed.outputs);
    const generation = /^pausle-[0-9a-f]{8}$/;
    assert.deepEqual(
      constructed.children.map((child) => `${child.type}::${child.name.replace(/-[0-9a-f]{8}(?=-)/, "-G")}`),
      [
        "docker:index/container:Container::pausle-G-0",
        "docker:index/container:Container::pausle-G-1",
        "docker:index/image:Image::pausle",
        "docker:index/image:Image::pausle-sbom-facts",
        "docker:index/network:Network::pausle-net",
        "docker:index/remoteImage:RemoteImage::pausle-G-image",
        "pulumi-nodejs:dynamic/minimal-image:ImageInspection::pausle-inspection",
        "pulumi-nodejs:dynamic/minimal-image:SbomAttachment::pausle-sbom",
        "pulumi:providers:docker::pausle-pull",
      ],
    );
    const names = constructed.outputs.replicaNames?.value as string[];
    assert.deepEqual(
      names.map((name) => name.replace(/-\d+$/, "")).every((set) => generation.test(set)),
      true,
    );
    const image = constructed.children.find((child) => child.type === "docker:index/image:Image");
    assert.ok(isSecretInput(image?.inputs.registry), "the registry block reaches the provider as a secret");
    assert.equal(image?.inputs.imageName, "127.0.0.1:5000/pausle:v1", "the tag is in the name");
    assert.ok(!JSON.stringify(constructed.outputs).includes("hunter2"), "the password is in no output");
  });

  it("refuses Docker replicas of an image named by an Output, through construct as through TypeScript", async () => {
    // An Output of the calling program (here the tag) cannot name the next replica generation at program
    // time: with it, a new build would replace every replica under the same names at once.
    const wire = {
      source: "pausle",
      imageName: "pausle",
      tag: outputValue("v1", { dependencies: [UPSTREAM] }),
      registry: { server: "127.0.0.1:5000" },
      replicas: { count: 2, runtime: "docker" },
    };
    const inputs = await received(wire, { tag: [UPSTREAM] });
    assert.ok(pulumi.Output.isInstance(inputs.tag), "the tag arrives as an Output");
    const refusal = (error: unknown) =>
      error instanceof InputError &&
      error.field === "tag" &&
      /replicas are named after the image/.test(error.message);
    await assert.rejects(viaConstruct(inputs), refusal);
    assert.deepEqual(resources, [], "nothing is declared");
    assert.throws(
      () => new (seamed())("pausle", { ...wire, tag: pulumi.output("v1") } as MinimalImageArgs),
      refusal,
    );
  });

  it("accepts a registry sent secret as a whole, as an SDK without output values sends it", async () => {
    const registry = { server: "127.0.0.1:5000", username: "ci", password: "hunter2" };
    const inputs = await received({ source: "pausle", imageName: "pausle", registry: secret(registry) });
    assert.ok(pulumi.Output.isInstance(inputs.registry));
    const constructed = await viaConstruct(inputs);
    const typed = await viaTypeScript({
      source: "pausle",
      imageName: "pausle",
      registry: pulumi.secret(registry),
    });
    assert.deepEqual(constructed.children, typed.children);
    assert.deepEqual(constructed.outputs, typed.outputs);
  });

  it("checks a registry whose server is another resource's output once it resolves (YAML can send one)", async () => {
    const wire = {
      source: "pausle",
      imageName: "pausle",
      registry: { server: outputValue("127.0.0.1:5000", { dependencies: [UPSTREAM] }) },
    };
    const inputs = await received(wire, { registry: [UPSTREAM] });
    const constructed = await viaConstruct(inputs);
    const typed = await viaTypeScript({
      source: "pausle",
      imageName: "pausle",
      registry: pulumi.output({ server: "127.0.0.1:5000" }),
    });
    assert.deepEqual(constructed.children, typed.children);
    assert.deepEqual(constructed.outputs, typed.outputs);

    const bad = await received({ ...wire, registry: { server: outputValue("registry.example/team") } });
    const result = await provider.construct("bad", TYPE, bad, {});
    await assert.rejects(
      settle((result.state as Record<string, pulumi.Output<string>>).imageRef),
      (error: unknown) => error instanceof InputError && error.field === "registry.server",
    );
  });

  it("declares the same Kubernetes children, with the provider of the `providers` option", async () => {
    const cluster = new k8s.Provider("cluster", {});
    await resolve(cluster.urn);
    const replicas: ReplicaOptionsInput = {
      count: 3,
      runtime: "kubernetes",
      namespace: "apps",
      ports: [8080],
      service: { type: "NodePort" },
      resources: { limits: { memory: "32Mi" } },
    };
    const wire = {
      source: "pausle",
      imageName: "pausle",
      registry: {
        server: "127.0.0.1:5000",
        username: "ci",
        password: outputValue("hunter2", { secret: true }),
      },
      replicas,
    };
    // The server rebuilds the providers map from the request's references, keyed by package.
    const constructed = await viaConstruct(await received(wire), { providers: { kubernetes: cluster } });
    const typed = await viaTypeScript(
      {
        source: "pausle",
        imageName: "pausle",
        registry: { server: "127.0.0.1:5000", username: "ci", password: pulumi.secret("hunter2") },
        replicas,
      },
      { providers: [cluster] },
    );

    assert.deepEqual(constructed.children, typed.children);
    assert.deepEqual(constructed.outputs, typed.outputs);
    const kubernetes = constructed.children.filter((child) => child.type.startsWith("kubernetes:"));
    assert.deepEqual(kubernetes.map((child) => child.type).sort(), [
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:Secret",
      "kubernetes:core/v1:Service",
    ]);
    for (const child of kubernetes) {
      assert.match(
        child.provider ?? "",
        /pulumi:providers:kubernetes::cluster::/,
        `${child.type} uses the cluster`,
      );
    }
    assert.equal(constructed.outputs.namespace?.value, "apps");
    assert.match((constructed.outputs.replicaNames?.value as string[])[0], /^pausle-[0-9a-f]{8}$/);
  });

  describe("refuses a wrong input from another language with the same field-named error", () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["a replica count as a string", { replicas: { count: "3" } }, "replicas.count"],
      ["an unknown toolchain", { recipe: { toolchain: "cobol" } }, "recipe.toolchain"],
      [
        "a Service given as true",
        { replicas: { runtime: "kubernetes", ports: [80], service: true } },
        "replicas.service",
      ],
      ["an unknown replica option", { replicas: { colour: "red" } }, "replicas.colour"],
      ["an empty registry server", { registry: { server: "" } }, "registry.server"],
      ["a budget as a string", { maxImageBytes: "16k" }, "maxImageBytes"],
    ];
    for (const [what, change, field] of cases) {
      it(`${what}: ${field}`, async () => {
        const wire = {
          source: "pausle",
          imageName: "pausle",
          registry: { server: "127.0.0.1:5000" },
          ...change,
        };
        const expected = captureError(() => new (seamed())("pausle", wire as unknown as MinimalImageArgs));
        assert.ok(expected instanceof InputError && expected.field === field, String(expected));
        await assert.rejects(
          provider.construct("pausle", TYPE, await received(wire), {}),
          (error: unknown) => {
            assert.ok(error instanceof InputError);
            assert.equal(error.message, expected.message);
            return true;
          },
        );
      });
    }

    it("replicas that depend on another resource: replicas must be a plain value", async () => {
      const wire = {
        source: "pausle",
        imageName: "pausle",
        registry: { server: "127.0.0.1:5000" },
        replicas: outputValue({ count: 2 }, { dependencies: [UPSTREAM] }),
      };
      await assert.rejects(
        provider.construct("pausle", TYPE, await received(wire, { replicas: [UPSTREAM] }), {}),
        (error: unknown) => error instanceof InputError && error.field === "replicas",
      );
    });

    it("a Kubernetes provider among the replica options: use the providers option", async () => {
      const cluster = new k8s.Provider("elsewhere", {});
      const urn = await resolve(cluster.urn);
      const reference = { [specialSigKey]: pulumi.runtime.specialResourceSig, urn, id: "elsewhere-id" };
      const wire = {
        source: "pausle",
        imageName: "pausle",
        registry: { server: "127.0.0.1:5000" },
        replicas: { runtime: "kubernetes", provider: reference },
      };
      await assert.rejects(provider.construct("pausle", TYPE, await received(wire), {}), (error: unknown) => {
        assert.ok(error instanceof InputError && error.field === "replicas.provider", String(error));
        assert.match(error.message, /`providers` option/);
        return true;
      });
    });
  });

  /** The registered children once registrations have stopped arriving (bounded: 50 turns of 10 ms). */
  async function settled(): Promise<Declared[]> {
    let seen = -1;
    for (let turn = 0; turn < 50 && seen !== resources.length; turn++) {
      seen = resources.length;
      await new Promise((done) => setTimeout(done, 10));
    }
    return resources
      .filter((resource) => resource.type !== TYPE)
      .sort((a, b) => `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`));
  }
});

/** Every output's value and secretness; absent outputs (Docker has no namespace) as undefined. */
async function resolveOutputs(source: Record<string, unknown>) {
  const result: Record<string, { value: unknown; secret: boolean } | undefined> = {};
  for (const name of OUTPUTS) {
    const output = source[name] as pulumi.Output<unknown> | undefined;
    result[name] = output && { value: await resolve(output), secret: await pulumi.isSecret(output) };
  }
  return result;
}

/** Resolves an Output in a mocked program (Outputs of a mocked update are always known). */
function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((done) => output.apply((value) => done(value)));
}

function captureError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}
