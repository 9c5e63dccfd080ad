#!/usr/bin/env node
import * as fs from "node:fs";
import * as path from "node:path";
import { Command, CommanderError } from "commander";
import { dockerfileCommand } from "./dockerfile";
import { GateError, inspectCommand } from "./inspect";
import { sbomCommand } from "./sbom";
import { outsideText } from "../outside-text";
import { InputError } from "../validation";

/** The package's version, from its package.json (the first one above this file, in source or in bin/). */
function packageVersion(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
}

/** The `minimal-image` command line. Exported so tests can run it in-process. */
export function program(): Command {
  return new Command("minimal-image")
    .description("Static binaries in FROM scratch images: render, inspect, read the SBOM.")
    .version(packageVersion(), "-V, --version", "print the package version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .addCommand(dockerfileCommand().exitOverride())
    .addCommand(inspectCommand().exitOverride())
    .addCommand(sbomCommand().exitOverride());
}

/** Runs the CLI and returns its exit code: 0 success, 1 failure, 2 usage error. */
export async function run(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: "user" });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (it names the flag); help and version exit 0.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof GateError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    if (error instanceof InputError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    const message = outsideText((error as Error).message, Infinity);
    process.stderr.write(
      message.startsWith("minimal-image:") ? `${message}\n` : `minimal-image: ${message}\n`,
    );
    const detail = (error as { detail?: unknown }).detail;
    if (process.env.MINIMAL_IMAGE_DEBUG === "1" && typeof detail === "string") {
      // JSON escapes control characters, so the full text cannot forge a line either.
      process.stderr.write(`minimal-image: debug: the full text was ${JSON.stringify(detail)}\n`);
    }
    return 1;
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
