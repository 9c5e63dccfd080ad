import * as path from "node:path";

/**
 * Where a dynamic provider loads a stage module from in the process that runs it (Pulumi's dynamic provider
 * host has no TypeScript loader): the compiled sibling `<name>.js` of `file`, or, when the program runs from
 * this repository's TypeScript sources, the copy `npm run build` compiles into `bin/`.
 * @param file the calling module's `__filename`.
 */
export function compiledModule(file: string, name: string): string {
  const dir = path.dirname(file);
  if (!file.endsWith(".ts")) return path.join(dir, `${name}.js`);
  const root = path.resolve(dir, "..", "..");
  return path.join(root, "bin", path.relative(root, dir), `${name}.js`);
}

/** Loads a module {@link compiledModule} names, failing with the fix when it was not built. */
export function loadCompiled<T>(modulePath: string, what: string): T {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded where the provider runs
    return require(modulePath) as T;
  } catch (error) {
    throw new Error(
      `minimal-image: cannot load the compiled ${what} at ${modulePath} (${(error as Error).message}). ` +
        "Build the package (`npm run build`) where the program runs from its TypeScript sources",
    );
  }
}
