/**
 * The SBOM's attachment, kept in Pulumi's state: a dynamic resource whose provider attaches the SBOM when it
 * is created and never again while the image and the carrier stay, so an update that builds nothing new
 * asks no registry, and a preview never does (its diff is pure; the digest is unknown until created).
 */
import * as pulumi from "@pulumi/pulumi";
import { compiledModule } from "../compiled-module";

/** What is attached to what. */
export interface SbomAttachmentArgs {
  /** The carrier image (the `sbom` target) by digest, `registry/repo@sha256:…`. */
  carrierRef: pulumi.Input<string>;
  /** The image the SBOM describes, by digest, in the same registry. */
  subjectRef: pulumi.Input<string>;
  /** Registry credentials; without them, those of `docker login`, as the provider's push uses them. */
  username?: pulumi.Input<string | undefined>;
  password?: pulumi.Input<string | undefined>;
}

/** The inputs as the provider receives them, resolved; an absent credential arrives as null from state. */
interface Inputs {
  carrierRef: string;
  subjectRef: string;
  username?: string | null;
  password?: string | null;
}

/**
 * The provider, as Pulumi serializes it into the resource's state: it captures only the modules' loaders.
 * `diff` replaces the attachment when the image or the carrier changes; a change of credentials alone keeps
 * it. The outputs hold no credential: the password never reaches the state.
 */
function attachmentProvider(modules: {
  attach: () => typeof import("./attach");
  cyclonedx: () => typeof import("./cyclonedx");
}): pulumi.dynamic.ResourceProvider {
  return {
    async create(inputs: Inputs) {
      const { attachSbom } = modules.attach();
      const { buildSbom } = modules.cyclonedx();
      const { carrierRef, subjectRef } = inputs;
      const credentials = inputs.username
        ? { username: inputs.username, password: inputs.password ?? "" }
        : {};
      const { sbomDigest, mechanism } = await attachSbom({
        carrierRef,
        subjectRef,
        ...credentials,
        render: buildSbom,
      });
      const subject = subjectRef.slice(0, subjectRef.indexOf("@"));
      return {
        id: `${subject}@${sbomDigest}`,
        outs: { carrierRef, subjectRef, username: inputs.username ?? null, sbomDigest, referrers: mechanism },
      };
    },
    async diff(_id: string, olds: Inputs, news: Inputs) {
      const replaces = (["carrierRef", "subjectRef"] as const).filter((key) => olds[key] !== news[key]);
      return { changes: replaces.length > 0, replaces, deleteBeforeReplace: false };
    },
  };
}

/**
 * An image's SBOM, attached in the registry as an OCI artifact whose subject is the image, once per image
 * and carrier digest, and kept in state. `sbomDigest` is the artifact manifest's digest.
 */
export class SbomAttachment extends pulumi.dynamic.Resource {
  declare readonly sbomDigest: pulumi.Output<string>;
  /** How the registry lists it: `referrers API`, or `fallback tag` (`sha256-<hex>`). */
  declare readonly referrers: pulumi.Output<string>;

  constructor(name: string, args: SbomAttachmentArgs, opts: pulumi.CustomResourceOptions = {}) {
    super(
      attachmentProvider({
        attach: compiledModule(__filename, "attach", "SBOM attachment"),
        cyclonedx: compiledModule(__filename, "cyclonedx", "SBOM writer"),
      }),
      name,
      {
        ...args,
        password: args.password && pulumi.secret(args.password),
        sbomDigest: undefined,
        referrers: undefined,
      },
      opts,
      "minimal-image",
      "SbomAttachment",
    );
  }
}
