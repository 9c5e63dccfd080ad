// The package's Pulumi schema, generated the way `pulumi package add` generates it: the components the
// entry exports, found as the plugin host finds them, analysed from the TypeScript sources by
// @pulumi/pulumi's own analyzer. schema.json is a reviewed artifact: a change to the args shows up there.
//
//   npm run schema     rewrite schema.json from the sources
import * as fs from "node:fs";
import * as path from "node:path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as prettier from "prettier";
import * as entry from "../index";

const ROOT = path.join(__dirname, "..");
export const SCHEMA_FILE = path.join(ROOT, "schema.json");

/** A Pulumi package schema, as far as the tests read it. */
export interface PackageSchema {
  name: string;
  version: string;
  resources: Record<string, ResourceSpec>;
  types: Record<string, TypeSpec>;
  dependencies?: unknown[];
}

export interface ResourceSpec {
  description?: string;
  inputProperties: Record<string, PropertySpec>;
  requiredInputs: string[];
  properties: Record<string, PropertySpec>;
  required: string[];
}

export interface TypeSpec {
  type: string;
  properties?: Record<string, PropertySpec>;
  required?: string[];
  enum?: { name: string; value: string | number; description?: string }[];
}

export interface PropertySpec {
  type?: string;
  $ref?: string;
  items?: PropertySpec;
  additionalProperties?: PropertySpec;
  plain?: boolean;
  description?: string;
}

/**
 * The schema of the package whose sources are in `dir` (default: this checkout), named as the plugin host
 * names it: after package.json's `name`.
 */
export async function generateSchema(dir: string = ROOT): Promise<PackageSchema> {
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { name: string };
  const provider = new ComponentProvider({
    name: manifest.name,
    dirname: dir,
    // The analyzer looks each component up by class name in the sources, starting from the entry.
    components: getPulumiComponents(entry),
  });
  return JSON.parse(await provider.getSchema()) as PackageSchema;
}

/** The schema as committed: formatted as the repository formats JSON, so that `prettier --check` passes. */
export async function formatSchema(schema: PackageSchema): Promise<string> {
  const options = await prettier.resolveConfig(SCHEMA_FILE);
  return prettier.format(JSON.stringify(schema), { ...options, filepath: SCHEMA_FILE });
}

if (require.main === module) {
  generateSchema()
    .then(formatSchema)
    .then((text) => {
      fs.writeFileSync(SCHEMA_FILE, text);
      console.log(`wrote ${path.relative(process.cwd(), SCHEMA_FILE)}`);
    })
    .catch((error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exitCode = 1;
    });
}
