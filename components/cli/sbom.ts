import { Command } from "commander";
import { readAttachedSbom } from "../sbom";
import { CredentialFlags, flagCredentials } from "./credentials";

interface SbomFlags extends CredentialFlags {
  platform?: string;
  plainHttp?: boolean;
}

/** `minimal-image sbom <image-ref>`: prints the SBOM attached to an image in its registry. */
export function sbomCommand(): Command {
  return new Command("sbom")
    .description("print the CycloneDX SBOM attached to an image in its registry (as an OCI referrer)")
    .argument("<image-ref>", "e.g. 127.0.0.1:5000/pausle:latest or registry.example/app@sha256:…")
    .option("--platform <os/arch>", "platform to pick from a multi-platform image (each has its own SBOM)")
    .option("--username <user>", "registry user name")
    .option("--password-stdin", "read the registry password from standard input")
    .option("--plain-http", "talk http to a registry that is not on loopback")
    .action(async (reference: string, flags: SbomFlags) => {
      const { document } = await readAttachedSbom(reference, {
        ...(await flagCredentials(flags)),
        platform: flags.platform,
        plainHttp: flags.plainHttp,
        inputNames: { reference: "<image-ref>", platform: "--platform" },
      });
      process.stdout.write(document);
    });
}
