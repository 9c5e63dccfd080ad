import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { Extra, Libc, ReplicaRuntime, RestartPolicy, ServiceType, Toolchain } from "../../components";
import {
  formatSchema,
  generateSchema,
  PackageSchema,
  PropertySpec,
  ResourceSpec,
  SCHEMA_FILE,
} from "../../scripts/schema";

import { MINIMAL_IMAGE_OUTPUTS } from "../support/report";

const ROOT = path.join(__dirname, "..", "..");
const TOKEN = "minimal-image:index:MinimalImage";
const INPUTS = [
  "source",
  "imageName",
  "registry",
  "recipe",
  "replicas",
  "maxImageBytes",
  "platform",
  "platforms",
  "buildArgs",
  "cacheFrom",
  "tag",
];
const OUTPUTS = MINIMAL_IMAGE_OUTPUTS;

describe("package schema (Pulumi's own analyzer over the TypeScript sources)", () => {
  let schema: PackageSchema;
  let component: ResourceSpec;

  before(async function () {
    this.timeout(60_000);
    schema = await generateSchema();
    component = schema.resources[TOKEN];
  });

  it("equals the committed schema.json, as `npm run schema` writes it", async () => {
    const committed = fs.readFileSync(SCHEMA_FILE, "utf8");
    assert.deepEqual(
      schema,
      JSON.parse(committed),
      "the args changed: review the difference and run `npm run schema`",
    );
    assert.equal(
      await formatSchema(schema),
      committed,
      "schema.json is not formatted as `npm run schema` writes it",
    );
  });

  it("lists every input and output of MinimalImage, each with a description in plain text", () => {
    assert.deepEqual(Object.keys(schema.resources), [TOKEN]);
    assert.deepEqual(Object.keys(component.inputProperties).sort(), [...INPUTS].sort());
    assert.deepEqual(component.requiredInputs, ["imageName", "registry", "source"]);
    assert.deepEqual(Object.keys(component.properties).sort(), [...OUTPUTS].sort());
    const described = [
      ...Object.entries(component.inputProperties).map(([name, spec]) => [`input ${name}`, spec] as const),
      ...Object.entries(component.properties).map(([name, spec]) => [`output ${name}`, spec] as const),
      ...Object.entries(schema.types).flatMap(([type, spec]) =>
        Object.entries(spec.properties ?? {}).map(([name, p]) => [`${type}.${name}`, p] as const),
      ),
    ];
    for (const [where, spec] of described) {
      assert.ok(spec.description && spec.description.trim().length > 10, `${where} has no description`);
    }
    assert.ok(component.description?.startsWith("Compiles a program into a fully static binary"));
    assert.doesNotMatch(
      JSON.stringify(schema),
      /\[object Object\]|\{@link/,
      "a doc comment did not render as text",
    );
  });

  it("declares no provider or other resource among the args, and depends on no other package's schema", () => {
    assert.doesNotMatch(JSON.stringify(schema), /schema\.json#\/resources|Provider/);
    assert.deepEqual(schema.dependencies, []);
  });

  it("marks replicas plain (declared at program time) while the registry password may be an Output", () => {
    assert.equal(component.inputProperties.replicas.plain, true);
    const registry = schema.types["minimal-image:index:RegistryInput"].properties ?? {};
    assert.equal(registry.server.plain, true);
    assert.equal(registry.password.plain, undefined);
  });

  it("offers as enums exactly the values that validation accepts", () => {
    const enums: Record<string, Record<string, string>> = {
      Toolchain,
      Libc,
      Extra,
      ReplicaRuntime,
      RestartPolicy,
      ServiceType,
    };
    for (const [name, values] of Object.entries(enums)) {
      const spec = schema.types[`minimal-image:index:${name}`];
      assert.ok(spec?.enum, `${name} is not an enum in the schema`);
      assert.deepEqual(
        spec.enum.map((member) => [member.name, member.value]),
        Object.entries(values),
        name,
      );
    }
  });

  describe("examples in other languages set only what the schema declares", () => {
    it("examples/pausle-yaml", () => {
      const program = yaml.load(
        fs.readFileSync(path.join(ROOT, "examples/pausle-yaml/Pulumi.yaml"), "utf8"),
      ) as YamlProgram;
      assert.equal(program.runtime, "yaml");
      assert.equal(
        path.resolve(ROOT, "examples/pausle-yaml", program.packages["minimal-image"]),
        ROOT,
        "the package is added from this checkout",
      );
      const uses = Object.entries(program.resources).filter(([, r]) => r.type === TOKEN);
      assert.equal(uses.length, 1, `the program declares one ${TOKEN}`);
      const [[name, resource]] = uses;
      assert.deepEqual(checkArgs(schema, resource.properties, yamlDialect), []);
      for (const [output, expression] of Object.entries(program.outputs)) {
        const match = new RegExp(`^\\$\\{${name}\\.(\\w+)\\}$`).exec(expression);
        assert.ok(match && match[1] in component.properties, `output ${output}: ${expression} is no output`);
      }
    });

    it("examples/pausle-python", () => {
      const dir = path.join(ROOT, "examples/pausle-python");
      const project = yaml.load(fs.readFileSync(path.join(dir, "Pulumi.yaml"), "utf8")) as YamlProgram;
      assert.equal(path.resolve(dir, project.packages["minimal-image"]), ROOT);
      const program = pythonCalls(path.join(dir, project.main ?? "__main__.py"));
      assert.equal(program.module, "pulumi_minimal_image", "the SDK's Python package name");
      assert.equal(program.components.length, 1, "the program declares one MinimalImage");
      const [call] = program.components;
      assert.deepEqual(checkArgs(schema, call, pythonDialect), []);
      assert.ok(program.outputs.length > 0);
      const outputs = new Map(Object.keys(component.properties).map((name) => [snake(name), name]));
      for (const attribute of program.outputs) {
        assert.ok(outputs.has(attribute), `pausle.${attribute} is no output`);
      }
    });
  });
});

interface YamlProgram {
  runtime: string | { name: string };
  main?: string;
  packages: Record<string, string>;
  resources: Record<string, { type: string; properties: Record<string, unknown> }>;
  outputs: Record<string, string>;
}

/** How a language writes values: objects, enum members, and values only known when the program runs. */
interface Dialect {
  /** The fields of an object of schema type `typeName`, keyed by schema property; a string is a complaint. */
  fields(value: unknown, typeName: string, properties: string[]): Record<string, unknown> | string;
  /** True when `value` names one of the enum's members. */
  isMember(value: unknown, typeName: string, members: { name: string; value: string | number }[]): boolean;
  /** True for a value computed when the program runs (config, interpolation): acceptable for a scalar. */
  isRuntimeValue(value: unknown): boolean;
}

const SCALARS: Record<string, (value: unknown) => boolean> = {
  string: (value) => typeof value === "string",
  number: (value) => typeof value === "number",
  integer: (value) => Number.isInteger(value),
  boolean: (value) => typeof value === "boolean",
};

/** Every complaint about the args a program gives MinimalImage; none when all fit the schema. */
function checkArgs(schema: PackageSchema, args: unknown, dialect: Dialect): string[] {
  const component = schema.resources[TOKEN];
  const fields = dialect.fields(args, "MinimalImage", Object.keys(component.inputProperties));
  if (typeof fields === "string") return [fields];
  const missing = component.requiredInputs
    .filter((name) => !(name in fields))
    .map((name) => `${name} is missing`);
  return [
    ...missing,
    ...Object.entries(fields).flatMap(([name, value]) =>
      checkValue(schema, component.inputProperties[name], value, name, dialect),
    ),
  ];
}

function checkValue(
  schema: PackageSchema,
  spec: PropertySpec,
  value: unknown,
  where: string,
  dialect: Dialect,
): string[] {
  if (spec.$ref) {
    const typeName = spec.$ref.replace("#/types/minimal-image:index:", "");
    const type = schema.types[`minimal-image:index:${typeName}`];
    if (!type) return [`${where}: ${spec.$ref} is not in the schema`];
    if (type.enum) {
      return dialect.isMember(value, typeName, type.enum)
        ? []
        : [`${where}: ${JSON.stringify(value)} is no ${typeName}`];
    }
    const properties = type.properties ?? {};
    const fields = dialect.fields(value, typeName, Object.keys(properties));
    if (typeof fields === "string") return [`${where}: ${fields}`];
    const missing = (type.required ?? [])
      .filter((name) => !(name in fields))
      .map((name) => `${where}.${name} is missing`);
    return [
      ...missing,
      ...Object.entries(fields).flatMap(([name, field]) =>
        checkValue(schema, properties[name], field, `${where}.${name}`, dialect),
      ),
    ];
  }
  if (spec.type === "array") {
    if (!Array.isArray(value)) return [`${where}: expected a list, got ${JSON.stringify(value)}`];
    return value.flatMap((item, i) => checkValue(schema, spec.items!, item, `${where}[${i}]`, dialect));
  }
  if (spec.type === "object" && spec.additionalProperties) {
    if (typeof value !== "object" || value === null) return [`${where}: expected a map`];
    return Object.entries(value).flatMap(([key, item]) =>
      checkValue(schema, spec.additionalProperties!, item, `${where}.${key}`, dialect),
    );
  }
  const scalar = SCALARS[spec.type ?? ""];
  if (!scalar) return [`${where}: the test does not know schema type ${JSON.stringify(spec)}`];
  return scalar(value) || dialect.isRuntimeValue(value)
    ? []
    : [`${where}: ${JSON.stringify(value)} is no ${spec.type}`];
}

/** Pulumi YAML: objects are mappings keyed by schema name, enums their values, `${…}` an interpolation. */
const yamlDialect: Dialect = {
  fields(value, typeName, properties) {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return `expected a ${typeName} mapping`;
    const unknown = Object.keys(value).filter((key) => !properties.includes(key));
    return unknown.length > 0
      ? `${unknown.join(", ")} not in ${typeName}`
      : (value as Record<string, unknown>);
  },
  isMember: (value, _typeName, members) => members.some((member) => member.value === value),
  isRuntimeValue: (value) => typeof value === "string" && /^\$\{[\w.]+\}$/.test(value),
};

/** A Python expression as tests/python-calls.py reports it. */
type PythonValue =
  | { const: string | number | boolean | null }
  | { call: string; kwargs: Record<string, PythonValue> }
  | { name: string }
  | { list: PythonValue[] }
  | { dict: Record<string, PythonValue> }
  | { expr: string };

/** The generated Python SDK: `<Type>Args` classes with snake_case keywords, enums as `Enum.UPPER_SNAKE`. */
const pythonDialect: Dialect = {
  fields(raw, typeName, properties) {
    const value = raw as PythonValue;
    // The component's own class takes its args as keywords; every other object is a `<Type>Args`.
    const expected =
      typeName === "MinimalImage" ? "minimal_image.MinimalImage" : `minimal_image.${typeName}Args`;
    if (!("kwargs" in value) || value.call !== expected) return `expected ${expected}(...)`;
    const byPythonName = new Map(properties.map((name) => [snake(name), name]));
    const fields: Record<string, unknown> = {};
    for (const [keyword, field] of Object.entries(value.kwargs)) {
      const name = byPythonName.get(keyword);
      if (!name) return `${keyword} not in ${typeName}`;
      fields[name] = fromPython(field);
    }
    return fields;
  },
  isMember(raw, typeName, members) {
    const value = raw as PythonValue;
    return (
      "name" in value &&
      members.some((member) => value.name === `minimal_image.${typeName}.${snake(member.name).toUpperCase()}`)
    );
  },
  isRuntimeValue: (raw) =>
    "call" in (raw as PythonValue) && !(raw as { call: string }).call.startsWith("minimal_image."),
};

/** Lists become arrays and constants values, so that the generic checks apply; the rest stays as it is. */
function fromPython(value: PythonValue): unknown {
  if ("const" in value) return value.const;
  if ("list" in value) return value.list.map(fromPython);
  if ("dict" in value)
    return Object.fromEntries(Object.entries(value.dict).map(([k, v]) => [k, fromPython(v)]));
  return value;
}

/** Pulumi's Python names: `imageName` → `image_name`, `ClusterIP` → `cluster_ip`. */
function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

/** The MinimalImage calls of a Python program, read with Python's own parser (nothing is run). */
function pythonCalls(file: string): {
  module: string;
  components: PythonValue[];
  outputs: string[];
} {
  const output = execFileSync("python3", [path.join(__dirname, "..", "support", "python-calls.py"), file], {
    encoding: "utf8",
    timeout: 30_000,
  });
  return JSON.parse(output);
}
