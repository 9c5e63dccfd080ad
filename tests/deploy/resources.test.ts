import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { REPLICA_INDEX_LABEL, dockerReplicaSpecs } from "../../components/deploy/docker";
import { DIGEST_ANNOTATION, kubernetesReplicaSpec } from "../../components/deploy/kubernetes";
import { DigestRefInput } from "../../components/deploy/digest";
import { DockerReplicaOptions, REPLICA_OF_LABEL } from "../../components/deploy/options";
import { createDockerReplicas, createKubernetesReplicas } from "../../components/deploy/resources";
import { DIGEST, IMAGE_REF, assertInputError, dockerOptions, kubernetesOptions } from "./fixtures";
import { isSecretInput, registrationsSettled, settle } from "../support/pulumi";

const PASSWORD = "s3cret-Pa55word";
const IMAGE_ID = `sha256:${"ef".repeat(32)}`;
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const CONTAINER = "docker:index/container:Container";

/** What the mocked engine was asked to create, by resource name and type. */
const registered: pulumi.runtime.MockResourceArgs[] = [];

// Mock inputs are plain deserialized JSON; `any` keeps the assertions on them readable.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function inputsOf(type: string, name: string): Record<string, any> {
  const found = registered.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `expected one ${type} named ${name}, got ${found.length}`);
  return found[0].inputs;
}

/** Every input the mock received, with secret-wrapped values blanked out. */
function withoutSecrets(value: unknown): unknown {
  if (isSecretInput(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(withoutSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutSecrets(v)]));
  }
  return value;
}

describe("deploy: Pulumi resources (mocked engine)", () => {
  let parent: pulumi.ComponentResource;

  before(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push(args);
          // Report every desired replica as ready, as a finished rollout would.
          const status =
            args.type === "kubernetes:apps/v1:Deployment" ? { readyReplicas: args.inputs.spec.replicas } : {};
          // A pulled image reports the engine's image ID, which is what containers are created from.
          const pulled = args.type === REMOTE_IMAGE ? { imageId: IMAGE_ID } : {};
          return { id: `${args.name}-id`, state: { ...args.inputs, status, ...pulled } };
        },
        call: (args) => args.inputs,
      },
      "minimal-image",
      "test",
      false,
    );
    parent = new pulumi.ComponentResource("minimal-image:test:Parent", "parent");
  });

  beforeEach(() => {
    registered.length = 0;
  });

  describe("Kubernetes", () => {
    for (const count of [0, 1, 3]) {
      it(`creates a restricted Deployment of ${count} replica(s) by digest and reports them`, async () => {
        const name = `k8s-${count}`;
        const spec = kubernetesReplicaSpec({
          name,
          imageRef: IMAGE_REF,
          options: kubernetesOptions({ count }),
        });
        const replicas = createKubernetesReplicas(name, spec, { parent });
        assert.equal(await settle(replicas.readyReplicas), count);
        assert.equal(await settle(replicas.deploymentName), name);
        assert.equal(replicas.service, undefined);
        assert.equal(replicas.pullSecret, undefined);
        const inputs = inputsOf("kubernetes:apps/v1:Deployment", name);
        assert.equal(inputs.spec.replicas, count);
        // The pod spec is kubernetesReplicaSpec's, whose hardening kubernetes.test.ts checks; here, that it arrives.
        const pod = inputs.spec.template.spec;
        assert.equal(pod.containers[0].image, IMAGE_REF);
        assert.equal(inputs.spec.template.metadata.annotations[DIGEST_ANNOTATION], DIGEST);
        assert.deepEqual(
          registered.map((r) => r.type),
          ["kubernetes:apps/v1:Deployment"],
        );
      });
    }

    it("reports the namespace and creates the Service when asked", async () => {
      const options = kubernetesOptions({ namespace: "apps", ports: [8080], service: {} });
      const spec = kubernetesReplicaSpec({ name: "svc", imageRef: IMAGE_REF, options });
      const replicas = createKubernetesReplicas("svc", spec, { parent });
      assert.equal(await settle(replicas.namespace), "apps");
      assert.ok(replicas.service);
      await settle(replicas.service.urn);
      const service = inputsOf("kubernetes:core/v1:Service", "svc");
      assert.equal(service.metadata.namespace, "apps");
      assert.deepEqual(service.spec.selector, { [REPLICA_OF_LABEL]: "svc" });
    });

    it("keeps the registry password secret in the pull Secret and out of everything else", async () => {
      const options = kubernetesOptions({ namespace: "apps" });
      const spec = kubernetesReplicaSpec({
        name: "priv",
        imageRef: IMAGE_REF,
        options,
        pullSecretName: "priv-pull",
      });
      const creds = { server: "127.0.0.1:5000", username: "ci", password: pulumi.secret(PASSWORD) };
      const replicas = createKubernetesReplicas("priv", spec, { parent }, creds);
      assert.ok(replicas.pullSecret);
      assert.equal(await pulumi.isSecret(replicas.pullSecret.data), true);
      await settle(replicas.deployment.urn);

      const secret = inputsOf("kubernetes:core/v1:Secret", "priv-pull");
      assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
      assert.deepEqual(secret.metadata, {
        name: "priv-pull",
        namespace: "apps",
        labels: { [REPLICA_OF_LABEL]: "priv" },
      });
      assert.ok(isSecretInput(secret.data), "the Secret's data must reach the engine as a secret");
      const config = JSON.parse(Buffer.from(secret.data.value[".dockerconfigjson"], "base64").toString());
      assert.equal(config.auths["127.0.0.1:5000"].password, PASSWORD);

      const deployment = inputsOf("kubernetes:apps/v1:Deployment", "priv");
      assert.deepEqual(deployment.spec.template.spec.imagePullSecrets, [{ name: "priv-pull" }]);
      for (const resource of registered) {
        const visible = JSON.stringify(withoutSecrets(resource.inputs));
        assert.ok(!visible.includes(PASSWORD), `${resource.type} ${resource.name} shows the password`);
        assert.ok(!visible.includes(Buffer.from(`ci:${PASSWORD}`).toString("base64")));
      }
    });

    it("refuses credentials when the spec names no pull secret", () => {
      const spec = kubernetesReplicaSpec({
        name: "nopull",
        imageRef: IMAGE_REF,
        options: kubernetesOptions(),
      });
      const creds = { server: "127.0.0.1:5000", username: "ci", password: pulumi.secret(PASSWORD) };
      assertInputError(() => createKubernetesReplicas("nopull", spec, { parent }, creds), "registryCreds");
    });

    it("uses the Kubernetes provider of the parent's `providers` option", async () => {
      const provider = new k8s.Provider("cluster", {});
      const owner = new pulumi.ComponentResource(
        "minimal-image:test:Parent",
        "owner",
        {},
        { providers: [provider] },
      );
      const spec = kubernetesReplicaSpec({ name: "prov", imageRef: IMAGE_REF, options: kubernetesOptions() });
      const replicas = createKubernetesReplicas("prov", spec, { parent: owner });
      await settle(replicas.deployment.urn);
      const deployment = registered.find((r) => r.type === "kubernetes:apps/v1:Deployment");
      assert.match(deployment?.provider ?? "", /pulumi:providers:kubernetes::cluster::/);
    });

    it("takes a digest reference that is still an output, and checks it once known", async () => {
      const spec = kubernetesReplicaSpec({
        name: "later",
        imageRef: pulumi.output(IMAGE_REF),
        options: kubernetesOptions(),
      });
      const replicas = createKubernetesReplicas("later", spec, { parent });
      await settle(replicas.deployment.urn);
      const pod = inputsOf("kubernetes:apps/v1:Deployment", "later").spec.template.spec;
      assert.equal(pod.containers[0].image, IMAGE_REF);

      const tagged = kubernetesReplicaSpec({
        name: "tagged",
        imageRef: pulumi.output("127.0.0.1:5000/team/pausle:v1"),
        options: kubernetesOptions(),
      });
      await assert.rejects(
        settle(tagged.deployment.spec.template.spec.containers[0].image),
        /not pinned by digest/,
      );
    });
  });

  describe("Docker", () => {
    /** Creates the replicas of `options` and waits until the mock has seen them all. */
    async function dockerReplicas(
      name: string,
      options: DockerReplicaOptions,
      imageRef: DigestRefInput = IMAGE_REF,
    ) {
      const containers = createDockerReplicas(name, dockerReplicaSpecs({ name, imageRef, options }), {
        parent,
      });
      await Promise.all(containers.map((c) => settle(c.urn)));
      return containers;
    }

    for (const count of [0, 1, 3]) {
      it(`creates ${count} hardened container(s) keyed <name>-<i>, from the pulled digest`, async () => {
        const name = `dock-${count}`;
        const options = dockerOptions({ count, env: { A: "1" }, args: ["--x"], labels: { tier: "edge" } });
        const containers = await dockerReplicas(name, options);
        assert.equal(containers.length, count);
        const names = Array.from({ length: count }, (_, i) => `${CONTAINER} ${name}-${i}`);
        assert.deepEqual(
          registered.map((r) => `${r.type} ${r.name}`),
          count === 0 ? [] : [`${REMOTE_IMAGE} ${name}-image`, ...names],
        );
        if (count > 0)
          assert.deepEqual(inputsOf(REMOTE_IMAGE, `${name}-image`), {
            name: IMAGE_REF,
            platform: "linux/amd64",
            keepLocally: true,
          });
        for (let i = 0; i < count; i++) {
          const inputs = inputsOf(CONTAINER, `${name}-${i}`);
          assert.equal(inputs.name, `${name}-${i}`);
          assert.equal(inputs.image, IMAGE_ID, "the image ID of the pulled digest, never a tag");
          assert.equal(inputs.user, "65532:65532");
          assert.equal(inputs.readOnly, true);
          assert.deepEqual(inputs.capabilities, { drops: ["ALL"] });
          assert.deepEqual(inputs.securityOpts, ["no-new-privileges:true"]);
          assert.equal(inputs.memory, 64, "the provider takes MiB");
          assert.equal(inputs.memorySwap, 64);
          assert.equal(inputs.cpus, "0.5", "half a CPU by default");
          assert.equal(inputs.restart, "unless-stopped");
          assert.deepEqual(inputs.labels, [
            { label: "tier", value: "edge" },
            { label: REPLICA_OF_LABEL, value: name },
            { label: REPLICA_INDEX_LABEL, value: String(i) },
          ]);
          assert.deepEqual(inputs.envs, ["A=1"]);
          assert.deepEqual(inputs.command, ["--x"]);
          assert.deepEqual(inputs.ports, []);
          assert.equal(inputs.networksAdvanced, undefined);
        }
      });
    }

    it("publishes on 127.0.0.1 with a Docker-chosen port and joins the network", async () => {
      const network = "net1";
      await dockerReplicas(
        "pub",
        dockerOptions({ count: 2, ports: [8080], publishedPorts: [{ port: 8080 }], network }),
      );
      const inputs = inputsOf(CONTAINER, "pub-1");
      assert.deepEqual(inputs.ports, [{ internal: 8080, ip: "127.0.0.1", protocol: "tcp" }]);
      assert.deepEqual(inputs.networksAdvanced, [{ name: network }]);
      assert.equal(inputs.command, undefined);
    });

    it("takes a digest reference that is still an output", async () => {
      await dockerReplicas("out", dockerOptions({ count: 2 }), pulumi.output(IMAGE_REF));
      assert.equal(inputsOf(REMOTE_IMAGE, "out-image").name, IMAGE_REF);
      assert.equal(inputsOf(CONTAINER, "out-1").image, IMAGE_ID);
    });

    it("refuses specs that are not <name>-0, <name>-1, … in order, before creating anything", async () => {
      const specs = dockerReplicaSpecs({
        name: "mix",
        imageRef: IMAGE_REF,
        options: dockerOptions({ count: 2 }),
      });
      assertInputError(() => createDockerReplicas("mix", [specs[0], specs[0]], { parent }), "specs[1].name");
      assertInputError(() => createDockerReplicas("other", specs, { parent }), "specs[0].name");
      await registrationsSettled();
      assert.equal(registered.length, 0);
    });
  });
});
