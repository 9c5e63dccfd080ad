/**
 * The OCI image index of a multi-platform image, kept in Pulumi's state by the digests it lists: a dynamic
 * resource whose provider pushes the index when it is created and never again while the platforms' digests
 * stay, so a preview (whose diff compares inputs alone) and an update that pushed nothing new ask no registry.
 * @pulumi/docker 5.x's `Image` builds and pushes one platform, so the index is written with the package's own
 * registry client.
 */
import * as pulumi from "@pulumi/pulumi";
import { compiledModule } from "../compiled-module";
import type { PushedIndex } from "./push-index";

/** What the index lists and where it goes. */
export interface MultiPlatformIndexArgs {
  /** `<registry>/<repository>:<tag>`: the tag the index is pushed under. */
  imageName: pulumi.Input<string>;
  /** Each platform's pushed image by digest, in the order the index lists them. */
  manifests: pulumi.Input<pulumi.Input<{ platform: pulumi.Input<string>; imageRef: pulumi.Input<string> }>[]>;
  /** Registry credentials; without them, those of `docker login`, as the provider's push uses them. */
  username?: pulumi.Input<string | undefined>;
  password?: pulumi.Input<string | undefined>;
}

/** The inputs as the provider receives them, resolved. */
interface Inputs {
  imageName: string;
  manifests: { platform: string; imageRef: string }[];
  username?: string | null;
  password?: string | null;
}

/**
 * The provider, as Pulumi serializes it into the resource's state: it captures only the module's loader.
 * `diff` replaces the index when the tag or what it lists changes; a change of credentials alone keeps it.
 * There is nothing to delete: like the platforms' images the index stays in the registry.
 */
function indexProvider(load: () => typeof import("./push-index")): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: Inputs) {
      const { pushImageIndex } = load();
      // An absent credential arrives as null from Pulumi's state; a username alone means none.
      const credentials = inputs.username
        ? { username: inputs.username, password: inputs.password ?? "" }
        : {};
      const pushed: PushedIndex = await pushImageIndex({
        imageName: inputs.imageName,
        manifests: inputs.manifests.map(({ platform, imageRef }) => ({ platform, imageRef })),
        ...credentials,
      });
      // The password stays out of the outputs: only the secret input holds it.
      const { imageName, manifests, username } = inputs;
      return { id: pushed.imageRef, outs: { imageName, manifests, username, ...pushed } };
    },
    async diff(_id: string, olds: Inputs, news: Inputs) {
      const replaces = (["imageName", "manifests"] as const).filter(
        (key) => JSON.stringify(olds[key]) !== JSON.stringify(news[key]),
      );
      return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
    },
  };
}

/** A multi-platform image's index, pushed once per set of platform digests and kept in state. */
export class MultiPlatformIndex extends pulumi.dynamic.Resource {
  /** The index by digest, `<registry>/<repository>@sha256:…`. */
  declare readonly imageRef: pulumi.Output<string>;
  /** The index's digest, `sha256:…`. */
  declare readonly digest: pulumi.Output<string>;

  constructor(name: string, args: MultiPlatformIndexArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      indexProvider(compiledModule(__filename, "push-index", "index publisher")),
      name,
      {
        ...args,
        password: args.password && pulumi.secret(args.password),
        imageRef: undefined,
        digest: undefined,
      },
      opts,
      "minimal-image",
      "MultiPlatformIndex",
    );
  }
}
