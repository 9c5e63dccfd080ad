/**
 * The inspection of a pushed image, kept in Pulumi's state by digest: a dynamic resource whose provider
 * inspects an image when it is created and never again while the digest stays, so an update that pushes
 * nothing new asks no registry (and survives a registry outage), and a preview never does.
 */
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ImageReport } from "./inspect";

/** What the inspection is of. */
export interface ImageInspectionArgs {
  /** The pushed image by digest, `registry/repo@sha256:…`. */
  imageRef: pulumi.Input<string>;
  /** `os/arch[/variant]` to pick from a multi-platform image. */
  platform: pulumi.Input<string>;
  /** Registry credentials; without them, those of `docker login`, as the provider's push uses them. */
  username?: pulumi.Input<string | undefined>;
  password?: pulumi.Input<string | undefined>;
}

/** The inputs as the provider receives them, resolved. */
interface Inputs {
  imageRef: string;
  platform: string;
  username?: string | null;
  password?: string | null;
}

/**
 * The compiled inspect stage, which the provider loads in the process that runs it (Pulumi's dynamic
 * provider host has no TypeScript loader): this file's compiled sibling, or, when the program runs from
 * this repository's TypeScript sources, the copy `npm run build` compiles into `bin/`.
 */
function compiledInspectModule(file = __filename): string {
  const dir = path.dirname(file);
  if (!file.endsWith(".ts")) return path.join(dir, "inspect.js");
  const root = path.resolve(dir, "..", "..");
  return path.join(root, "bin", path.relative(root, dir), "inspect.js");
}

/**
 * The provider, as Pulumi serializes it into the resource's state: it captures only the module's path.
 * `diff` replaces the record when the image or platform changes; a change of credentials alone keeps it.
 */
function inspectionProvider(modulePath: string): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: Inputs) {
      let inspectImage: typeof import("./inspect").inspectImage;
      try {
        /* eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded where the provider runs */
        ({ inspectImage } = require(modulePath) as typeof import("./inspect"));
      } catch (error) {
        throw new Error(
          `minimal-image: cannot load the compiled inspection at ${modulePath} (${(error as Error).message}). ` +
            "Build the package (`npm run build`) where the program runs from its TypeScript sources",
        );
      }
      const { imageRef, platform } = inputs;
      // An absent credential arrives as null from Pulumi's state; a username alone means none.
      const credentials = inputs.username
        ? { username: inputs.username, password: inputs.password ?? "" }
        : {};
      const report = await inspectImage(imageRef, { platform, ...credentials });
      return { id: report.imageRef, outs: { ...inputs, report } };
    },
    async diff(_id: string, olds: Inputs, news: Inputs) {
      const replaces = (["imageRef", "platform"] as const).filter((key) => olds[key] !== news[key]);
      return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
    },
  };
}

/** A pushed image's inspection report, made once per digest and platform and kept in state. */
export class ImageInspection extends pulumi.dynamic.Resource {
  declare readonly report: pulumi.Output<ImageReport>;

  constructor(name: string, args: ImageInspectionArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      inspectionProvider(compiledInspectModule()),
      name,
      { ...args, password: args.password && pulumi.secret(args.password), report: undefined },
      opts,
      "minimal-image",
      "ImageInspection",
    );
  }
}
