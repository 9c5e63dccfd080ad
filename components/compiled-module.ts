import * as path from "node:path";

/**
 * A loader of a stage module for a dynamic provider, which runs in Pulumi's dynamic provider host (no
 * TypeScript loader there): it loads the compiled sibling `<name>.js` of `file`, or, when the program runs
 * from this repository's TypeScript sources, the copy `npm run build` compiles into `bin/`, and fails with
 * the fix when that was not built.
 *
 * The provider captures the loader, a function, which Pulumi serializes by value with the absolute path it
 * holds. A captured import would be serialized as a `require` of this package's internal path instead, which
 * the package's `exports` do not allow.
 * @param file the calling module's `__filename`.
 * @param what what the module does, for the error.
 */
export function compiledModule<T>(file: string, name: string, what: string): () => T {
  const dir = path.dirname(file);
  const root = path.resolve(dir, "..", "..");
  const modulePath = file.endsWith(".ts")
    ? path.join(root, "bin", path.relative(root, dir), `${name}.js`)
    : path.join(dir, `${name}.js`);
  return () => {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded where the provider runs
      return require(modulePath) as T;
    } catch (error) {
      throw new Error(
        `minimal-image: cannot load the compiled ${what} at ${modulePath} (${(error as Error).message}). ` +
          "Build the package (`npm run build`) where the program runs from its TypeScript sources",
      );
    }
  };
}
