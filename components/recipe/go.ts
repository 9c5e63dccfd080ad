import { BUILD_DIR, CACHE_DIR, shellQuote, ToolchainRecipe } from "./toolchain";

const BUILD_CACHE = `${CACHE_DIR}/go-build`;
const MODULE_CACHE = `${CACHE_DIR}/go-mod`;

const BUILDER = {
  image: "golang:1.24-alpine@sha256:68932fa6d4d4059845c8f40ad7e654e626f3ebd3706eef7846f319293ab5cb7a",
  setup: ["apk add --no-cache ca-certificates tzdata"],
};

export const goRecipe: ToolchainRecipe = {
  toolchain: "go",
  builderKey: () => "GO",
  defaultBuilders: {
    GO: BUILDER,
  },
  // Go compiles for any GOOS/GOARCH from any machine, so the default builder serves every platform.
  crossBuilders: {
    GO: BUILDER,
  },
  env: (_options, target) => ({
    // Without cgo the Go linker writes a static binary that needs no C library at all.
    CGO_ENABLED: "0",
    GOCACHE: BUILD_CACHE,
    // A builder that ships its modules already downloaded keeps them; any other uses the cache.
    GOMODCACHE: `"$(d="$(go env GOMODCACHE)"; if [ -e "$d" ]; then echo "$d"; else echo ${MODULE_CACHE}; fi)"`,
    GOOS: "linux",
    GOARCH: target.architecture,
  }),
  crossTools: () => [],
  // Go keys both caches by content and locks their files itself, so builds may share them freely.
  envCaches: [
    { name: "build", target: BUILD_CACHE, keyedBy: "builder", sharing: "shared" },
    { name: "modules", target: MODULE_CACHE, keyedBy: "builder", sharing: "shared" },
  ],
  plan(_sourceDir, options, _name, binaryName) {
    const output = `${BUILD_DIR}/${binaryName}`;
    // -s -w drop the symbol table and DWARF; -buildid= and -trimpath make the binary reproducible;
    // -buildvcs=false because the builder may lack git even when the folder has a .git directory.
    const command =
      `go build -trimpath -buildvcs=false -ldflags='-s -w -buildid=' -o ${output} ` +
      shellQuote(options.goPackage ?? ".");
    return { command, output, caches: [] };
  },
};
