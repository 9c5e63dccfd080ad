// hello-go as a static FROM scratch image serving HTTP on 127.0.0.1:8080: `pulumi up` in this folder.
import * as pulumi from "@pulumi/pulumi";
import { MinimalImage } from "minimal-image";

const config = new pulumi.Config();
const hello = new MinimalImage("hello-go", {
  source: ".",
  recipe: { toolchain: "go" },
  imageName: "examples/hello-go",
  registry: { server: config.get("registryServer") ?? "localhost:5000" },
  replicas: { count: 1, ports: [8080], publishedPorts: [{ port: 8080, hostPort: 8080 }] },
});

export const imageRef = hello.imageRef;
export const sizeReport = hello.sizeReport;
