/**
 * minimal-image: static binaries in `FROM scratch` images, built, pushed, inspected and run with Pulumi.
 * Stages, each usable alone: recipe -> build -> publish -> inspect -> deploy.
 */
export { MinimalImage, MinimalImageArgs, MinimalImageOptions } from "./minimal-image";
export { InputError } from "./errors";
export { parseImageReference, ImageReference } from "./reference";
export * from "./recipe";
export * from "./build";
export * from "./publish";
export * from "./inspect";
export * from "./deploy";
