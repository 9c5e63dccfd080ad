import { Command, InvalidArgumentError } from "commander";
import { formatSizeReport, ImageReport, inspectPlatforms, isIndexReport } from "../inspect";
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
  requireStatic?: boolean;
  maxBytes?: number;
}

/** A gate of `inspect` failed: the report is printed, then this, and the command exits 1 so CI can fail on it. */
export class GateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "GateError";
  }
}

function byteCount(value: string): number {
  const bytes = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(bytes) || bytes < 1)
    throw new InvalidArgumentError("expected a whole number of bytes ≥ 1, e.g. 20000000");
  return bytes;
}

/**
 * What the gates asked for that the image does not meet, one sentence each; empty when it passes.
 * @param platform names the image of an index the report is of.
 */
export function gateFailures(
  report: ImageReport,
  flags: Pick<InspectFlags, "requireStatic" | "maxBytes">,
  platform?: string,
) {
  const failures: string[] = [];
  const binary = platform ? `${report.binaryPath} (${platform})` : report.binaryPath;
  const image = platform ? `the ${platform} image` : "the image";
  if (flags.requireStatic && !report.isStatic) {
    const needs = [
      ...(report.interpreter ? [`the ELF interpreter ${report.interpreter}`] : []),
      ...(report.neededLibraries.length > 0
        ? [`the shared libraries ${report.neededLibraries.join(", ")}`]
        : []),
    ];
    failures.push(`--require-static: ${binary} is not a static binary: it needs ${needs.join(" and ")}`);
  }
  if (flags.maxBytes !== undefined && report.uncompressedSizeBytes > flags.maxBytes) {
    failures.push(
      `--max-bytes: ${image} takes ${report.uncompressedSizeBytes} bytes on disk, over the budget of ${flags.maxBytes}`,
    );
  }
  return failures;
}

/**
 * `minimal-image inspect <image-ref>`: sizes and static check of any image in any registry; of a
 * multi-platform image, one line (or JSON entry) per platform unless `--platform` picks one.
 */
export function inspectCommand(): Command {
  return new Command("inspect")
    .description(
      "measure an image in a registry: compressed and on-disk size, layers, static entrypoint binary",
    )
    .argument("<image-ref>", "e.g. 127.0.0.1:5000/pausle:latest or registry.example/app@sha256:…")
    .option("--json", "print the full report as JSON")
    .option("--username <user>", "registry user name")
    .option("--password-stdin", "read the registry password from standard input")
    .option(
      "--platform <os/arch>",
      "report this platform of a multi-platform image alone (default: every one)",
    )
    .option("--plain-http", "talk http to a registry that is not on loopback")
    .option("--require-static", "exit 1 when the entrypoint binary (of any platform) is not static")
    .option(
      "--max-bytes <n>",
      "exit 1 when the image (any platform's) takes more than n bytes on disk",
      byteCount,
    )
    .action(async (reference: string, flags: InspectFlags) => {
      if (Boolean(flags.passwordStdin) !== Boolean(flags.username)) {
        throw new InputError(
          flags.username ? "--username" : "--password-stdin",
          "goes with the other credential flag",
          "Give both --username and --password-stdin, or neither",
        );
      }
      const password = flags.passwordStdin ? await readStdin() : undefined;
      const report = await inspectPlatforms(reference, {
        username: flags.username,
        password,
        platform: flags.platform,
        plainHttp: flags.plainHttp,
        inputNames: { reference: "<image-ref>", platform: "--platform" },
      });
      const name = report.repository.split("/").pop() ?? report.repository;
      // An index: one line per platform, and every platform gated, its failures named by platform.
      const images = isIndexReport(report)
        ? report.platforms.map((image) => ({
            label: `${name} ${image.platform}`,
            image,
            platform: image.platform,
          }))
        : [{ label: name, image: report, platform: undefined }];
      process.stdout.write(
        flags.json
          ? `${JSON.stringify(report, null, 2)}\n`
          : images.map(({ label, image }) => `${formatSizeReport(label, image)}\n`).join(""),
      );
      const failures = images.flatMap(({ image, platform }) => gateFailures(image, flags, platform));
      if (failures.length > 0) throw new GateError(failures.map((f) => `minimal-image: ${f}`).join("\n"));
    });
}
