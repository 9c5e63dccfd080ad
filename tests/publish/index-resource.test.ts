// The image index on the real registry (127.0.0.1:5000, `scripts/dev-env up`): first the MultiPlatformIndex's
// serialized provider alone, as Pulumi's dynamic provider host runs it, then pausle built for linux/amd64 and
// linux/arm64 through the harness, with a Docker replica on this amd64 engine.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import type { StackRunResult } from "../../harness/executor";
import { inspectImage } from "../../components/inspect";
import { MultiPlatformIndex, OCI_INDEX_MEDIA_TYPE, pushImageIndex } from "../../components/publish";
import { RegistryClient } from "../../components/oci";
import { removeRepositories } from "../support/engine";
import { LOCAL_REGISTRY, uniqueName } from "../support/env";
import { MEDIA } from "../support/fake-registry";
import { INDEX_TYPE, registrationsSettled, serializedProvider, setRecordingMocks } from "../support/pulumi";
import { TestRegistry } from "../support/registry";
import { containersOf, TestStack } from "../support/stack";

// Every engine call is bounded: a hung daemon fails the test instead of stalling the run.
const docker = new Docker({ timeout: 60_000 });
const FIXTURE = path.join(__dirname, "..", "fixtures", "replica-stack");

/** An index as the registry serves it. */
interface Index {
  mediaType: string;
  manifests: { digest: string; platform: { os: string; architecture: string } }[];
}

/** The index a reference names, fetched and parsed. */
async function fetchIndex(client: RegistryClient, repository: string, reference: string): Promise<Index> {
  const fetched = await client.fetchManifest(repository, reference);
  assert.equal(fetched.mediaType, OCI_INDEX_MEDIA_TYPE);
  return fetched.json as Index;
}

describe("publish: the image index on the real registry @integration", function () {
  this.timeout(120_000);
  const client = new RegistryClient(LOCAL_REGISTRY);
  const repository = `minimal-image-test/${uniqueName("index")}`;

  /** Pushes a one-layer image whose config names `architecture`; returns its manifest digest. */
  async function pushImage(architecture: string, to = client): Promise<string> {
    const layer = Buffer.from(`layer of ${architecture}`);
    const config = Buffer.from(JSON.stringify({ architecture, os: "linux", rootfs: { type: "layers" } }));
    const manifest = {
      schemaVersion: 2,
      mediaType: MEDIA.dockerManifest,
      config: {
        mediaType: MEDIA.dockerConfig,
        digest: await to.putBlob(repository, config),
        size: config.length,
      },
      layers: [
        { mediaType: MEDIA.dockerLayer, digest: await to.putBlob(repository, layer), size: layer.length },
      ],
    };
    return to.putManifest(
      repository,
      architecture,
      Buffer.from(JSON.stringify(manifest)),
      MEDIA.dockerManifest,
    );
  }

  /** The provider Pulumi serializes into an MultiPlatformIndex's state, taken from a registration under mocks. */
  async function indexProvider(): Promise<ReturnType<typeof serializedProvider>> {
    let inputs: Record<string, unknown> | undefined;
    await setRecordingMocks((resource) => resource.type === INDEX_TYPE && (inputs = resource.inputs), {
      digest: `sha256:${"ab".repeat(32)}`,
      preview: true,
    });
    new MultiPlatformIndex("index", { imageName: "unused", manifests: [] });
    await registrationsSettled();
    assert.ok(inputs, "the index was registered");
    return serializedProvider(inputs);
  }

  it("pushes an OCI index of each platform's manifest under the tag; a second push is the same digest", async () => {
    const amd64 = await pushImage("amd64");
    const arm64 = await pushImage("arm64");
    const provider = await indexProvider();
    const inputs = {
      imageName: `${LOCAL_REGISTRY}/${repository}:v1`,
      manifests: [
        { platform: "linux/amd64", imageRef: `${LOCAL_REGISTRY}/${repository}@${amd64}` },
        { platform: "linux/arm64", imageRef: `${LOCAL_REGISTRY}/${repository}@${arm64}` },
      ],
      username: null,
      password: null,
    };
    const first = await provider.create(inputs);
    const digest = String(first.outs.digest);
    assert.equal(first.id, `${LOCAL_REGISTRY}/${repository}@${digest}`);
    assert.equal(first.outs.imageRef, first.id);
    assert.ok(!("password" in first.outs), "the password stays out of the outputs");
    const index = await fetchIndex(client, repository, "v1");
    assert.deepEqual(
      index.manifests.map((entry) => [entry.digest, entry.platform]),
      [
        [amd64, { architecture: "amd64", os: "linux" }],
        [arm64, { architecture: "arm64", os: "linux" }],
      ],
    );
    assert.equal((await client.fetchManifest(repository, "v1")).digest, digest, "the tag names the index");
    // Each engine resolves its own platform out of it.
    const resolved = await client.resolveImage(repository, digest, { os: "linux", architecture: "arm64" });
    assert.equal(resolved.manifestDigest, arm64);
    const again = await provider.create(inputs);
    assert.equal(again.outs.digest, digest, "the same images give the same index bytes");
  });

  it("authenticates with the given credentials, else docker login's, and never shows the password", async () => {
    const login = { username: "ci", password: "index-hunter2" };
    const locked = await TestRegistry.start(login);
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-index-"));
    try {
      const amd64 = await pushImage("amd64", new RegistryClient(locked.host, login));
      const request = {
        imageName: `${locked.host}/${repository}:v1`,
        manifests: [{ platform: "linux/amd64", imageRef: `${locked.host}/${repository}@${amd64}` }],
      };
      const provider = await indexProvider();
      const pushed = await provider.create({ ...request, ...login });
      assert.ok(!JSON.stringify(pushed.outs).includes(login.password), "not in the outputs");
      const wrong = "wrong-hunter3";
      await assert.rejects(
        provider.create({ ...request, username: "ci", password: wrong }),
        (error: Error) => {
          assert.match(error.message, /registry\.username|credentials|denied|rejected/i);
          assert.ok(!error.message.includes(wrong), "not in the error");
          return true;
        },
      );
      // Without credentials, those `docker login` stored, as the provider's push uses them.
      const auth = Buffer.from(`${login.username}:${login.password}`).toString("base64");
      const dockerConfig = path.join(work, "config.json");
      fs.writeFileSync(dockerConfig, JSON.stringify({ auths: { [locked.host]: { auth } } }));
      assert.equal((await pushImageIndex({ ...request, dockerConfig })).digest, pushed.outs.digest);
    } finally {
      await locked.remove();
      fs.rmSync(work, { recursive: true, force: true });
    }
  });

  it("refuses an image outside the index's repository, naming the platform", async () => {
    const provider = await indexProvider();
    await assert.rejects(
      provider.create({
        imageName: `${LOCAL_REGISTRY}/${repository}:v1`,
        manifests: [
          { platform: "linux/arm64", imageRef: `${LOCAL_REGISTRY}/elsewhere@sha256:${"0".repeat(64)}` },
        ],
      }),
      /linux\/arm64's image .* is not pinned by digest in/,
    );
  });
});

describe("platforms: pausle for linux/amd64 and linux/arm64 through the harness @integration", function () {
  this.timeout(900_000);
  const name = uniqueName("mi-platforms");
  const imageName = `minimal-image-test/${name}`;
  const stack = new TestStack(FIXTURE, name);
  const config = {
    name,
    imageName,
    platforms: JSON.stringify(["linux/amd64", "linux/arm64"]),
    replicas: JSON.stringify({ count: 1 }),
  };
  const client = new RegistryClient(LOCAL_REGISTRY);

  after(async () => {
    await stack.destroy();
    // What the stack leaves on the engine by design: each docker.Image's build and the replica's pull.
    await removeRepositories(`${LOCAL_REGISTRY}/${imageName}`);
  });

  it("pushes both under one index, each static for its machine; a replica here runs the amd64 image; a second run changes nothing", async () => {
    const result = await stack.run(config);
    const imageRef = String(result.outputs.imageRef);
    const digest = imageRef.slice(imageRef.indexOf("@") + 1);
    const index = await fetchIndex(client, imageName, digest);
    const platforms = result.outputs.platformImages as Record<string, { imageRef: string; digest: string }>;
    assert.deepEqual(Object.keys(platforms), ["linux/amd64", "linux/arm64"]);
    assert.deepEqual(
      index.manifests.map((entry) => [entry.digest, entry.platform]),
      [
        [platforms["linux/amd64"].digest, { architecture: "amd64", os: "linux" }],
        [platforms["linux/arm64"].digest, { architecture: "arm64", os: "linux" }],
      ],
    );
    assert.equal((await client.fetchManifest(imageName, "latest")).digest, digest, "the tag names the index");

    // Each platform's binary, read out of the index by the product's ELF reader.
    const arm64 = await inspectImage(imageRef, { platform: "linux/arm64" });
    assert.deepEqual([arm64.machine, arm64.isStatic], ["AArch64", true]);
    const amd64 = await inspectImage(imageRef, { platform: "linux/amd64" });
    assert.deepEqual([amd64.machine, amd64.isStatic], ["x86-64", true]);

    // The engine pulled its own platform out of the index: the container's image is the amd64 image, whose
    // ID is its config's digest on this (overlay2) engine.
    const amd64Manifest = await client.resolveImage(imageName, digest, {
      os: "linux",
      architecture: "amd64",
    });
    const containers = [...(await containersOf(result, docker)).values()];
    assert.equal(containers.length, 1);
    assert.equal(containers[0].Image, amd64Manifest.manifest.config.digest);
    assert.equal(containers[0].State.Running, true);

    const changes = (run: StackRunResult) =>
      run.records
        .filter((record) => !["same", "component"].includes(record.operation))
        .map((record) => `${record.operation} ${record.name}`);
    assert.deepEqual(changes(await stack.run(config, { preview: true })), [], "a preview plans nothing");
    const second = await stack.run(config);
    assert.deepEqual(changes(second), [], "a second run changes nothing");
    assert.equal(second.outputs.imageRef, imageRef);
  });
});
