/**
 * The inspection of a pushed image, kept in Pulumi's state by digest: a dynamic resource whose provider
 * inspects an image when it is created and never again while the digest stays, so an update that pushes
 * nothing new asks no registry (and survives a registry outage), and a preview never does.
 */
import * as pulumi from "@pulumi/pulumi";
import type { ImageReport } from "./inspect";
import { compiledModule } from "../compiled-module";

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
 * The provider, as Pulumi serializes it into the resource's state: it captures only the module's loader.
 * `diff` replaces the record when the image or platform changes; a change of credentials alone keeps it.
 */
function inspectionProvider(load: () => typeof import("./inspect")): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: Inputs) {
      const { inspectImage } = load();
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
      inspectionProvider(compiledModule(__filename, "inspect", "inspection")),
      name,
      { ...args, password: args.password && pulumi.secret(args.password), report: undefined },
      opts,
      "minimal-image",
      "ImageInspection",
    );
  }
}
