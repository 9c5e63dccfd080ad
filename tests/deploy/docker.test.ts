import assert from "node:assert/strict";
import fc from "fast-check";
import { REPLICA_INDEX_LABEL, dockerReplicaSpecs } from "../../components/deploy/docker";
import { DockerReplicaOptions, REPLICA_OF_LABEL } from "../../components/deploy/options";
import { DIGEST, IMAGE_REF, assertInputError, dockerOptions } from "./fixtures";

function specs(options: DockerReplicaOptions, imageRef = IMAGE_REF) {
  return dockerReplicaSpecs({ name: "pausle", imageRef, options });
}

describe("deploy: dockerReplicaSpecs", () => {
  for (const count of [0, 1, 3]) {
    it(`describes ${count} hardened replica(s) named from 0`, () => {
      const result = specs(dockerOptions({ count }));
      assert.deepEqual(
        result.map((spec) => spec.name),
        Array.from({ length: count }, (_, i) => `pausle-${i}`),
      );
      result.forEach((spec, i) => {
        assert.equal(spec.image, IMAGE_REF);
        assert.equal(spec.user, "65532:65532");
        assert.equal(spec.readOnlyRootFilesystem, true);
        assert.deepEqual(spec.capDrop, ["ALL"]);
        assert.deepEqual(spec.securityOpts, ["no-new-privileges:true"]);
        assert.equal(spec.memoryLimitBytes, 64 * 1024 * 1024);
        assert.equal(spec.restartPolicy, "unless-stopped");
        assert.deepEqual(spec.labels, { [REPLICA_OF_LABEL]: "pausle", [REPLICA_INDEX_LABEL]: String(i) });
        assert.deepEqual(spec.publishedPorts, []);
        assert.equal(spec.network, undefined);
      });
    });
  }

  it("passes labels, env, args, network, memory and restart policy through", () => {
    const [spec] = specs(
      dockerOptions({
        labels: { tier: "edge" },
        env: { A: "1", EMPTY: "" },
        args: ["--x", "y z"],
        network: "minimal-net",
        memoryLimitBytes: 16 * 1024 * 1024,
        restartPolicy: "on-failure",
      }),
    );
    assert.equal(spec.labels.tier, "edge");
    assert.equal(spec.labels[REPLICA_OF_LABEL], "pausle");
    assert.deepEqual(spec.env, ["A=1", "EMPTY="]);
    assert.deepEqual(spec.args, ["--x", "y z"]);
    assert.equal(spec.network, "minimal-net");
    assert.equal(spec.memoryLimitBytes, 16 * 1024 * 1024);
    assert.equal(spec.restartPolicy, "on-failure");
  });

  it("publishes ports on 127.0.0.1 by default", () => {
    const result = specs(dockerOptions({ count: 2, ports: [8080], publishedPorts: [{ port: 8080 }] }));
    for (const spec of result)
      assert.deepEqual(spec.publishedPorts, [{ port: 8080, hostPort: undefined, hostIp: "127.0.0.1" }]);
  });

  it("keeps replica i the same whatever the count, so scaling touches only the tail", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 40 }), (a, b) => {
        const small = specs(dockerOptions({ count: Math.min(a, b) }));
        const large = specs(dockerOptions({ count: Math.max(a, b) }));
        assert.deepEqual(large.slice(0, small.length), small);
      }),
    );
  });

  it("gives each replica its own objects", () => {
    const [first, second] = specs(dockerOptions({ count: 2, args: ["a"] }));
    first.args.push("b");
    assert.deepEqual(second.args, ["a"]);
  });

  it("pulls one platform as given, and leaves an index's platform to the engine", () => {
    const pull = (platform?: string | string[]) =>
      dockerReplicaSpecs({
        name: "pausle",
        imageRef: IMAGE_REF,
        options: dockerOptions({ count: 1 }),
        platform,
      })[0].platform;
    assert.equal(pull(), "linux/amd64");
    assert.equal(pull("linux/arm64"), "linux/arm64");
    assert.equal(pull(["linux/arm64"]), "linux/arm64");
    // The engine picks its own platform out of the index; forcing one could pick an image it cannot run.
    assert.equal(pull(["linux/amd64", "linux/arm64"]), undefined);
  });

  it("refuses a tag and a bad name", () => {
    assertInputError(() => specs(dockerOptions(), "127.0.0.1:5000/team/pausle:latest"), "imageRef");
    assertInputError(() => specs(dockerOptions(), `127.0.0.1:5000/team/pausle:t@${DIGEST}`), "imageRef");
    assertInputError(
      () => dockerReplicaSpecs({ name: "Pausle", imageRef: IMAGE_REF, options: dockerOptions() }),
      "name",
    );
  });
});
