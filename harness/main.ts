// The main job: the root stack program (the file the root Pulumi.yaml names as `main:`) builds
// examples/pausle into a static FROM scratch image, pushes it, inspects what was pushed, and runs replicas
// of it by digest.
//
// With the Pulumi CLI on PATH it runs through the Automation API, on a local file backend. Without it, the
// same program runs through the local executor: Pulumi's own Node runner loads it, and each resource it
// declares is carried out on the local Docker engine.
//
//   npm run main -- [--replicas N] [--registry HOST:PORT] [--libc musl|glibc] [--platforms LIST] [--preview]
//   npm run main -- --down      remove what the job made (pulumi destroy)
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { runStack, StackRunError } from "./executor";
import { LOCAL_BUILDERS } from "./local-builders";
import { pulumiOnPath } from "./pulumi-cli";

// Compiled to harness/bin/harness/main.js; the stack lives at the repository root.
const ROOT = path.resolve(__dirname, __filename.endsWith(".ts") ? ".." : "../../..");
const STACK = "dev";

function builderEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(LOCAL_BUILDERS).map(([key, value]) => [key, process.env[key] ?? value]),
  );
}

async function withPulumi(flags: Flags): Promise<Record<string, unknown>> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const backend = path.join(os.homedir(), ".minimal-image", "pulumi-state");
  fs.mkdirSync(backend, { recursive: true });
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: STACK, workDir: ROOT },
    {
      envVars: {
        PULUMI_BACKEND_URL: `file://${backend}`,
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "",
        ...builderEnv(),
      },
    },
  );
  if (flags.down) {
    await stack.destroy({ onOutput: (line) => process.stdout.write(line) });
    return {};
  }
  await stack.setAllConfig({
    registryServer: { value: flags.registry },
    replicas: { value: String(flags.replicas) },
    libc: { value: flags.libc },
  });
  // Absent, the stack builds its one default platform, whatever an earlier run set.
  if (flags.platforms) await stack.setConfig("platforms", { value: JSON.stringify(flags.platforms) });
  else await stack.removeConfig("platforms");
  if (flags.preview) {
    await stack.preview({ onOutput: (line) => process.stdout.write(line) });
    return {};
  }
  const result = await stack.up({ onOutput: (line) => process.stdout.write(line) });
  return Object.fromEntries(Object.entries(result.outputs).map(([key, output]) => [key, output.value]));
}

async function withExecutor(flags: Flags): Promise<Record<string, unknown>> {
  console.log("pulumi is not on PATH: running the root stack program through the local executor.");
  const result = await runStack({
    dir: ROOT,
    stack: STACK,
    destroy: flags.down,
    preview: flags.preview,
    config: {
      registryServer: flags.registry,
      replicas: String(flags.replicas),
      libc: flags.libc,
      ...(flags.platforms ? { platforms: JSON.stringify(flags.platforms) } : {}),
    },
    env: builderEnv(),
  });
  for (const record of result.records)
    console.log(`  ${record.operation.padEnd(7)} ${record.type} ${record.name}`);
  if (flags.down) console.log("destroyed: everything the stack made is removed");
  return result.outputs;
}

interface Flags {
  down?: boolean;
  preview?: boolean;
  replicas: number;
  registry: string;
  libc: string;
  platforms?: string[];
}

function replicaCount(value: string): number {
  const count = Number(value);
  if (!Number.isSafeInteger(count) || count < 0)
    throw new InvalidArgumentError("expected a whole number ≥ 0");
  return count;
}

const program = new Command("main")
  .description("Build, push, inspect and run pausle with the root stack program.")
  .option("--replicas <n>", "replicas to run", replicaCount, 3)
  .option("--registry <host:port>", "registry to push to", "127.0.0.1:5000")
  .addOption(new Option("--libc <name>", "C library pausle links").choices(["musl", "glibc"]).default("musl"))
  .option(
    "--platforms <list>",
    "platforms to build under one image index, comma-separated, e.g. linux/amd64,linux/arm64",
    (value: string) => value.split(","),
  )
  .option("--preview", "show what would change, change nothing")
  .option("--down", "remove what the job made (pulumi destroy)")
  .action(async (flags: Flags) => {
    const outputs = pulumiOnPath() ? await withPulumi(flags) : await withExecutor(flags);
    for (const [key, value] of Object.entries(outputs)) console.log(`${key}: ${JSON.stringify(value)}`);
  });

program.parseAsync().catch((error: Error) => {
  console.error(error instanceof StackRunError ? error.message : `main: ${error.message}`);
  process.exitCode = 1;
});
