import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LOCAL_BUILDERS } from "../support/env";
import { pulumiOnPath } from "../../harness/pulumi-cli";

describe("the root stack through the Automation API @integration", function () {
  this.timeout(900_000);
  let backend: string;

  before(function () {
    if (!pulumiOnPath()) {
      console.log("      skipped: the pulumi CLI is not on PATH (install it to run `pulumi up` end to end)");
      this.skip();
    }
    backend = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-state-"));
  });
  after(() => backend && fs.rmSync(backend, { recursive: true, force: true }));

  it("builds, pushes and measures pausle, runs 3 replicas, and destroys them", async () => {
    const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
    const stack = await LocalWorkspace.createOrSelectStack(
      { stackName: `e2e-${process.pid}`, workDir: path.join(__dirname, "..", "..") },
      {
        envVars: {
          PULUMI_BACKEND_URL: `file://${backend}`,
          PULUMI_CONFIG_PASSPHRASE: "e2e",
          ...LOCAL_BUILDERS,
        },
      },
    );
    try {
      await stack.setAllConfig({ registryServer: { value: "localhost:5000" }, replicas: { value: "3" } });
      const { outputs } = await stack.up();
      assert.match(outputs.imageRef.value, /^localhost:5000\/pausle@sha256:[a-f0-9]{64}$/);
      assert.equal(outputs.isStatic.value, true);
      assert.equal(outputs.layerCount.value, 1);
      assert.ok(outputs.compressedSizeBytes.value <= 4_000);
      assert.equal(outputs.replicaNames.value.length, 3);
      for (const [i, name] of outputs.replicaNames.value.entries()) {
        assert.match(name, new RegExp(`^pausle-[0-9a-f]{8}-${i}$`));
      }
      const again = await stack.preview();
      assert.equal(again.changeSummary.update ?? 0, 0, "an unchanged program rebuilds nothing");
    } finally {
      await stack.destroy();
      await stack.workspace.removeStack(stack.name);
    }
  });
});
