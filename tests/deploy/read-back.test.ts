// Every numeric field the component declares on a container, in the form the Docker provider's Read stores it
// (terraform-provider-docker internal/provider/resource_docker_container_funcs.go, resourceDockerContainerRead).
import * as assert from "node:assert/strict";
import {
  cpuMillisOf,
  cpuMillisRoundTrips,
  cpusAsReadBack,
  memoryMiB,
} from "../../components/deploy/read-back";
import { validateReplicaOptions } from "../../components/deploy/options";
import { InputError } from "../../components/validation";

describe("deploy: values as the Docker provider reads them back", () => {
  it("formats cpus as nanoInt64ToDecimalString does, on the provider's own test table (helpers_test.go)", () => {
    // TestNanoInt64ToDecimalString: 0 -> "0", 1e9 -> "1.0", 1.5e9 -> "1.5", 2e9 -> "2.0", 2.25e9 -> "2.25".
    for (const [millis, text] of [
      [0, "0"],
      [1000, "1.0"],
      [1500, "1.5"],
      [2000, "2.0"],
      [2250, "2.25"],
    ] as const) {
      assert.equal(cpusAsReadBack(millis), text, `${millis}`);
    }
  });

  it('follows the provider where its nine-zeros rule bites: 10 -> "0.0", 50 -> "0.1", 10000 -> "10.", 10500 -> "10.5"', () => {
    assert.equal(cpusAsReadBack(10), "0.0");
    assert.equal(cpusAsReadBack(50), "0.1");
    assert.equal(cpusAsReadBack(100), "0.1");
    assert.equal(cpusAsReadBack(250), "0.25");
    assert.equal(cpusAsReadBack(10_000), "10.");
    assert.equal(cpusAsReadBack(10_500), "10.5");
  });

  it("accepts exactly the cpuMillis from 10 to 64000 that round-trip, and refuses the others by name", () => {
    let refused = 0;
    for (let millis = 10; millis <= 64_000; millis++) {
      const roundTrips = cpuMillisOf(cpusAsReadBack(millis)) === millis;
      assert.equal(cpuMillisRoundTrips(millis), roundTrips);
      if (roundTrips) continue;
      refused++;
      if (millis % 10 !== 0) continue; // the refusal's message, on a sample
      assert.throws(
        () => validateReplicaOptions({ cpuMillis: millis }),
        (error: unknown) => error instanceof InputError && error.field === "replicas.cpuMillis",
      );
    }
    assert.equal(refused, 117);
    assert.equal(validateReplicaOptions({ cpuMillis: 1000 }).runtime, "docker");
  });

  it("declares memory in whole MiB, as Read stores HostConfig.Memory / 1024 / 1024, for every accepted limit", () => {
    for (let mib = 6; mib <= 4096; mib++) {
      const bytes = mib * 1024 * 1024;
      const { memoryLimitBytes } = validateReplicaOptions({ memoryLimitBytes: bytes }) as {
        memoryLimitBytes: number;
      };
      assert.equal(memoryMiB(memoryLimitBytes), mib);
    }
  });
});
