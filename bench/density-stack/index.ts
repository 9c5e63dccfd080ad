// The benchmarks' stack program, run by the local executor (see replicaStack in bench/support.ts). Given
// `libc`: a MinimalImage of examples/pausle built with that C library, running `replicas` replicas. Given
// `imageRef` instead: replicas of an image already pushed (bench/run.ts measures images the component does
// not build, such as pausle on a Debian base), declared with the deploy stage's resources, as the component
// declares them.
import * as pulumi from "@pulumi/pulumi";
import {
  createDockerReplicas,
  dockerReplicaSpecs,
  Libc,
  MinimalImage,
  validateReplicaOptions,
} from "../../index";

const config = new pulumi.Config();
const name = config.require("name");
const count = config.requireNumber("replicas");
const imageRef = config.get("imageRef");

function pushedImageReplicas(ref: string): pulumi.Output<string[]> {
  const owner = new pulumi.ComponentResource("minimal-image-bench:index:Replicas", name);
  const options = validateReplicaOptions({ count, runtime: "docker" });
  if (options.runtime !== "docker") throw new Error("density-stack: expected Docker replica options");
  const specs = dockerReplicaSpecs({ name, imageRef: ref, options });
  const containers = createDockerReplicas(name, specs, { parent: owner });
  return pulumi.all(containers.map((container) => container.name));
}

function pausleReplicas(libc: Libc): pulumi.Output<string[]> {
  const image = new MinimalImage(name, {
    source: "../../examples/pausle",
    recipe: { toolchain: "c", libc },
    imageName: `bench-density-pausle-${libc}`,
    registry: { server: "127.0.0.1:5000" },
    replicas: { count, runtime: "docker" },
  });
  return image.replicaNames;
}

export const replicaNames =
  imageRef !== undefined ? pushedImageReplicas(imageRef) : pausleReplicas(config.require("libc") as Libc);
