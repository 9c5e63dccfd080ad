import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { ResourceKind } from "./kind";

/** The package's dynamic resources (the inspection, the index, the SBOM attachment) share this type prefix. */
export const DYNAMIC_TYPE_PREFIX = "pulumi-nodejs:dynamic/minimal-image:";

/** Where the Node SDK puts a dynamic resource's serialized provider among its inputs. */
const PROVIDER_KEY = "__provider";

/**
 * Loads a dynamic resource's provider from its serialized text, as Pulumi's dynamic provider host does
 * (`requireFromString(text).handler()`, @pulumi/pulumi cmd/dynamic-provider), with the same package the
 * program's @pulumi/pulumi uses.
 */
function loadProvider(inputs: Record<string, unknown>, programDir: string): pulumi.dynamic.ResourceProvider {
  const text = inputs[PROVIDER_KEY];
  if (typeof text !== "string")
    throw new Error("local executor: a minimal-image dynamic resource has no serialized provider");
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [programDir] }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- resolved from the program's @pulumi/pulumi
  const requireFromString = require(require.resolve("require-from-string", { paths: [pulumiDir] })) as (
    code: string,
  ) => { handler(): pulumi.dynamic.ResourceProvider };
  return requireFromString(text).handler();
}

/** The inputs the provider sees: everything but its own serialized text. */
function providerInputs(inputs: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(inputs).filter(([key]) => key !== PROVIDER_KEY));
}

/**
 * A dynamic resource of the package (a Node dynamic resource), carried out as the dynamic provider host
 * does: Diff and Create are the serialized provider's own, against the state Create returned; a change of
 * the provider's text alone is no change (the host ignores it too). In a preview, whatever its provider
 * returned beside the inputs is unknown.
 */
export const dynamicResource: ResourceKind = {
  updatesInPlace: false,
  deleteBeforeReplace: false,
  diffsReadBack: true,
  computed: [],
  providerOutputsUnknown: true,

  async check({ inputs }) {
    return inputs;
  },

  async unchanged(old, checked, context) {
    const provider = loadProvider(checked, context.programDir);
    const olds = providerInputs(old);
    const news = providerInputs(checked);
    if (!provider.diff) return JSON.stringify(olds) === JSON.stringify(news);
    return (await provider.diff("", olds, news)).changes === false;
  },

  async create(registration, checked, context) {
    const provider = loadProvider(checked, context.programDir);
    context.progress(`${registration.type.slice(DYNAMIC_TYPE_PREFIX.length)} ${registration.name}`);
    const { id, outs } = await provider.create(providerInputs(checked));
    return { id, outputs: { ...outs, [PROVIDER_KEY]: checked[PROVIDER_KEY] } };
  },

  async remove(id, outputs, context) {
    const provider = loadProvider(outputs, context.programDir);
    await provider.delete?.(id, providerInputs(outputs));
  },
};
