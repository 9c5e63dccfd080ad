// What `import "minimal-image"` means to the type checker inside this repository: the package's own entry.
// Each example's tsconfig.json maps the name here, a file a copied example will not find next to it, so that
// in a user's project the name resolves to the installed package. At run time Node resolves the name to
// the package itself (its `exports`, built into bin/ by `npm ci`).
export * from "../index";
