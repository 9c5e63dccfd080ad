import * as pulumi from "@pulumi/pulumi";
import { parseImageReference } from "../reference";
import { InputError } from "../validation";

/**
 * An image reference pinned by digest, `registry/repo@sha256:…`: a string, or a Pulumi output of one
 * (such as a pushed image's digest reference), which is checked when it resolves.
 */
export type DigestRefInput = string | pulumi.Output<string>;

/**
 * Returns the digest of a reference of the form `registry/repo@sha256:…`.
 * @throws InputError when the reference has a tag or no digest: replicas run exactly the pushed bytes.
 */
function requireDigest(imageRef: string, field: string): string {
  const { tag, digest } = parseImageReference(imageRef, field);
  if (digest === undefined || tag !== undefined) {
    throw new InputError(
      field,
      `"${imageRef}" ${digest === undefined ? "is not pinned by digest" : "carries a tag next to its digest"}`,
      "Give `registry/repo@sha256:<64 hex>` (no tag), e.g. the digest reference reported by the push.",
    );
  }
  return digest;
}

/**
 * Checks that `imageRef` is pinned by digest (now for a string, on resolution for an output) and returns
 * the reference and its digest in the same form as the input.
 */
export function pinnedImage<I extends DigestRefInput>(imageRef: I, field: string): { ref: I; digest: I } {
  if (typeof imageRef === "string") {
    return { ref: imageRef, digest: requireDigest(imageRef, field) as I };
  }
  const checked = (imageRef as pulumi.Output<string>).apply((ref) => ({
    ref,
    digest: requireDigest(ref, field),
  }));
  return { ref: checked.ref as I, digest: checked.digest as I };
}
