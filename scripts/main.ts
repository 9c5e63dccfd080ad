// The main job: build examples/pausle into a static FROM scratch image, push it, inspect what was pushed,
// and run replicas of it by digest.
//
// With the Pulumi CLI on PATH it runs the root stack (stack.ts) through the Automation API, on a local
// file backend. Without it, it runs the very same stages through the package's own functions against the
// local Docker engine, so the pipeline can be seen working on a machine that has no Pulumi.
//
//   npm run main -- [--replicas N] [--registry HOST:PORT] [--libc musl|glibc]
//   npm run main -- --down      remove the replicas the job started (without Pulumi; with it: pulumi destroy)
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command } from "commander";
import { buildLocally, renderBuild } from "../components/build";
import {
  dockerReplicaSpecs,
  listReplicas,
  removeContainers,
  startContainers,
  validateReplicaOptions,
} from "../components/deploy";
import { formatSizeReport, inspectImage } from "../components/inspect";
import { pushLocally, pushName } from "../components/publish";

const ROOT = path.join(__dirname, "..");

function hasPulumi(): boolean {
  try {
    execFileSync("pulumi", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

async function withPulumi(flags: Flags): Promise<void> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const backend = path.join(os.homedir(), ".minimal-image", "pulumi-state");
  fs.mkdirSync(backend, { recursive: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: "dev", workDir: ROOT },
    {
      envVars: {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
      },
    },
  );
  await stack.setAllConfig({
    registryServer: { value: flags.registry },
    replicas: { value: String(flags.replicas) },
    libc: { value: flags.libc },
  });
  const result = await stack.up({ onOutput: (line) => process.stdout.write(line) });
  for (const [key, output] of Object.entries(result.outputs))
    console.log(`${key}: ${JSON.stringify(output.value)}`);
}

async function withoutPulumi(flags: Flags): Promise<void> {
  console.log("pulumi is not on PATH: running the same stages with the package's own functions.");
  const rendered = renderBuild(path.join(ROOT, "examples", "pausle"), { toolchain: "c", libc: flags.libc });
  const name = pushName(flags.registry, "pausle", "latest");
  await buildLocally(rendered, { tag: name });
  const imageRef = await pushLocally(name);
  const report = await inspectImage(imageRef);
  if (!report.isStatic) throw new Error(`${report.binaryPath} is not static`);
  const options = validateReplicaOptions({ count: flags.replicas, runtime: "docker" });
  if (options.runtime !== "docker") throw new Error("unreachable: runtime was set to docker");
  const started = await startContainers(
    dockerReplicaSpecs({ name: "pausle", imageRef: report.imageRef, options }),
  );
  console.log(`imageRef: ${report.imageRef}`);
  console.log(`compressedSizeBytes: ${report.compressedSizeBytes}`);
  console.log(`uncompressedSizeBytes: ${report.uncompressedSizeBytes}`);
  console.log(`binarySizeBytes: ${report.binarySizeBytes}`);
  console.log(`layerCount: ${report.layerCount}`);
  console.log(`isStatic: ${report.isStatic}`);
  console.log(`sizeReport: ${formatSizeReport("pausle", report)}`);
  console.log(`replicaNames: ${JSON.stringify(started.map((c) => c.name))}`);
}

async function down(): Promise<void> {
  const names = (await listReplicas("pausle")).map((replica) => replica.name);
  await removeContainers(names);
  console.log(`removed ${names.length} replica(s)${names.length ? `: ${names.join(", ")}` : ""}`);
}

interface Flags {
  down?: boolean;
  replicas: number;
  registry: string;
  libc: "musl" | "glibc";
}

const program = new Command("main")
  .option("--replicas <n>", "replicas to run", (v) => Number(v), 3)
  .option("--registry <host:port>", "registry to push to", "127.0.0.1:5000")
  .option("--libc <name>", "musl or glibc", "musl")
  .option("--down", "remove the replicas started without Pulumi")
  .action(async (flags: Flags) => {
    if (flags.down) await down();
    else if (hasPulumi()) await withPulumi(flags);
    else await withoutPulumi(flags);
  });

program.parseAsync().catch((error: Error) => {
  console.error(error.message);
  process.exitCode = 1;
});
