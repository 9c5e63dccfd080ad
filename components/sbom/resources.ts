/**
 * The SBOM's resources for one platform's image: the carrier (the rendered Dockerfile's `sbom` target, built
 * as a second `docker.Image` from the same context and pushed under a tag of its own) and the attachment,
 * which turns the carrier's facts into the SBOM and attaches it to the image in the registry.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { BuildInput } from "../publish";
import type { RecipeOptions } from "../recipe";
import { SBOM_TARGET } from "../render";
import { InputError } from "../validation";
import { carrierName } from "./carrier";
import { SbomAttachment } from "./sbom-resource";

/** What the SBOM of one image is made from and attached to. */
export interface SbomInputs {
  /** The recipe as given: an Output one may still turn the SBOM off, which is refused (see {@link wantsSbom}). */
  recipe: pulumi.Input<RecipeOptions> | undefined;
  /** The image's `build` input: the carrier builds the same context and Dockerfile, to another target. */
  build: pulumi.Input<BuildInput>;
  /** The image's push name, `<server>/<repository>:<tag>`; the carrier goes beside it under a derived tag. */
  imageName: pulumi.Input<string>;
  /** The platform the image is built for: one SBOM per platform. */
  platform: pulumi.Input<string>;
  /** The pushed image by digest: the SBOM's subject. */
  subjectRef: pulumi.Input<string>;
  registry: {
    server: pulumi.Input<string>;
    username: pulumi.Input<string | undefined>;
    password: pulumi.Input<string | undefined>;
  };
}

/**
 * Declares the carrier and the attachment of one image's SBOM. The carrier waits for the image (`image` in
 * `opts.dependsOn`), so BuildKit compiles once and the carrier's build reuses the builder stage from cache.
 * @returns the attached artifact's manifest digest.
 */
export function declareSbom(
  name: string,
  inputs: SbomInputs,
  opts: pulumi.CustomResourceOptions,
): { sbomDigest: pulumi.Output<string> } {
  const { registry } = inputs;
  const checked = pulumi.output(inputs.recipe).apply(refuseLateOptOut);
  const carrier = new docker.Image(
    `${name}-sbom-facts`,
    {
      imageName: pulumi
        .all([inputs.imageName, inputs.platform])
        .apply(([image, platform]) => carrierName(image, platform)),
      build: pulumi.all([inputs.build, checked]).apply(([build]) => ({ ...build, target: SBOM_TARGET })),
      registry: {
        server: registry.server,
        username: registry.username,
        password: pulumi.secret(pulumi.output(registry.password)),
      },
    },
    opts,
  );
  const attachment = new SbomAttachment(
    `${name}-sbom`,
    {
      carrierRef: carrier.repoDigest,
      subjectRef: inputs.subjectRef,
      username: registry.username,
      password: registry.password,
    },
    opts,
  );
  // Fails at once, rather than waiting on a carrier that cannot be built, when the recipe refuses it late.
  return { sbomDigest: checked.apply(() => attachment.sbomDigest) };
}

/**
 * Whether the SBOM's resources are declared: unless `recipe.sbom` is false. Resources are declared when the
 * program runs, so a recipe that is an Output (or holds one as `sbom`) gets them, and turning them off in it
 * fails the update, naming the field.
 */
export function wantsSbom(recipe: pulumi.Input<RecipeOptions> | undefined): boolean {
  // An Output's property is an Output too, never `false`.
  return (recipe as { sbom?: unknown } | undefined)?.sbom !== false;
}

function refuseLateOptOut(recipe: RecipeOptions | undefined): void {
  if (recipe?.sbom === false) {
    throw new InputError(
      ["recipe", "sbom"],
      "is false in a recipe given as an Output, but the SBOM's resources are declared when the program runs",
      "Give recipe (or at least recipe.sbom) as a plain value, e.g. from config, to turn the SBOM off",
    );
  }
}
