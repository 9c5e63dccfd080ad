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

/** The local registry `scripts/dev-env up` starts. */
export const LOCAL_REGISTRY = "127.0.0.1:5000";

/** A name unique to this test run, so parallel or repeated runs never share images or containers. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}
