import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DEFAULT_RESOURCES,
  MAX_COUNT,
  dnsSubdomain,
  validateReplicaOptions,
} from "../../components/deploy/options";
import { assertInputError, dockerOptions, kubernetesOptions } from "./fixtures";

const MiB = 1024 * 1024;

describe("deploy: validateReplicaOptions", () => {
  it("defaults to one Docker replica, 64 MiB, unless-stopped, nothing published", () => {
    assert.deepEqual(validateReplicaOptions({}), {
      runtime: "docker",
      count: 1,
      labels: {},
      ports: [],
      env: {},
      args: [],
      network: undefined,
      publishedPorts: [],
      memoryLimitBytes: 64 * MiB,
      cpuMillis: 500,
      restartPolicy: "unless-stopped",
    });
  });

  it("defaults Kubernetes replicas to small requests and limits and no Service", () => {
    const options = kubernetesOptions();
    assert.deepEqual(options.resources, {
      requests: { cpu: "10m", memory: "16Mi" },
      limits: { cpu: "100m", memory: "64Mi" },
    });
    assert.equal(options.service, undefined);
    assert.equal(options.namespace, undefined);
    assert.notEqual(options.resources, DEFAULT_RESOURCES, "defaults must be copied, not shared");
  });

  it("keeps what is given and fills the rest", () => {
    const options = kubernetesOptions({
      count: 3,
      namespace: "apps",
      labels: { "app.kubernetes.io/part-of": "demo", tier: "" },
      ports: [8080, 9090],
      env: { LOG_LEVEL: "debug", _X1: "" },
      args: ["--listen", ":8080"],
      resources: { limits: { memory: "128Mi" } },
      service: { type: "NodePort", port: 80 },
    });
    assert.equal(options.count, 3);
    assert.deepEqual(options.resources, {
      requests: { cpu: "10m", memory: "16Mi" },
      limits: { cpu: "100m", memory: "128Mi" },
    });
    assert.deepEqual(options.service, { type: "NodePort", port: 80 });
    assert.deepEqual(options.args, ["--listen", ":8080"]);
  });

  it("turns `service: {}` into a ClusterIP Service on the first port, and no service into none", () => {
    assert.deepEqual(kubernetesOptions({ ports: [8080], service: {} }).service, {
      type: "ClusterIP",
      port: 8080,
    });
    assert.equal(kubernetesOptions({ ports: [8080] }).service, undefined);
  });

  it("refuses `service: true` (the old shape), saying what to give instead", () => {
    const err = assertInputError(
      () => validateReplicaOptions({ runtime: "kubernetes", ports: [8080], service: true }),
      "replicas.service",
    );
    assert.match(err.message, /Give `\{\}` for a ClusterIP Service/);
  });

  it("refuses a Kubernetes provider among the options: it is the `providers` resource option", () => {
    for (const runtime of ["kubernetes", "docker"]) {
      const err = assertInputError(
        () =>
          validateReplicaOptions({
            runtime,
            provider: { urn: "urn:pulumi:s::p::pulumi:providers:kubernetes::k" },
          }),
        "replicas.provider",
      );
      assert.match(err.message, /`providers` option/);
    }
  });

  it("binds published ports to 127.0.0.1 unless told otherwise", () => {
    const options = dockerOptions({
      ports: [8080, 9090],
      publishedPorts: [{ port: 8080 }, { port: 9090, hostIp: "0.0.0.0" }],
    });
    assert.deepEqual(options.publishedPorts, [
      { port: 8080, hostPort: undefined, hostIp: "127.0.0.1" },
      { port: 9090, hostPort: undefined, hostIp: "0.0.0.0" },
    ]);
    const single = dockerOptions({
      count: 1,
      ports: [8080],
      publishedPorts: [{ port: 8080, hostPort: 18080 }],
    });
    assert.equal(single.publishedPorts[0].hostPort, 18080);
  });

  it("accepts every count from 0 to the runtime's ceiling", () => {
    for (const runtime of ["docker", "kubernetes"] as const) {
      fc.assert(
        fc.property(fc.integer({ min: 0, max: MAX_COUNT[runtime] }), (count) => {
          assert.equal(validateReplicaOptions({ runtime, count }).count, count);
        }),
      );
    }
  });

  it("rejects every count that is not a whole number within the ceiling", () => {
    const bad = fc.oneof(
      fc.integer({ max: -1 }),
      fc.integer({ min: MAX_COUNT.docker + 1 }),
      fc.double().filter((n) => !Number.isInteger(n)),
      fc.constantFrom(NaN, Infinity, -Infinity, "3", true, {}),
    );
    fc.assert(
      fc.property(
        bad,
        (count) => void assertInputError(() => validateReplicaOptions({ count }), "replicas.count"),
      ),
    );
  });

  it("names the ceiling in the count error", () => {
    const err = assertInputError(
      () => validateReplicaOptions({ runtime: "kubernetes", count: 1e6 }),
      "replicas.count",
    );
    assert.match(err.message, /10000/);
    assertInputError(() => validateReplicaOptions({ count: 1001 }), "replicas.count");
    assert.equal(validateReplicaOptions({ runtime: "kubernetes", count: 1001 }).count, 1001);
  });

  it("uses the given field path in messages", () => {
    assertInputError(
      () => validateReplicaOptions({ count: -1 }, ["image", "replicas"]),
      "image.replicas.count",
    );
  });

  // [what, raw options, field named by the error]
  const cases: [string, unknown, string][] = [
    ["a string", "3", "replicas"],
    ["null", null, "replicas"],
    ["an array", [], "replicas"],
    ["an unknown option", { cuont: 3 }, "replicas.cuont"],
    ["an unknown runtime", { runtime: "podman" }, "replicas.runtime"],

    ["labels as an array", { labels: [] }, "replicas.labels"],
    ["a label key with spaces", { labels: { "bad key": "x" } }, 'replicas.labels["bad key"]'],
    ["a label key over 63", { labels: { ["k".repeat(64)]: "x" } }, `replicas.labels.${"k".repeat(64)}`],
    [
      "a label prefix with capitals",
      { labels: { "Example.com/a": "x" } },
      'replicas.labels["Example.com/a"]',
    ],
    [
      "a reserved label",
      { labels: { "minimal-image/replica-of": "x" } },
      'replicas.labels["minimal-image/replica-of"]',
    ],
    ["a label value with spaces", { labels: { a: "b c" } }, "replicas.labels.a"],
    ["a label value over 63", { labels: { a: "v".repeat(64) } }, "replicas.labels.a"],
    ["a label value ending in -", { labels: { a: "v-" } }, "replicas.labels.a"],
    ["a number as label value", { labels: { a: 1 } }, "replicas.labels.a"],

    ["ports as a string", { ports: "80" }, "replicas.ports"],
    ["port 0", { ports: [0] }, "replicas.ports[0]"],
    ["port 65536", { ports: [80, 65536] }, "replicas.ports[1]"],
    ["a fractional port", { ports: [80.5] }, "replicas.ports[0]"],
    ["a duplicate port", { ports: [80, 80] }, "replicas.ports"],

    ["env as an array", { env: ["A=1"] }, "replicas.env"],
    ["an env name starting with a digit", { env: { "1A": "x" } }, 'replicas.env["1A"]'],
    ["an env name with -", { env: { "A-B": "x" } }, 'replicas.env["A-B"]'],
    ["a number as env value", { env: { A: 1 } }, "replicas.env.A"],
    ["a NUL in an env value", { env: { A: "a\0b" } }, "replicas.env.A"],

    ["args as a string", { args: "--x" }, "replicas.args"],
    ["an empty arg", { args: ["--x", ""] }, "replicas.args[1]"],
    ["a number as arg", { args: [1] }, "replicas.args[0]"],
    ["a NUL in an arg", { args: ["a\0"] }, "replicas.args[0]"],

    ["namespace with docker", { namespace: "apps" }, "replicas.namespace"],
    ["resources with docker", { resources: {} }, "replicas.resources"],
    ["service with docker", { service: {} }, "replicas.service"],
    ["provider with docker", { runtime: "docker", provider: {} }, "replicas.provider"],
    ["network with kubernetes", { runtime: "kubernetes", network: "n" }, "replicas.network"],
    [
      "publishedPorts with kubernetes",
      { runtime: "kubernetes", publishedPorts: [] },
      "replicas.publishedPorts",
    ],
    [
      "memoryLimitBytes with kubernetes",
      { runtime: "kubernetes", memoryLimitBytes: 1 },
      "replicas.memoryLimitBytes",
    ],
    [
      "restartPolicy with kubernetes",
      { runtime: "kubernetes", restartPolicy: "no" },
      "replicas.restartPolicy",
    ],

    ["a namespace with capitals", { runtime: "kubernetes", namespace: "Apps" }, "replicas.namespace"],
    ["a namespace over 63", { runtime: "kubernetes", namespace: "n".repeat(64) }, "replicas.namespace"],
    ["a namespace with a dot", { runtime: "kubernetes", namespace: "a.b" }, "replicas.namespace"],
    ["a provider argument", { runtime: "kubernetes", provider: {} }, "replicas.provider"],
    ["resources as a string", { runtime: "kubernetes", resources: "small" }, "replicas.resources"],
    [
      "an unknown resource kind",
      { runtime: "kubernetes", resources: { wants: {} } },
      "replicas.resources.wants",
    ],
    [
      "an unsupported resource",
      { runtime: "kubernetes", resources: { requests: { gpu: "1" } } },
      "replicas.resources.requests.gpu",
    ],
    [
      "a bad CPU quantity",
      { runtime: "kubernetes", resources: { requests: { cpu: "lots" } } },
      "replicas.resources.requests.cpu",
    ],
    [
      "a CPU quantity as a number",
      { runtime: "kubernetes", resources: { limits: { cpu: 1 } } },
      "replicas.resources.limits.cpu",
    ],
    [
      "a memory quantity in MB",
      { runtime: "kubernetes", resources: { limits: { memory: "64MB" } } },
      "replicas.resources.limits.memory",
    ],
    [
      "a zero request",
      { runtime: "kubernetes", resources: { requests: { cpu: "0m" } } },
      "replicas.resources.requests.cpu",
    ],
    [
      "a request above the default limit",
      { runtime: "kubernetes", resources: { requests: { memory: "128Mi" } } },
      "replicas.resources.requests.memory",
    ],
    [
      "a request above its limit",
      { runtime: "kubernetes", resources: { requests: { cpu: "1" }, limits: { cpu: "500m" } } },
      "replicas.resources.requests.cpu",
    ],
    ["a Service without ports", { runtime: "kubernetes", service: {} }, "replicas.service"],
    ["a Service as a boolean", { runtime: "kubernetes", ports: [80], service: false }, "replicas.service"],
    ["a Service as a string", { runtime: "kubernetes", ports: [80], service: "yes" }, "replicas.service"],
    [
      "an ExternalName Service",
      { runtime: "kubernetes", ports: [80], service: { type: "ExternalName" } },
      "replicas.service.type",
    ],
    ["Service port 0", { runtime: "kubernetes", ports: [80], service: { port: 0 } }, "replicas.service.port"],
    [
      "a Service port taken by another port",
      { runtime: "kubernetes", ports: [8080, 9090], service: { port: 9090 } },
      "replicas.service.port",
    ],
    [
      "an unknown Service option",
      { runtime: "kubernetes", ports: [80], service: { ip: "x" } },
      "replicas.service.ip",
    ],

    ["the host network", { network: "host" }, "replicas.network"],
    ["the none network", { network: "none" }, "replicas.network"],
    ["the engine's default bridge", { network: "bridge" }, "replicas.network"],
    ["the default bridge by its alias", { network: "default" }, "replicas.network"],
    ["a network name with spaces", { network: "my net" }, "replicas.network"],
    ["publishedPorts as an object", { publishedPorts: {} }, "replicas.publishedPorts"],
    ["a published port as a number", { ports: [80], publishedPorts: [80] }, "replicas.publishedPorts[0]"],
    [
      "an undeclared published port",
      { ports: [80], publishedPorts: [{ port: 81 }] },
      "replicas.publishedPorts[0].port",
    ],
    ["a published port 0", { ports: [80], publishedPorts: [{ port: 0 }] }, "replicas.publishedPorts[0].port"],
    [
      "a host port 70000",
      { ports: [80], publishedPorts: [{ port: 80, hostPort: 70000 }] },
      "replicas.publishedPorts[0].hostPort",
    ],
    [
      "a fixed host port for 2 replicas",
      { count: 2, ports: [80], publishedPorts: [{ port: 80, hostPort: 8080 }] },
      "replicas.publishedPorts[0].hostPort",
    ],
    [
      "a host name as hostIp",
      { ports: [80], publishedPorts: [{ port: 80, hostIp: "localhost" }] },
      "replicas.publishedPorts[0].hostIp",
    ],
    [
      "an unknown published-port option",
      { ports: [80], publishedPorts: [{ port: 80, proto: "udp" }] },
      "replicas.publishedPorts[0].proto",
    ],
    [
      "one host port twice",
      {
        ports: [80, 81],
        publishedPorts: [
          { port: 80, hostPort: 8080 },
          { port: 81, hostPort: 8080 },
        ],
      },
      "replicas.publishedPorts",
    ],
    [
      "one container port twice on one address",
      { ports: [80], publishedPorts: [{ port: 80 }, { port: 80 }] },
      "replicas.publishedPorts",
    ],
    ["a memory limit below 6 MiB", { memoryLimitBytes: 4 * MiB }, "replicas.memoryLimitBytes"],
    ["a CPU limit below a hundredth of a CPU", { cpuMillis: 5 }, "replicas.cpuMillis"],
    ["a fractional CPU limit", { cpuMillis: 2.5 }, "replicas.cpuMillis"],
    ["a memory limit not in whole MiB", { memoryLimitBytes: 64e6 }, "replicas.memoryLimitBytes"],
    ["a negative memory limit", { memoryLimitBytes: -1 }, "replicas.memoryLimitBytes"],
    ["a NaN memory limit", { memoryLimitBytes: NaN }, "replicas.memoryLimitBytes"],
    ["a memory limit as a string", { memoryLimitBytes: "64Mi" }, "replicas.memoryLimitBytes"],
    ["an unknown restart policy", { restartPolicy: "sometimes" }, "replicas.restartPolicy"],
  ];
  for (const [what, raw, field] of cases) {
    it(`rejects ${what}, naming ${field}`, () => {
      assertInputError(() => validateReplicaOptions(raw), field);
    });
  }

  it("says how to fix a runtime mismatch", () => {
    const err = assertInputError(() => validateReplicaOptions({ namespace: "apps" }), "replicas.namespace");
    assert.match(err.message, /only to runtime "kubernetes"/);
    assert.match(err.message, /set replicas\.runtime to "kubernetes"/);
  });

  it("accepts the same container port published on two addresses", () => {
    const options = dockerOptions({
      ports: [80],
      publishedPorts: [{ port: 80 }, { port: 80, hostIp: "::1" }],
    });
    assert.equal(options.publishedPorts.length, 2);
  });
});

describe("deploy: dnsSubdomain", () => {
  it("accepts dotted lowercase names and rejects others", () => {
    assert.equal(dnsSubdomain("pull.secret-1", ["f"]), "pull.secret-1");
    for (const bad of ["", "Pull", "a..b", "-a", "a_b", "a".repeat(254), 5])
      assertInputError(() => dnsSubdomain(bad, ["f"]), "f");
  });
});
