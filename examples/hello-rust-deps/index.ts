// hello-rust-deps as a static FROM scratch image serving JSON on 127.0.0.1:8081: `pulumi up` in this folder.
// Its crates come from crates.io with the default builder, or offline from Debian packages with the local
// one (`MINIMAL_IMAGE_RUST_BUILDER=minimal-image-builder/rust:local`, made by scripts/dev-env up).
import * as pulumi from "@pulumi/pulumi";
import { MinimalImage } from "minimal-image";

const config = new pulumi.Config();
const hello = new MinimalImage("hello-rust-deps", {
  source: ".",
  recipe: { toolchain: "rust" },
  imageName: "examples/hello-rust-deps",
  registry: { server: config.get("registryServer") ?? "localhost:5000" },
  replicas: { count: 1, ports: [8080], publishedPorts: [{ port: 8080, hostPort: 8081 }] },
});

export const imageRef = hello.imageRef;
export const sizeReport = hello.sizeReport;
