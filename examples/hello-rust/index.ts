// hello-rust as a static FROM scratch image serving HTTP on 127.0.0.1:8082: `pulumi up` in this folder.
import * as pulumi from "@pulumi/pulumi";
import { MinimalImage } from "minimal-image";

const config = new pulumi.Config();
const hello = new MinimalImage("hello-rust", {
  source: ".",
  recipe: { toolchain: "rust" },
  imageName: "examples/hello-rust",
  registry: { server: config.get("registryServer") ?? "localhost:5000" },
  replicas: { count: 1, ports: [8080], publishedPorts: [{ port: 8080, hostPort: 8082 }] },
});

export const imageRef = hello.imageRef;
export const sizeReport = hello.sizeReport;
