/**
 * minimal-image: static binaries in `FROM scratch` images, built, pushed, inspected and run with Pulumi.
 * The package's entry: `import { MinimalImage } from "minimal-image"`.
 */
export * from "./components";
