import * as docker from "@pulumi/docker";
import { createHash } from "node:crypto";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { buildArgNames, contextDigest, renderBuild, RenderedBuild } from "./render";
import {
  createDockerReplicas,
  createKubernetesReplicas,
  dockerReplicaSpecs,
  kubernetesReplicaSpec,
  ReplicaOptions,
  ReplicaOptionsInput,
  ReplicaPort,
  replicaPorts,
  validateReplicaOptions,
} from "./deploy";
import { formatSizeReport, ImageInspection, ImageReport } from "./inspect";
import {
  buildInput,
  DOCKERFILE_FOLDER,
  dockerfilePath,
  MultiPlatformIndex,
  platformTag,
  validateCacheFrom,
  writeDockerfile,
} from "./publish";
import { RecipeOptions, resolveTarget } from "./recipe";
import { declareSbom, wantsSbom } from "./sbom";
import { DEFAULT_PLATFORM, validatePlatform, validatePlatformList } from "./platform";
import { pushName, RegistryInput, validateRegistry } from "./registry";
import { describe, FieldPath, InputError } from "./validation";

/**
 * Inputs of MinimalImage. Every language can give them (the package's schema is generated from this
 * interface), and every value is validated when the component runs, with errors that name the field.
 */
export interface MinimalImageArgs {
  /** The program's source folder: the build context. Relative paths resolve against the program's folder. */
  source: pulumi.Input<string>;
  /** How to build it; every field has a default. */
  recipe?: pulumi.Input<RecipeOptions>;
  /** Repository inside the registry, e.g. `pausle` or `team/pausle` (no registry host, no tag). */
  imageName: pulumi.Input<string>;
  /** Tag pushed with the image. Default `latest`. Everything that runs the image uses its digest instead. */
  tag?: pulumi.Input<string>;
  /** Where to push. The password is made a secret if it is not one already. */
  registry: pulumi.Input<RegistryInput>;
  /**
   * Target platform, e.g. `linux/arm64`: what is built, what replicas pull, and which Kubernetes nodes may run
   * it. Default `linux/amd64`, whatever machine runs the update. For several, give `platforms` instead.
   */
  platform?: pulumi.Input<string>;
  /**
   * Several target platforms, e.g. `["linux/amd64", "linux/arm64"]`, each cross-compiled and pushed under
   * `<tag>-<os>-<arch>`, and one OCI image index under `tag` listing them all: `imageRef` and `digest` are
   * then the index's, and `platformImages` has each platform's. A list of one builds exactly as `platform`
   * does. Not together with `platform`. With several, the list and its entries are plain values, since each
   * platform's resources are named after it.
   */
  platforms?: pulumi.Input<pulumi.Input<string>[]>;
  /** Build arguments; each is declared as an `ARG`, so its value reaches the build's steps. */
  buildArgs?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Images to take build cache from, e.g. the last image CI pushed: an unchanged program is then not
   * compiled again on a fresh machine. Given this, the pushed image carries BuildKit's inline cache too.
   */
  cacheFrom?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Size budget in bytes for the image on disk (uncompressed): the file bytes of its root filesystem,
   * checked in the build itself, so an image over it fails with the figure before anything is pushed.
   */
  maxImageBytes?: pulumi.Input<number>;
  /**
   * Replicas to run from the pushed digest, locally with Docker (the default runtime) or on Kubernetes.
   * Absent or `count: 0`: build and publish only. A plain value (not an Output, nor a secret), because the
   * replica resources are declared when the program runs. The Kubernetes provider is given as the
   * component's `providers` resource option.
   */
  replicas?: ReplicaOptionsInput;
}

/** Resource options, and where the program's folder is; ordinary programs pass no `programDir`. */
export interface MinimalImageOptions extends pulumi.ComponentResourceOptions {
  /** Folder the Dockerfile is written under and paths are made relative to. Default: `process.cwd()`. */
  programDir?: string;
}

/**
 * Compiles a program into a fully static binary, ships it alone in a `FROM scratch` image, pushes it,
 * checks what was pushed (static, within budget), reports its size, and optionally runs replicas of it by
 * digest, locally with Docker or on Kubernetes (with the `kubernetes` provider of the `providers` option).
 */
export class MinimalImage extends pulumi.ComponentResource {
  /**
   * The pushed image by digest, `registry/repo@sha256:…`: what replicas run. With several platforms, the
   * image index, from which each engine pulls its own platform.
   */
  readonly imageRef: pulumi.Output<string>;
  /** The manifest digest of the pushed image, `sha256:…`; with several platforms, the index's. */
  readonly digest: pulumi.Output<string>;
  /** The tag pushed with the image. */
  readonly tag: pulumi.Output<string>;
  /**
   * Each platform's pushed image and its figures, by platform (`linux/arm64`); one entry for one platform.
   * The size outputs below are the first listed platform's.
   */
  readonly platformImages: pulumi.Output<Record<string, PlatformImage>>;
  /** Config plus layers as stored in the registry: what a pull downloads. */
  readonly compressedSizeBytes: pulumi.Output<number>;
  /** Layers unpacked: what the image takes on disk (`docker image inspect .Size`). */
  readonly uncompressedSizeBytes: pulumi.Output<number>;
  /** Size of the binary inside the image. */
  readonly binarySizeBytes: pulumi.Output<number>;
  /** Number of layers in the image. */
  readonly layerCount: pulumi.Output<number>;
  /** Whether the binary needs no ELF interpreter and no shared library (always true once the update succeeds). */
  readonly isStatic: pulumi.Output<boolean>;
  /**
   * One line, e.g. `pausle: 3.7 kB compressed, 13.4 kB on disk, 1 layer, static`; with several platforms one
   * line each, e.g. `pausle (linux/arm64): …`.
   */
  readonly sizeReport: pulumi.Output<string>;
  /** Names of the running replicas: containers `<name>-<generation>-<i>`, or the Kubernetes Deployment. */
  readonly replicaNames: pulumi.Output<string[]>;
  /**
   * Docker replicas: each container's published ports by its name, `{ port, hostIp, hostPort }`, with the
   * host port Docker picked when `publishedPorts` gave none (a new one after each rollout), so nobody needs
   * `docker ps`. Empty without replicas, and for Kubernetes replicas, which publish no host ports: reach
   * those through their Service.
   */
  readonly replicaPorts: pulumi.Output<Record<string, ReplicaPort[]>>;
  /**
   * Digest of the SBOM artifact attached to the image in the registry (`minimal-image sbom <imageRef>` prints
   * it); with several platforms, the first listed platform's (each one's is in `platformImages`). Undefined
   * when `recipe.sbom` is false.
   */
  readonly sbomDigest: pulumi.Output<string | undefined>;
  /** Kubernetes only: the Deployment's namespace. */
  readonly namespace?: pulumi.Output<string>;
  /** Kubernetes only: pods ready as last reported by the Deployment. */
  readonly readyReplicas?: pulumi.Output<number>;

  constructor(name: string, args: MinimalImageArgs, opts: MinimalImageOptions = {}) {
    const { programDir = process.cwd(), ...resourceOpts } = opts;
    // Every plain input is checked before anything is declared, this component included; Outputs are
    // checked when they resolve.
    const plan = planImage(name, args, programDir, scopeName(name, resourceOpts.aliases));
    super("minimal-image:index:MinimalImage", name, {}, resourceOpts);
    const { registry } = plan;
    const published = plan.platforms.map((platform) =>
      this.publishPlatform(name, plan, platform, args, programDir),
    );
    // Several platforms are tied under the tag by an index listing each one's image by digest.
    const index =
      published.length > 1
        ? new MultiPlatformIndex(
            `${name}-index`,
            {
              imageName: plan.imageName,
              manifests: published.map(({ platform, image }) => ({ platform, imageRef: image.repoDigest })),
              username: registry.username,
              password: registry.password,
            },
            { parent: this },
          )
        : undefined;
    const pushed = index ?? published[0].image;
    const pushedRef = index ? index.imageRef : published[0].image.repoDigest;

    // Through the checked image name too, so that a name refused once it resolves fails this output.
    this.imageRef = pulumi.all([plan.imageName, pushedRef]).apply(([, ref]) => ref);
    this.digest = this.imageRef.apply((ref) => ref.slice(ref.indexOf("@") + 1));
    this.tag = pulumi.output(plan.tag);
    this.platformImages = pulumi
      .all(published.map(({ platform, report, sbomDigest }) => pulumi.all([platform, report, sbomDigest])))
      .apply((entries) =>
        Object.fromEntries(
          entries.map(([platform, report, sbomDigest]) => [platform, platformImage(report, sbomDigest)]),
        ),
      );
    const first = published[0].report;
    this.compressedSizeBytes = first.compressedSizeBytes;
    this.uncompressedSizeBytes = first.uncompressedSizeBytes;
    this.binarySizeBytes = first.binarySizeBytes;
    this.layerCount = first.layerCount;
    this.isStatic = first.isStatic;
    this.sbomDigest = published[0].sbomDigest ?? pulumi.output<string | undefined>(undefined);
    this.sizeReport = pulumi
      .all(published.map(({ platform, rendered, report }) => pulumi.all([platform, rendered, report])))
      .apply((entries) =>
        entries
          .map(([platform, r, report]) =>
            formatSizeReport(
              entries.length > 1 ? `${r.recipe.binaryName} (${platform})` : r.recipe.binaryName,
              report,
            ),
          )
          .join("\n"),
      );

    // Replicas run the digest the build resource reports: a registry outage fails only the inspection.
    const replicas = this.createReplicas(name, plan, pushed, pushedRef);
    this.replicaNames = replicas.names;
    this.replicaPorts = replicas.ports;
    this.namespace = replicas.namespace;
    this.readyReplicas = replicas.readyReplicas;

    this.registerOutputs({
      imageRef: this.imageRef,
      digest: this.digest,
      tag: this.tag,
      platformImages: this.platformImages,
      compressedSizeBytes: this.compressedSizeBytes,
      uncompressedSizeBytes: this.uncompressedSizeBytes,
      binarySizeBytes: this.binarySizeBytes,
      layerCount: this.layerCount,
      isStatic: this.isStatic,
      sizeReport: this.sizeReport,
      replicaNames: this.replicaNames,
      replicaPorts: this.replicaPorts,
      sbomDigest: this.sbomDigest,
      ...(this.namespace ? { namespace: this.namespace, readyReplicas: this.readyReplicas } : {}),
    });
  }

  /**
   * Builds and pushes one platform's image and declares its inspection. Everything made per platform is
   * declared here, named `<name>` for one platform and `<name>-<os>-<arch>` with several.
   */
  private publishPlatform(
    name: string,
    plan: ImagePlan,
    target: PlatformPlan,
    args: MinimalImageArgs,
    programDir: string,
  ): PublishedPlatform {
    const { registry } = plan;
    const { rendered, platform } = target;
    const password = registry.password;
    const resourceName = `${name}${target.suffix}`;
    const build = pulumi
      .all([rendered, platform, args.buildArgs, plan.cacheFrom])
      .apply(([r, p, buildArgs, cacheFrom]) =>
        buildInput(r, writeDockerfile(r, dockerfilePath(r), programDir), programDir, {
          platform: p,
          args: buildArgs,
          cacheFrom,
        }),
      );
    const image = new docker.Image(
      resourceName,
      {
        imageName: target.imageName,
        build,
        registry: {
          server: registry.server,
          username: registry.username,
          password: pulumi.secret(password),
        },
      },
      { parent: this },
    );

    // The gates (static binary, on-disk budget) hold in the build itself, before anything is pushed; the
    // inspection reports what was pushed, once per digest, kept in state: an update that pushes nothing new
    // and every preview ask no registry (a preview of a new image leaves the figures unknown).
    const inspection = new ImageInspection(
      `${resourceName}-inspection`,
      { imageRef: image.repoDigest, platform, username: registry.username, password },
      { parent: this },
    );
    const report = pulumi.all([inspection.report, rendered]).apply(([result, r]) => {
      checkReport(result, r);
      return result;
    });

    // The SBOM, made from what the builder stage recorded, lives beside the image in the registry. Its
    // carrier's tag is derived from the component's tag and the platform.
    const sbomDigest = wantsSbom(args.recipe)
      ? declareSbom(
          resourceName,
          {
            recipe: args.recipe,
            build,
            imageName: plan.imageName,
            platform,
            subjectRef: image.repoDigest,
            registry,
          },
          { parent: this, dependsOn: [image] },
        ).sbomDigest
      : undefined;
    return { platform, rendered, image, report, sbomDigest };
  }

  /**
   * Declares the replicas of a validated plan. Docker replicas are named per stack and per image
   * generation, so the same program in two stacks never collides and a new build starts its containers
   * before the old ones are deleted; they join a network of their own unless the options name one.
   * Kubernetes objects are named per stack and component; the Deployment rolls its pods itself. Each
   * waits for the image: a build that fails leaves no network, pull secret or Service behind.
   */
  private createReplicas(
    name: string,
    plan: ImagePlan,
    pushed: pulumi.Resource,
    imageRef: pulumi.Output<string>,
  ): {
    names: pulumi.Output<string[]>;
    ports: pulumi.Output<Record<string, ReplicaPort[]>>;
    namespace?: pulumi.Output<string>;
    readyReplicas?: pulumi.Output<number>;
  } {
    const { replicas: options, registry } = plan;
    if (options === undefined || options.count === 0)
      return { names: pulumi.output([]), ports: pulumi.output<Record<string, ReplicaPort[]>>({}) };
    const parent = { parent: this, dependsOn: [pushed] };
    // Several platforms: Docker leaves the choice to the engine, Kubernetes to node affinity.
    const platform = oneOrAll(plan.platformsNow);
    const credentials =
      typeof registry.username === "string"
        ? {
            server: registry.server as string,
            username: registry.username,
            password: pulumi.secret(registry.password.apply((p) => p ?? "")),
          }
        : undefined;
    if (options.runtime === "docker") {
      const network =
        options.network === undefined
          ? new docker.Network(`${name}-net`, { name: `${plan.objectName}-net`, driver: "bridge" }, parent)
              .name
          : undefined;
      // Pulls go to the engine the user's Docker provider names, with the registry's credentials added.
      const pullProvider =
        credentials &&
        new docker.Provider(
          `${name}-pull`,
          {
            ...dockerEngineSettings(this.getProvider("docker:index:Container")),
            registryAuth: [
              { address: credentials.server, username: credentials.username, password: credentials.password },
            ],
          },
          parent,
        );
      const specs = dockerReplicaSpecs({ name: plan.setName, imageRef, options, platform });
      // A fixed host port cannot be held by two containers: such a replica is replaced in place (the
      // provider deletes before it replaces), a brief gap, instead of starting a new generation beside it.
      const containers = createDockerReplicas(plan.setName, specs, parent, { network, pullProvider });
      return {
        names: pulumi.all(containers.map((container) => container.name)),
        ports: replicaPorts(containers),
      };
    }
    const spec = kubernetesReplicaSpec({
      name: plan.objectName,
      imageRef,
      options,
      platform,
      pullSecretName: credentials && `${plan.objectName}-pull`,
    });
    const created = createKubernetesReplicas(name, spec, parent, credentials);
    return {
      names: created.deploymentName.apply((deployment) => [deployment]),
      ports: pulumi.output<Record<string, ReplicaPort[]>>({}),
      namespace: created.namespace,
      readyReplicas: created.readyReplicas,
    };
  }
}

/** The component's inputs, checked: plain values now, Outputs when they resolve. */
interface ImagePlan {
  registry: RegistryParts;
  /** What is built, one entry per platform, in the order given. */
  platforms: PlatformPlan[];
  /** `<server>/<repository>:<tag>`: the image's name, or with several platforms the index's. */
  imageName: pulumi.Output<string>;
  tag: pulumi.Input<string>;
  /** Images to take build cache from, checked. */
  cacheFrom: pulumi.Output<string[] | undefined>;
  /** The platforms when known at program time (replica resources need them then), else the default. */
  platformsNow: string[];
  replicas?: ReplicaOptions;
  /**
   * `<name>-<8 hex of project, stack and name>`: the Kubernetes objects and the Docker network. Stacks never
   * collide, and aliasing the component keeps the name it aliases.
   */
  objectName: string;
  /**
   * `<name>-<8 hex>` naming the Docker replicas `<setName>-<i>`: the hex names the stack and the image
   * generation (everything that makes the pushed image, and the replica settings but their count), so a new
   * build starts its replicas under new names before the old ones go. With a fixed host port it is
   * {@link objectName}: the replica is replaced in place.
   */
  setName: string;
}

/** One platform's build, checked: plain values now, Outputs when they resolve. */
interface PlatformPlan {
  /** Canonical `os/arch`. */
  platform: pulumi.Output<string>;
  /** The platform when known at program time. */
  now?: string;
  rendered: pulumi.Output<RenderedBuild>;
  /** Where this platform's image is pushed: the tag for one platform, `<tag>-<os>-<arch>` with several. */
  imageName: pulumi.Output<string>;
  /** What its resources' names add to the component's: nothing for one platform, `-<os>-<arch>` with several. */
  suffix: string;
  /** The rendered build when known at program time: Docker replicas are named after it. */
  renderedNow?: RenderedBuild;
}

/** What {@link MinimalImage.publishPlatform} declared for one platform. */
interface PublishedPlatform {
  platform: pulumi.Output<string>;
  rendered: pulumi.Output<RenderedBuild>;
  image: docker.Image;
  report: pulumi.Output<ImageReport>;
  /** Absent when `recipe.sbom` is false. */
  sbomDigest?: pulumi.Output<string>;
}

/** One platform's pushed image, as `platformImages` reports it. */
export interface PlatformImage {
  /** The platform's image by digest, `registry/repo@sha256:…`. */
  imageRef: string;
  /** Its manifest digest, `sha256:…`. */
  digest: string;
  /** Config plus layers as stored in the registry: what a pull of this platform downloads. */
  compressedSizeBytes: number;
  /** Layers unpacked: what the image takes on disk. */
  uncompressedSizeBytes: number;
  /** Size of the platform's binary inside the image. */
  binarySizeBytes: number;
  /** Number of layers in the image. */
  layerCount: number;
  /** Whether the binary needs no ELF interpreter and no shared library. */
  isStatic: boolean;
  /** The digest of the SBOM attached to this platform's image; absent when `recipe.sbom` is false. */
  sbomDigest?: string;
}

/** A platform's entry of `platformImages`: its inspection's figures. */
function platformImage(r: ImageReport, sbomDigest: string | undefined): PlatformImage {
  return {
    ...(sbomDigest === undefined ? {} : { sbomDigest }),
    imageRef: r.imageRef,
    digest: r.digest,
    compressedSizeBytes: r.compressedSizeBytes,
    uncompressedSizeBytes: r.uncompressedSizeBytes,
    binarySizeBytes: r.binarySizeBytes,
    layerCount: r.layerCount,
    isStatic: r.isStatic,
  };
}

/** Short, stable digest of some strings. */
function shortHash(parts: unknown[]): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 8);
}

/** Checks every input that is known now, in the order the fields are documented, before anything is declared. */
function planImage(name: string, args: MinimalImageArgs, programDir: string, scope: string): ImagePlan {
  if (args === undefined || args === null || typeof args !== "object") {
    throw new InputError(
      "args",
      `expected an object, got ${describe(args)}`,
      "Pass at least source, imageName and registry",
    );
  }
  const registry = splitRegistry(args.registry);
  // Only the names of build arguments shape the Dockerfile; their values may still be Outputs.
  const argNames: pulumi.Input<string[]> = isPending(args.buildArgs)
    ? pulumi.output(args.buildArgs).apply((raw) => buildArgNames(raw))
    : buildArgNames(args.buildArgs);
  const fields = platformFields(args);
  const several = fields.length > 1;
  const tag = args.tag ?? "latest";
  const imageName = known([registry.server, args.imageName, tag], ([server, repository, t]) =>
    pushName(server, repository, t),
  );
  const platforms = fields.map(({ input, field }): PlatformPlan => {
    const rendered = known(
      [args.source, args.recipe, argNames, args.maxImageBytes, input] as const,
      ([source, recipe, names, max, platform]) =>
        renderBuild(path.resolve(programDir, String(source ?? "")), recipe, {
          gates: { buildArgNames: names, maxImageBytes: checkBudget(max) },
          keepOut: path.join(programDir, DOCKERFILE_FOLDER),
          platform,
          platformField: field,
        }),
    );
    const platform = known(input, (raw) => validatePlatform(raw, field));
    // With several platforms each is plain (see platformFields), and so is its own tag once the tag is.
    const ownName = several
      ? known([imageName.now ?? imageName.output, tag] as const, ([tagged, t]) =>
          tagged.replace(/:[^:/]+$/, `:${platformTag(t, platform.now!)}`),
        ).output
      : imageName.output;
    return {
      platform: platform.output,
      now: platform.now,
      rendered: rendered.output,
      renderedNow: rendered.now,
      imageName: ownName,
      suffix: several ? `-${platform.now!.split("/").join("-")}` : "",
    };
  });
  const cacheFrom = known(args.cacheFrom, validateCacheFrom);
  const replicas = replicaOptions(args.replicas, registry);
  const stackScope = [pulumi.getProject(), pulumi.getStack(), scope];
  const objectName = `${name}-${shortHash(stackScope)}`;
  let setName = objectName;
  if (replicas !== undefined && replicas.count > 0) {
    // Kubernetes rolls a Deployment's pods itself, and a fixed host port is replaced in place: only other
    // Docker replicas start each image generation under names of its own.
    const generations =
      replicas.runtime === "docker" && !replicas.publishedPorts.some((port) => port.hostPort !== undefined);
    if (generations) {
      requireKnownImage(args, registry);
      // Every input that makes the pushed image is plain here. A new count adds or removes replicas of the
      // same generation; anything else starts a new generation.
      const builds = platforms.map(({ renderedNow: built }) =>
        contextDigest(built!.recipe.sourceDir, built!.contextFiles, built!.dockerfile),
      );
      const generation = [
        oneOrAll(builds),
        args.buildArgs ?? null,
        oneOrAll(platforms.map(({ now }) => now)),
        imageName.now,
        registry.server,
        cacheFrom.now ?? null,
        { ...replicas, count: undefined },
      ];
      setName = `${name}-${shortHash([...stackScope, generation])}`;
    }
    checkReplicaNames(replicas, setName, objectName, registry, oneOrAll(platforms.map(({ now }) => now!)));
  }
  return {
    registry,
    platforms,
    imageName: imageName.output,
    tag,
    cacheFrom: cacheFrom.output,
    platformsNow: platforms.map(({ now }) => now ?? DEFAULT_PLATFORM),
    replicas,
    objectName,
    setName,
  };
}

/**
 * The inputs that make the pushed image name the generation of Docker replicas, so they must be known when
 * the program runs; an Output among them (a secret, or a value from another resource) is refused: Docker
 * replicas cannot start a new generation beside the old one when the next one cannot be named.
 */
function requireKnownImage(args: MinimalImageArgs, registry: RegistryParts): void {
  const fields: [string, unknown][] = [
    ["source", args.source],
    ["recipe", args.recipe],
    ["imageName", args.imageName],
    ["tag", args.tag],
    ["registry.server", registry.server],
    ["platform", args.platform],
    ["platforms", args.platforms],
    ["buildArgs", args.buildArgs],
    ["cacheFrom", args.cacheFrom],
    ["maxImageBytes", args.maxImageBytes],
  ];
  const pending = fields.find(([, value]) => !isPlain(value));
  if (pending !== undefined) {
    throw new InputError(
      pending[0].split("."),
      "is an Output (a secret, or a value from another resource), but replicas are named after the image they run, which must be known when the program runs",
      "Give it as a plain value (e.g. from config), or leave out replicas and run the image from `imageRef` elsewhere",
    );
  }
}

/** A digest that stands in for the pushed one, so the replica specs are checked before anything is declared. */
const STAND_IN_DIGEST = `sha256:${"0".repeat(64)}`;

/**
 * Builds the replica specs once with a stand-in image, so that every name they derive (a Service's, a pull
 * secret's, each container's) is checked before the first registration, not after the image is declared.
 */
function checkReplicaNames(
  options: ReplicaOptions,
  setName: string,
  objectName: string,
  registry: RegistryParts,
  platform: string | string[],
): void {
  const imageRef = `${registry.server}/stand-in@${STAND_IN_DIGEST}`;
  if (options.runtime === "docker") dockerReplicaSpecs({ name: setName, imageRef, options, platform });
  else {
    const pullSecretName = typeof registry.username === "string" ? `${objectName}-pull` : undefined;
    kubernetesReplicaSpec({ name: objectName, imageRef, options, platform, pullSecretName });
  }
}

/** The one entry of a list of one, else the list: one platform names its replicas as it always did. */
function oneOrAll<T>(list: T[]): T | T[] {
  return list.length === 1 ? list[0] : list;
}

/**
 * The platform inputs, each with the field its errors name: `platform` (one, perhaps an Output, perhaps
 * absent for the default) or `platforms`. A list of one is that one platform. With several, each names its
 * resources and its tag, so the list and its entries must be plain; each is checked and listed once only.
 */
function platformFields(
  args: MinimalImageArgs,
): { input: pulumi.Input<string> | undefined; field: FieldPath }[] {
  const { platform, platforms } = args;
  if (platforms === undefined || platforms === null) return [{ input: platform, field: ["platform"] }];
  if (platform !== undefined && platform !== null) {
    throw new InputError(
      "platforms",
      "is given together with `platform`",
      "Give `platform` for one platform or `platforms` for several, not both",
    );
  }
  const fix = 'Give a plain list such as `["linux/amd64", "linux/arm64"]`';
  if (isPending(platforms)) {
    throw new InputError(
      "platforms",
      "is an Output, but one image is built per platform, so the list must be known when the program runs",
      fix,
    );
  }
  if (!Array.isArray(platforms) || platforms.length === 0) {
    throw new InputError(
      "platforms",
      `expected a list of one or more platforms, got ${describe(platforms)}`,
      fix,
    );
  }
  if (platforms.length === 1) return [{ input: platforms[0], field: ["platforms", 0] }];
  const pending = platforms.findIndex((entry) => !isPlain(entry));
  if (pending >= 0) {
    throw new InputError(
      ["platforms", pending],
      "is an Output, but with several platforms each names its image's resources and tag, so it must be known when the program runs",
      "Give it as a plain value (e.g. from config)",
    );
  }
  const checked = validatePlatformList(platforms);
  checked.forEach((value, i) => resolveTarget(value, ["platforms", i]));
  return checked.map((value, i) => ({ input: value, field: ["platforms", i] }));
}

/**
 * The name the component's children are scoped by: its own, or the name of its first alias, so that an
 * alias (a rename) keeps every child's name and nothing is replaced.
 */
function scopeName(name: string, aliases: pulumi.ComponentResourceOptions["aliases"]): string {
  const first = aliases?.[0];
  if (typeof first === "string") return first.slice(first.lastIndexOf("::") + 2) || name;
  if (first !== undefined && !pulumi.Output.isInstance(first)) {
    const aliasName = (first as pulumi.Alias).name;
    if (typeof aliasName === "string") return aliasName;
  }
  return name;
}

/**
 * The engine settings of the user's Docker provider (host, context, TLS material), for a provider the
 * component makes to pull with credentials: an explicit `docker.Provider` among the component's providers,
 * else the stack's `docker:` configuration, as the default provider reads it.
 */
function dockerEngineSettings(provider: pulumi.ProviderResource | undefined): docker.ProviderArgs {
  if (provider instanceof docker.Provider) {
    return {
      host: provider.host,
      context: provider.context,
      certPath: provider.certPath,
      caMaterial: provider.caMaterial,
      certMaterial: provider.certMaterial,
      keyMaterial: provider.keyMaterial,
    };
  }
  const config = new pulumi.Config("docker");
  const sshOpts = config.getObject<string[]>("sshOpts");
  return {
    host: config.get("host"),
    context: config.get("context"),
    certPath: config.get("certPath"),
    caMaterial: config.get("caMaterial"),
    certMaterial: config.get("certMaterial"),
    keyMaterial: config.getSecret("keyMaterial"),
    ...(sshOpts ? { sshOpts } : {}),
  };
}

/**
 * Replica resources must exist at program time (Pulumi cannot create resources inside an apply), so the
 * replica options, and for a Kubernetes pull secret the registry's server and username, must be plain
 * values; the image reference and the password flow in as Outputs.
 */
function replicaOptions(
  raw: MinimalImageArgs["replicas"],
  registry: RegistryParts,
): ReplicaOptions | undefined {
  if (raw === undefined) return undefined;
  if (!isPlain(raw)) {
    throw new InputError(
      "replicas",
      "must be a plain value, not an Output",
      "Resolve the replica options in the program, e.g. from config",
    );
  }
  const options = validateReplicaOptions(raw);
  if (options.count > 0 && (typeof registry.server !== "string" || isPending(registry.username))) {
    throw new InputError(
      "registry",
      "must be a plain object when replicas run (its password may be an Output)",
      "Give server and username as plain strings, so the pull credentials can be declared",
    );
  }
  return options;
}

/** A registry's parts; server and user name are plain strings whenever the registry was given as a plain object. */
interface RegistryParts {
  server: pulumi.Input<string>;
  username: pulumi.Input<string | undefined>;
  password: pulumi.Output<string | undefined>;
}

/**
 * Splits the registry so that only the password is secret: the server and user name stay readable in the
 * image name and the state wherever the registry is given as a plain object. Only the password's presence
 * is validated, so a plain registry is checked now even when its password is a secret Output.
 */
function splitRegistry(input: MinimalImageArgs["registry"]): RegistryParts {
  if (isKnownBesidesPassword(input)) {
    const registry = validateRegistry(input);
    return {
      server: registry.server,
      username: registry.username,
      password: pulumi.output(registry.password),
    };
  }
  // Inside an apply the password is resolved already; pulumi.output types it so.
  const registry = pulumi.output(input).apply((raw) => pulumi.output(validateRegistry(raw)));
  return {
    server: registry.server,
    username: registry.apply((r) => r.username),
    password: registry.apply((r) => r.password),
  };
}

/**
 * True when a registry holds no Output except perhaps its password. Another language's program may send a
 * plain object whose server is an Output; that registry is checked once it resolves, like an Output one.
 */
function isKnownBesidesPassword(input: unknown): boolean {
  if (isPending(input)) return false;
  if (typeof input !== "object" || input === null) return true;
  return Object.entries(input).every(([key, value]) => key === "password" || isPlain(value));
}

/**
 * Computes from an input now when it holds no Output (so bad input throws before anything is declared),
 * otherwise when it resolves. `now` is the value when it was computed at once.
 */
function known<T, R>(
  input: T,
  compute: (value: pulumi.Unwrap<T>) => R,
): { now?: R; output: pulumi.Output<pulumi.Unwrap<R>> } {
  if (isPlain(input)) {
    const now = compute(input as pulumi.Unwrap<T>);
    return { now, output: pulumi.output(now) };
  }
  return { output: pulumi.output(input).apply((value) => pulumi.output(compute(value))) };
}

/** True for a value not known yet at program time. */
function isPending(value: unknown): boolean {
  return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/** True when a value holds no Output or Promise at any depth, so it can be validated right away. */
function isPlain(value: unknown): boolean {
  if (isPending(value)) return false;
  // A resource holds Outputs of its own: it is not looked into, so that validation can say where it belongs.
  if (pulumi.Resource.isInstance(value)) return true;
  if (Array.isArray(value)) return value.every(isPlain);
  if (typeof value === "object" && value !== null) return Object.values(value).every(isPlain);
  return true;
}

function checkBudget(budget: unknown): number | undefined {
  if (budget === undefined) return undefined;
  if (typeof budget !== "number" || !Number.isSafeInteger(budget) || budget <= 0) {
    throw new InputError(
      "maxImageBytes",
      `expected a positive whole number of bytes, got ${describe(budget)}`,
      "Give e.g. 16000, or leave it out for no budget",
    );
  }
  return budget;
}

/** Fails the update when what was pushed is not what minimal-image promises (the build checked it first). */
function checkReport(report: ImageReport, rendered: RenderedBuild): void {
  if (!report.isStatic) {
    throw new Error(
      `minimal-image: ${report.imageRef}: ${report.binaryPath} is not static` +
        (report.interpreter ? ` (ELF interpreter ${report.interpreter})` : "") +
        (report.neededLibraries.length ? `, needs ${report.neededLibraries.join(", ")}` : "") +
        `. Check the ${rendered.recipe.toolchain} recipe's flags or your build command.`,
    );
  }
}
