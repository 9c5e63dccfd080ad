/**
 * Builder overrides that point every toolchain at the offline images `scripts/dev-env up` makes from Debian
 * packages, with no setup commands (the images already hold the compilers).
 */
export const LOCAL_BUILDERS: Record<string, string> = {
  MINIMAL_IMAGE_C_BUILDER: "minimal-image-builder/c:local",
  MINIMAL_IMAGE_C_GLIBC_BUILDER: "minimal-image-builder/c:local",
  MINIMAL_IMAGE_GO_BUILDER: "minimal-image-builder/go:local",
  MINIMAL_IMAGE_RUST_BUILDER: "minimal-image-builder/rust:local",
};
