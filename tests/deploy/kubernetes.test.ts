import assert from "node:assert/strict";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import {
  DIGEST_ANNOTATION,
  dockerConfigJson,
  kubernetesReplicaSpec,
  KubernetesReplicaSpecInput,
} from "../../components/deploy/kubernetes";
import { REPLICA_OF_LABEL } from "../../components/deploy/options";
import {
  DIGEST,
  IMAGE_REF,
  OTHER_DIGEST,
  OTHER_IMAGE_REF,
  assertInputError,
  kubernetesOptions,
} from "./fixtures";
import { assertHardenedPodSpec, assertRestrictedPodSpec } from "./restricted";

function spec(overrides: Partial<KubernetesReplicaSpecInput> = {}) {
  return kubernetesReplicaSpec({
    name: "pausle",
    imageRef: IMAGE_REF,
    options: kubernetesOptions(),
    ...overrides,
  });
}

describe("deploy: kubernetesReplicaSpec", () => {
  for (const count of [0, 1, 3]) {
    it(`runs ${count} restricted replica(s) of the digest`, () => {
      const { deployment, service } = spec({ options: kubernetesOptions({ count }) });
      assert.equal(deployment.apiVersion, "apps/v1");
      assert.equal(deployment.kind, "Deployment");
      assert.equal(deployment.metadata.name, "pausle");
      assert.equal(deployment.spec.replicas, count);
      const pod = deployment.spec.template.spec;
      assertRestrictedPodSpec(pod);
      assertHardenedPodSpec(pod);
      assert.equal(pod.containers.length, 1);
      assert.equal(pod.containers[0].image, IMAGE_REF);
      assert.equal(deployment.spec.template.metadata.annotations[DIGEST_ANNOTATION], DIGEST);
      assert.deepEqual(pod.containers[0].resources, {
        requests: { cpu: "10m", memory: "16Mi" },
        limits: { cpu: "100m", memory: "64Mi" },
      });
      assert.equal(pod.imagePullSecrets, undefined);
      assert.equal(service, undefined);
    });
  }

  it("selects its pods by a stable label that the pod template carries", () => {
    const { deployment } = spec({ options: kubernetesOptions({ labels: { tier: "edge" } }) });
    assert.deepEqual(deployment.spec.selector.matchLabels, { [REPLICA_OF_LABEL]: "pausle" });
    assert.deepEqual(deployment.spec.template.metadata.labels, {
      tier: "edge",
      [REPLICA_OF_LABEL]: "pausle",
    });
    assert.deepEqual(deployment.metadata.labels, deployment.spec.template.metadata.labels);
  });

  it("changes the pod template, and only it, when the digest changes: a rollout", () => {
    const before = spec();
    const after = spec({ imageRef: OTHER_IMAGE_REF });
    assert.equal(after.deployment.spec.template.spec.containers[0].image, OTHER_IMAGE_REF);
    assert.equal(after.deployment.spec.template.metadata.annotations[DIGEST_ANNOTATION], OTHER_DIGEST);
    assert.notDeepEqual(after.deployment.spec.template, before.deployment.spec.template);
    assert.deepEqual(after.deployment.spec.selector, before.deployment.spec.selector);
    assert.deepEqual(after.deployment.metadata, before.deployment.metadata);
  });

  it("refuses a Service for a name that starts with a digit (Service names are DNS-1035 labels)", () => {
    const withService = kubernetesOptions({ ports: [8080], service: {} });
    const error = assertInputError(() => spec({ name: "1app", options: withService }), "name");
    assert.match(error.message, /starts with a letter/);
    assert.equal(
      spec({ name: "1app" }).service,
      undefined,
      "without a Service, the name is a valid Deployment name",
    );
  });

  it("schedules onto nodes of the image's platform", () => {
    const pod = spec({ platform: "linux/arm64" }).deployment.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64" });
  });

  it("schedules an index's replicas onto nodes of every architecture built, and no other", () => {
    const pod = spec({ platform: ["linux/amd64", "linux/arm64"] }).deployment.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/os": "linux" });
    assert.deepEqual(pod.affinity, {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64", "arm64"] }] },
          ],
        },
      },
    });
    assertRestrictedPodSpec(pod);
    // The API server's own schema accepts it (and refuses a term that is not a list, so it does check).
    const deployment = spec({ platform: ["linux/amd64", "linux/arm64"] }).deployment;
    new Deployment(deployment).validate();
    const broken = structuredClone(deployment) as unknown as {
      spec: { template: { spec: { affinity: unknown } } };
    };
    broken.spec.template.spec.affinity = {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: "x" },
    };
    assert.throws(() => new Deployment(broken as never).validate());
    // A list of one is that platform's selector, as before.
    const one = spec({ platform: ["linux/arm64"] }).deployment.spec.template.spec;
    assert.deepEqual(one.nodeSelector, { "kubernetes.io/os": "linux", "kubernetes.io/arch": "arm64" });
    assert.equal(one.affinity, undefined);
  });

  it("refuses platforms of two operating systems, which one pod template cannot select", () => {
    assertInputError(() => spec({ platform: ["linux/amd64", "windows/amd64"] }), "platform");
  });

  it("refuses a tag, with or without a digest, and a bad reference", () => {
    const err = assertInputError(() => spec({ imageRef: "127.0.0.1:5000/team/pausle:v1" }), "imageRef");
    assert.match(err.message, /not pinned by digest/);
    assert.match(err.message, /@sha256:/);
    assertInputError(() => spec({ imageRef: `127.0.0.1:5000/team/pausle:v1@${DIGEST}` }), "imageRef");
    assertInputError(() => spec({ imageRef: "127.0.0.1:5000/team/pausle" }), "imageRef");
    assertInputError(() => spec({ imageRef: "Not A Ref" }), "imageRef");
  });

  it("refuses a name that cannot be a Deployment, container and label value", () => {
    for (const name of ["Pausle", "pausle_1", "", "p".repeat(64), "-p"])
      assertInputError(() => spec({ name }), "name");
  });

  it("names the pull secret when given one", () => {
    const pod = spec({ pullSecretName: "pausle-pull" }).deployment.spec.template.spec;
    assert.deepEqual(pod.imagePullSecrets, [{ name: "pausle-pull" }]);
    assertInputError(() => spec({ pullSecretName: "Pull_Secret" }), "pullSecretName");
  });

  it("declares ports and probes them over TCP only, on the first port", () => {
    const container = spec({ options: kubernetesOptions({ ports: [8080, 9090] }) }).deployment.spec.template
      .spec.containers[0];
    assert.deepEqual(container.ports, [
      { name: "tcp-8080", containerPort: 8080, protocol: "TCP" },
      { name: "tcp-9090", containerPort: 9090, protocol: "TCP" },
    ]);
    assert.deepEqual(container.readinessProbe, { tcpSocket: { port: 8080 } });
    assert.deepEqual(container.livenessProbe, { tcpSocket: { port: 8080 } });
    assertHardenedPodSpec({ ...spec().deployment.spec.template.spec, containers: [container] });
  });

  it("has no probe when the binary declares no port", () => {
    const container = spec().deployment.spec.template.spec.containers[0];
    assert.equal(container.readinessProbe, undefined);
    assert.equal(container.livenessProbe, undefined);
    assert.equal(container.ports, undefined);
  });

  it("passes args, env, namespace and resources through", () => {
    const { deployment } = spec({
      options: kubernetesOptions({
        namespace: "apps",
        args: ["--flag", "x"],
        env: { A: "1", B: "" },
        resources: { requests: { cpu: "50m" }, limits: { cpu: "1", memory: "1Gi" } },
      }),
    });
    const container = deployment.spec.template.spec.containers[0];
    assert.equal(deployment.metadata.namespace, "apps");
    assert.deepEqual(container.args, ["--flag", "x"]);
    assert.deepEqual(container.env, [
      { name: "A", value: "1" },
      { name: "B", value: "" },
    ]);
    assert.deepEqual(container.resources, {
      requests: { cpu: "50m", memory: "16Mi" },
      limits: { cpu: "1", memory: "1Gi" },
    });
  });

  it("fronts the pods with a ClusterIP Service on `service: {}`", () => {
    const { deployment, service } = spec({ options: kubernetesOptions({ ports: [8080], service: {} }) });
    assert.ok(service);
    assert.equal(service.apiVersion, "v1");
    assert.equal(service.kind, "Service");
    assert.equal(service.metadata.name, "pausle");
    assert.equal(service.spec.type, "ClusterIP");
    assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
    assert.deepEqual(service.spec.ports, [
      { name: "tcp-8080", port: 8080, targetPort: 8080, protocol: "TCP" },
    ]);
  });

  it("serves the first port on `service.port` and the others on their own number", () => {
    const { service } = spec({
      options: kubernetesOptions({
        namespace: "apps",
        ports: [8080, 9090],
        service: { type: "NodePort", port: 80 },
      }),
    });
    assert.equal(service?.spec.type, "NodePort");
    assert.equal(service?.metadata.namespace, "apps");
    assert.deepEqual(service?.spec.ports, [
      { name: "tcp-8080", port: 80, targetPort: 8080, protocol: "TCP" },
      { name: "tcp-9090", port: 9090, targetPort: 9090, protocol: "TCP" },
    ]);
  });
});

describe("deploy: dockerConfigJson", () => {
  it("holds the login for the server, with `auth` as base64 user:password", () => {
    const config = JSON.parse(dockerConfigJson("127.0.0.1:5000", "ci", "p@ss:word"));
    assert.deepEqual(Object.keys(config.auths), ["127.0.0.1:5000"]);
    const entry = config.auths["127.0.0.1:5000"];
    assert.equal(entry.username, "ci");
    assert.equal(entry.password, "p@ss:word");
    assert.equal(Buffer.from(entry.auth, "base64").toString(), "ci:p@ss:word");
  });

  it("refuses an empty server, a username with a colon and an empty password", () => {
    assertInputError(() => dockerConfigJson("", "ci", "pw"), "registry.server");
    assertInputError(() => dockerConfigJson("reg istry", "ci", "pw"), "registry.server");
    assertInputError(() => dockerConfigJson("r", "ci", "pw"), "registry.server");
    assertInputError(() => dockerConfigJson("registry.example", "", "pw"), "registry.username");
    assertInputError(() => dockerConfigJson("registry.example", "a:b", "pw"), "registry.username");
    assertInputError(() => dockerConfigJson("registry.example", "ci", ""), "registry.password");
  });
});
