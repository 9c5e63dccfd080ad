// pausle, the post's pause() program, as a static FROM scratch image: `pulumi up` in this folder.
import * as pulumi from "@pulumi/pulumi";
import { MinimalImage } from "minimal-image";

const config = new pulumi.Config();
const pausle = new MinimalImage("pausle", {
  source: ".",
  recipe: { toolchain: "c" },
  imageName: "examples/pausle",
  registry: { server: config.get("registryServer") ?? "localhost:5000" },
  maxImageBytes: 16_000,
  replicas: { count: config.getNumber("replicas") ?? 3 },
});

export const imageRef = pausle.imageRef;
export const sizeReport = pausle.sizeReport;
export const replicaNames = pausle.replicaNames;
