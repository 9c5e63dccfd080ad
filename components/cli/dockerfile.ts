import * as fs from "node:fs";
import { Command } from "commander";
import { renderBuild } from "../build";
import { RecipeOptions } from "../recipe";

/** CLI flag of each recipe option, so that errors name what the user typed. */
const FLAGS: Record<keyof RecipeOptions, string> = {
  toolchain: "--toolchain",
  libc: "--libc",
  sources: "--source-file",
  cflags: "--cflag",
  ldflags: "--ldflag",
  goPackage: "--go-package",
  cargoBin: "--cargo-bin",
  buildCommand: "--build-command",
  output: "--output",
  binaryName: "--binary-name",
  builderImage: "--builder-image",
  setup: "--setup",
  extras: "--extra",
  entrypointArgs: "--arg",
};

const collect = (value: string, previous: string[] = []) => [...previous, value];

interface DockerfileFlags {
  toolchain?: string;
  libc?: string;
  sourceFile?: string[];
  cflag?: string[];
  ldflag?: string[];
  goPackage?: string;
  cargoBin?: string;
  buildCommand?: string;
  output?: string;
  binaryName?: string;
  builderImage?: string;
  setup?: string[];
  extra?: string[];
  arg?: string[];
  listContext?: boolean;
  write?: string;
}

/** `minimal-image dockerfile <dir>`: prints the Dockerfile minimal-image would build for a folder. */
export function dockerfileCommand(): Command {
  return new Command("dockerfile")
    .description("print the multi-stage Dockerfile minimal-image builds for a source folder")
    .argument("<dir>", "the program's source folder (the build context)")
    .option("--toolchain <name>", "c, go or rust (default: detected from the folder)")
    .option("--libc <name>", "c only: musl (default) or glibc")
    .option(
      "--source-file <path>",
      "c only: a source file to compile (repeatable; default: every top-level *.c)",
      collect,
    )
    .option("--cflag <flag>", "c only: an extra compiler flag (repeatable)", collect)
    .option("--ldflag <flag>", "c only: an extra linker flag or library (repeatable)", collect)
    .option("--go-package <path>", "go only: the package to build (default: .)")
    .option("--cargo-bin <name>", "rust only: the cargo binary target")
    .option("--build-command <cmd>", "your own build command, run with sh in the source folder")
    .option("--output <path>", "with --build-command: the binary it produces, relative to the folder")
    .option("--binary-name <name>", "name of the binary in the image (default: the folder's name)")
    .option("--builder-image <ref>", "image the build runs in (default: the toolchain's pinned image)")
    .option("--setup <cmd>", "a command run in the builder before the build (repeatable)", collect)
    .option("--extra <name>", "ca-certificates, zoneinfo or passwd (repeatable)", collect)
    .option("--arg <value>", "an argument appended to the ENTRYPOINT (repeatable)", collect)
    .option("--list-context", "print the build context's files instead of the Dockerfile")
    .option("--write <file>", "write the Dockerfile to this file instead of standard output")
    .action((dir: string, flags: DockerfileFlags) => {
      const options: RecipeOptions = {
        toolchain: flags.toolchain as RecipeOptions["toolchain"],
        libc: flags.libc as RecipeOptions["libc"],
        sources: flags.sourceFile,
        cflags: flags.cflag,
        ldflags: flags.ldflag,
        goPackage: flags.goPackage,
        cargoBin: flags.cargoBin,
        buildCommand: flags.buildCommand,
        output: flags.output,
        binaryName: flags.binaryName,
        builderImage: flags.builderImage,
        setup: flags.setup,
        extras: flags.extra as RecipeOptions["extras"],
        entrypointArgs: flags.arg,
      };
      // Drop unset flags so that defaults apply exactly as they do for the component.
      const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
      const rendered = renderBuild(dir, given, {
        name: (option) => FLAGS[option as keyof RecipeOptions] ?? `--${option}`,
        sourceField: "<dir>",
      });
      const text = flags.listContext
        ? rendered.contextFiles.map((file) => `${file}\n`).join("")
        : rendered.dockerfile;
      if (flags.write) fs.writeFileSync(flags.write, text);
      else process.stdout.write(text);
    });
}
