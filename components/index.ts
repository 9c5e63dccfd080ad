/**
 * minimal-image: static binaries in `FROM scratch` images, built, pushed, inspected and run with Pulumi.
 * Stages, each usable alone: recipe -> render -> publish -> sbom -> inspect -> deploy, over the ground floor's
 * platform, reference, registry and validation modules and the OCI registry client.
 */
export { MinimalImage, MinimalImageArgs, MinimalImageOptions, PlatformImage } from "./minimal-image";
export { FieldPath, formatPath, InputError } from "./validation";
export { parseImageReference, ImageReference, isDigest } from "./reference";
export {
  DEFAULT_PLATFORM,
  elfMachine,
  formatPlatform,
  parsePlatform,
  platformMatches,
  Platform,
  validatePlatform,
} from "./platform";
export { isLoopbackRegistry, pushName, RegistryInput, validateRegistry } from "./registry";
export * from "./oci";
export * from "./recipe";
export * from "./render";
export * from "./publish";
export * from "./sbom";
export * from "./inspect";
export * from "./deploy";
