// The root stack (`main:` in Pulumi.yaml): examples/pausle as a static FROM scratch image, pushed, measured, replicated.
// Secrets: set the registry password with `pulumi config set --secret registryPassword …`.
import * as pulumi from "@pulumi/pulumi";
import { MinimalImage } from "./index";

const config = new pulumi.Config();
const username = config.get("registryUsername") || undefined;

const pausle = new MinimalImage("pausle", {
  source: "examples/pausle",
  recipe: { toolchain: "c", libc: (config.get("libc") ?? "musl") as "musl" | "glibc" },
  imageName: "pausle",
  // `npm run main -- --platforms linux/amd64,linux/arm64`: one image each, under one index.
  platforms: config.getObject<string[]>("platforms"),
  registry: {
    server: config.get("registryServer") ?? "localhost:5000",
    username,
    password: username ? config.requireSecret("registryPassword") : undefined,
  },
  maxImageBytes: config.getNumber("maxImageBytes"),
  replicas: { count: config.getNumber("replicas") ?? 3, runtime: config.get("runtime") ?? "docker" },
});

export const imageRef = pausle.imageRef;
export const digest = pausle.digest;
export const platformImages = pausle.platformImages;
export const tag = pausle.tag;
export const compressedSizeBytes = pausle.compressedSizeBytes;
export const uncompressedSizeBytes = pausle.uncompressedSizeBytes;
export const binarySizeBytes = pausle.binarySizeBytes;
export const layerCount = pausle.layerCount;
export const isStatic = pausle.isStatic;
export const sizeReport = pausle.sizeReport;
export const replicaNames = pausle.replicaNames;
export const replicaPorts = pausle.replicaPorts;
export const sbomDigest = pausle.sbomDigest;
