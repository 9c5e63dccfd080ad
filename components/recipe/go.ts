import { BUILD_DIR, shellQuote, ToolchainRecipe } from "./toolchain";

export const goRecipe: ToolchainRecipe = {
  toolchain: "go",
  builderKey: () => "GO",
  defaultBuilders: {
    GO: {
      image: "golang:1.24-alpine@sha256:68932fa6d4d4059845c8f40ad7e654e626f3ebd3706eef7846f319293ab5cb7a",
      setup: ["apk add --no-cache ca-certificates tzdata"],
    },
  },
  // Without cgo the Go linker writes a static binary that needs no C library at all.
  env: () => ({ CGO_ENABLED: "0" }),
  plan(_sourceDir, options, _name, binaryName) {
    const output = `${BUILD_DIR}/${binaryName}`;
    // -s -w drop the symbol table and DWARF; -buildid= and -trimpath make the binary reproducible;
    // -buildvcs=false because the builder may lack git even when the folder has a .git directory.
    const command =
      `go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o ${output} ` +
      shellQuote(options.goPackage ?? ".");
    return { command, output };
  },
};
