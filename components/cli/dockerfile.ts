import * as fs from "node:fs";
import { Command, Option } from "commander";
import { DockerBuilder, renderBuild } from "../render";
import { RecipeOptions } from "../recipe";

interface FlagSpec {
  flag: string;
  value: string;
  help: string;
  repeatable?: boolean;
}

/**
 * One CLI flag per recipe option: the single table the command is built from and errors are named by.
 * `sbom`, a boolean, is the `--no-sbom` switch instead.
 */
const FLAGS: Record<Exclude<keyof RecipeOptions, "sbom">, FlagSpec> = {
  toolchain: {
    flag: "--toolchain",
    value: "name",
    help: "c, go or rust (default: detected from the folder)",
  },
  libc: { flag: "--libc", value: "name", help: "c only: musl (default) or glibc" },
  sources: {
    flag: "--source-file",
    value: "path",
    help: "c only: a source file to compile (default: every top-level *.c)",
    repeatable: true,
  },
  cflags: { flag: "--cflag", value: "flag", help: "c only: an extra compiler flag", repeatable: true },
  ldflags: {
    flag: "--ldflag",
    value: "flag",
    help: "c only: an extra linker flag or library",
    repeatable: true,
  },
  goPackage: { flag: "--go-package", value: "path", help: "go only: the package to build (default: .)" },
  cargoBin: { flag: "--cargo-bin", value: "name", help: "rust only: the cargo binary target" },
  cargoLto: {
    flag: "--cargo-lto",
    value: "mode",
    help: "rust only: fat (default, smallest), thin, or off (fastest rebuilds)",
  },
  buildCommand: {
    flag: "--build-command",
    value: "cmd",
    help: "your own build command, run with sh in the folder",
  },
  output: {
    flag: "--output",
    value: "path",
    help: "with --build-command: the binary it produces, relative to the folder",
  },
  binaryName: {
    flag: "--binary-name",
    value: "name",
    help: "name of the binary in the image (default: the folder's)",
  },
  builderImage: {
    flag: "--builder-image",
    value: "ref",
    help: "image the build runs in (default: the pinned one)",
  },
  setup: {
    flag: "--setup",
    value: "cmd",
    help: "a command run in the builder before the build",
    repeatable: true,
  },
  extras: { flag: "--extra", value: "name", help: "ca-certificates, zoneinfo or passwd", repeatable: true },
  entrypointArgs: {
    flag: "--arg",
    value: "value",
    help: "an argument appended to the ENTRYPOINT",
    repeatable: true,
  },
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Commander's property name for a flag: `--source-file` → `sourceFile`. */
const attributeOf = (flag: string) =>
  flag.slice(2).replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** `minimal-image dockerfile <dir>`: prints the Dockerfile minimal-image would build for a folder. */
export function dockerfileCommand(): Command {
  const command = new Command("dockerfile")
    .description("print the multi-stage Dockerfile minimal-image builds for a source folder")
    .argument("<dir>", "the program's source folder (the build context)");
  for (const { flag, value, help, repeatable } of Object.values(FLAGS)) {
    if (repeatable) command.option(`${flag} <${value}>`, `${help} (repeatable)`, collect);
    else command.option(`${flag} <${value}>`, help);
  }
  return command
    .addOption(
      new Option("--builder <name>", "the Docker builder to render for: classic renders no cache mounts")
        .choices(["buildkit", "classic"])
        .default("buildkit"),
    )
    .option("--platform <os/arch>", "the platform to compile for: linux/amd64 (default) or linux/arm64")
    .option("--no-sbom", "render no stages that record what was compiled in (the `sbom` target)")
    .option("--list-context", "print the build context's files instead of the Dockerfile")
    .option("--write <file>", "write the Dockerfile to this file instead of standard output")
    .action((dir: string, flags: Record<string, unknown>) => {
      // Only flags that were given, so that defaults apply exactly as they do for the component.
      const options = Object.fromEntries(
        Object.entries(FLAGS)
          .map(([option, spec]) => [option, flags[attributeOf(spec.flag)]])
          .filter(([, value]) => value !== undefined),
      );
      if (flags.sbom === false) options.sbom = false;
      const rendered = renderBuild(dir, options, {
        name: (option) => [FLAGS[option as keyof typeof FLAGS]?.flag ?? `--${option}`],
        sourceField: ["<dir>"],
        platform: flags.platform,
        platformField: ["--platform"],
        builder: flags.builder as DockerBuilder,
      });
      const text = flags.listContext
        ? rendered.contextFiles.map((file) => `${file}\n`).join("")
        : rendered.dockerfile;
      if (typeof flags.write === "string") fs.writeFileSync(flags.write, text);
      else process.stdout.write(text);
    });
}
