import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { contextDigest, ignorePatterns, listContextFiles } from "../../components/render";
import { buildContext } from "../engine/build";
import { pushLocally, tagImage } from "../engine/push";
import { onlyKnownKeys, objectInput, ResourceKind } from "./kind";
import { sameValue } from "./state";

const IMAGE_KEYS = ["imageName", "build", "registry", "skipPush", "buildOnPreview"] as const;
const BUILD_KEYS = [
  "context",
  "dockerfile",
  "args",
  "builderVersion",
  "platform",
  "target",
  "cacheFrom",
  "contextDigest",
];
const REGISTRY_KEYS = ["server", "username", "password"];

/** The platform the provider fills in when none is given: Linux on the machine's own architecture. */
export function hostPlatform(): string {
  const arch = { x64: "amd64", arm64: "arm64", arm: "arm", ppc64: "ppc64le", s390x: "s390x" }[
    process.arch as string
  ];
  return `linux/${arch ?? process.arch}`;
}

/**
 * The files the provider sends for a context, with its ignore rules: `<dockerfile>.dockerignore` before the
 * context's `.dockerignore` (pulumi-docker `getIgnorePatterns`).
 */
function contextFiles(context: string, dockerfile: string): string[] {
  const field = ["docker.Image", "build", "context"];
  return listContextFiles(context, field, ignorePatterns(context, dockerfile, field));
}

/** Everything but the registry credentials: changing only those rebuilds nothing, as in the provider's Diff. */
function withoutCredentials(inputs: Record<string, unknown>): Record<string, unknown> {
  const registry = objectInput(inputs.registry, "docker.Image registry");
  return { ...inputs, registry: { server: registry.server } };
}

/**
 * `docker.Image` of @pulumi/docker 4.x/5.x: build the context with the Dockerfile (both paths relative to the
 * program's folder), tag it `imageName`, push it with the declared registry's credentials, and return the
 * pushed digest as `repoDigest`. A preview builds nothing, as the provider without `buildOnPreview`, which the
 * executor does not carry out.
 */
export const dockerImage: ResourceKind = {
  updatesInPlace: true,
  deleteBeforeReplace: false,
  computed: ["repoDigest"],

  async check({ inputs }) {
    onlyKnownKeys("docker.Image", inputs, IMAGE_KEYS);
    const build = objectInput(inputs.build, "docker.Image build");
    onlyKnownKeys("docker.Image build", build, BUILD_KEYS);
    onlyKnownKeys(
      "docker.Image registry",
      objectInput(inputs.registry, "docker.Image registry"),
      REGISTRY_KEYS,
    );
    if (typeof inputs.imageName !== "string")
      throw new Error("local executor: docker.Image imageName is required");
    const context = typeof build.context === "string" ? build.context : ".";
    const dockerfile =
      typeof build.dockerfile === "string" ? build.dockerfile : path.join(context, "Dockerfile");
    if (path.isAbsolute(dockerfile) && !fs.existsSync(dockerfile)) {
      throw new Error(
        `local executor: docker.Image build.dockerfile: expected a relative path, got ${dockerfile}`,
      );
    }
    if (!fs.existsSync(dockerfile)) {
      throw new Error(
        `local executor: docker.Image build.dockerfile: could not open ${dockerfile} (from ${process.cwd()})`,
      );
    }
    return {
      ...inputs,
      buildOnPreview: inputs.buildOnPreview ?? false,
      build: {
        ...build,
        context,
        dockerfile,
        builderVersion: build.builderVersion ?? "BuilderBuildKit",
        platform: build.platform ?? hostPlatform(),
        contextDigest: contextDigest(
          context,
          contextFiles(context, dockerfile),
          fs.readFileSync(dockerfile, "utf8"),
        ),
      },
    };
  },

  unchanged(old, checked) {
    return sameValue(withoutCredentials(old), withoutCredentials(checked));
  },

  async create({ name }, checked, { docker, progress, steps }) {
    const build = objectInput(checked.build, "docker.Image build");
    const registry = objectInput(checked.registry, "docker.Image registry");
    const imageName = checked.imageName as string;
    const context = build.context as string;
    const dockerfile = build.dockerfile as string;
    const cacheFrom = (objectInput(build.cacheFrom, "docker.Image build.cacheFrom").images ?? []) as string[];
    if (build.builderVersion !== "BuilderBuildKit" && build.builderVersion !== "BuilderV1") {
      throw new Error(
        `local executor: docker.Image build.builderVersion ${String(build.builderVersion)} is not valid`,
      );
    }
    progress(`building ${name} (${imageName}) for ${build.platform}`);
    // Built under a tag of its own, then tagged imageName right before its push by ID: a concurrent build of
    // the same imageName cannot swap the image this resource pushes.
    const buildTag = `${imageName.replace(/:[^:/]+$/, "")}:minimal-image-build-${randomBytes(6).toString("hex")}`;
    const built = await buildContext(
      {
        sourceDir: context,
        contextFiles: contextFiles(context, dockerfile),
        dockerfile: fs.readFileSync(dockerfile, "utf8"),
      },
      {
        tag: buildTag,
        builder: build.builderVersion === "BuilderV1" ? "classic" : "buildkit",
        platform: build.platform as string,
        buildArgs: build.args as Record<string, string> | undefined,
        // The provider passes build.target to the engine's build as `target` (pulumi-docker provider/image.go).
        target: typeof build.target === "string" ? build.target : undefined,
        cacheFrom,
        docker,
        progress: steps,
      },
    );
    const outputs: Record<string, unknown> = {
      dockerfile: path.relative(context, dockerfile).split(path.sep).join("/"),
      context,
      baseImageName: imageName,
      registryServer: registry.server,
      imageName,
      platform: build.platform,
    };
    try {
      if (checked.skipPush === true) {
        await tagImage(built.imageId, imageName, docker);
        return { id: imageName, outputs: { ...outputs, repoDigest: built.imageId } };
      }
      progress(`pushing ${imageName}`);
      const credentials =
        typeof registry.username === "string" && typeof registry.password === "string"
          ? { username: registry.username, password: registry.password }
          : undefined;
      const repoDigest = await pushLocally(imageName, credentials, docker, steps, { imageId: built.imageId });
      return { id: imageName, outputs: { ...outputs, repoDigest } };
    } finally {
      // Only the build's own tag goes: the image keeps imageName.
      await docker
        .getImage(buildTag)
        .remove()
        .catch(() => undefined);
    }
  },

  // The provider's Delete leaves the pushed image and the local one alone.
  async remove() {},
};
