import { outsideText } from "../outside-text";

/**
 * An SBOM that cannot be made, attached or found: a carrier image that is not what the build makes, or an
 * image with no SBOM attached. The message names the image and the fix, never a credential.
 */
export class SbomError extends Error {
  constructor(
    /** The image as `<registry>/<repository>@<digest>`, or the reference as given. */
    readonly image: string,
    problem: string,
    fix: string,
  ) {
    // Problems may quote what a registry sent (paths, media types): no control character gets through.
    super(`minimal-image: image ${image}: ${outsideText(problem, Infinity)}. ${fix}.`);
    this.name = "SbomError";
  }
}
