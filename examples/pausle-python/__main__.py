"""pausle, the post's pause() program, as a static FROM scratch image, from Python.

MinimalImage is written in TypeScript; `pulumi package add ../..` generates this program's SDK for it.
The component runs in the program's working directory, so `source` is relative to this folder.
"""

import pulumi
import pulumi_minimal_image as minimal_image

config = pulumi.Config()

pausle = minimal_image.MinimalImage(
    "pausle",
    source="../pausle",
    recipe=minimal_image.RecipeOptionsArgs(
        toolchain=minimal_image.Toolchain.C,
        libc=minimal_image.Libc.MUSL,
    ),
    image_name="examples/pausle-python",
    # One image per platform, cross-compiled, and one OCI image index under the tag listing both.
    platforms=["linux/amd64", "linux/arm64"],
    registry=minimal_image.RegistryInputArgs(
        server=config.get("registryServer", "localhost:5000"),
    ),
    max_image_bytes=16_000,
    replicas=minimal_image.ReplicaOptionsInputArgs(
        count=config.get_int("replicas", 2),
        runtime=minimal_image.ReplicaRuntime.DOCKER,
        restart_policy=minimal_image.RestartPolicy.UNLESS_STOPPED,
    ),
)

pulumi.export("imageRef", pausle.image_ref)
pulumi.export("sizeReport", pausle.size_report)
pulumi.export("platformImages", pausle.platform_images)
pulumi.export("replicaNames", pausle.replica_names)
