import { Command } from "commander";
import { formatSizeReport, inspectImage } from "../inspect";
import { InputError } from "../validation";

/** Reads all of standard input (for --password-stdin), without the trailing newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

interface InspectFlags {
  json?: boolean;
  username?: string;
  passwordStdin?: boolean;
  platform?: string;
  plainHttp?: boolean;
}

/** `minimal-image inspect <image-ref>`: sizes and static check of any image in any registry. */
export function inspectCommand(): Command {
  return new Command("inspect")
    .description(
      "measure an image in a registry: compressed and on-disk size, layers, static entrypoint binary",
    )
    .argument("<image-ref>", "e.g. 127.0.0.1:5000/pausle:latest or registry.example/app@sha256:…")
    .option("--json", "print the full report as JSON")
    .option("--username <user>", "registry user name")
    .option("--password-stdin", "read the registry password from standard input")
    .option("--platform <os/arch>", "platform to pick from a multi-platform image")
    .option("--plain-http", "talk http to a registry that is not on loopback")
    .action(async (reference: string, flags: InspectFlags) => {
      if (Boolean(flags.passwordStdin) !== Boolean(flags.username)) {
        throw new InputError(
          flags.username ? "--username" : "--password-stdin",
          "goes with the other credential flag",
          "Give both --username and --password-stdin, or neither",
        );
      }
      const password = flags.passwordStdin ? await readStdin() : undefined;
      const report = await inspectImage(reference, {
        username: flags.username,
        password,
        platform: flags.platform,
        plainHttp: flags.plainHttp,
        inputNames: { reference: "<image-ref>", platform: "--platform" },
      });
      const name = report.repository.split("/").pop() ?? report.repository;
      process.stdout.write(
        flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatSizeReport(name, report)}\n`,
      );
    });
}
