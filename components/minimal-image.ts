import * as docker from "@pulumi/docker";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { renderBuild, RenderedBuild } from "./build";
import {
  createDockerReplicas,
  createKubernetesReplicas,
  dockerReplicaSpecs,
  kubernetesReplicaSpec,
  ReplicaOptions,
  ReplicaOptionsInput,
  validateReplicaOptions,
} from "./deploy";
import { InputError } from "./errors";
import { formatSizeReport, ImageReport, inspectImage, InspectOptions } from "./inspect";
import { buildInput, pushName, RegistryInput, validateRegistry, writeDockerfile } from "./publish";
import { validateCacheFrom } from "./publish/image-args";
import { RecipeOptions } from "./recipe";
import { describe } from "./reference";

/** Inputs of {@link MinimalImage}. */
export interface MinimalImageArgs {
  /** The program's source folder: the build context. Relative paths resolve against the program's folder. */
  source: pulumi.Input<string>;
  /** How to build it; every field has a default (see {@link RecipeOptions}). */
  recipe?: pulumi.Input<RecipeOptions>;
  /** Repository inside the registry, e.g. `pausle` or `team/pausle` (no registry host, no tag). */
  imageName: pulumi.Input<string>;
  /** Tag pushed with the image. Default `latest`. Everything that runs the image uses its digest instead. */
  tag?: pulumi.Input<string>;
  /** Where to push. The password is made a secret if it is not one already. */
  registry: pulumi.Input<RegistryInput<pulumi.Input<string>>>;
  /** Target platform, e.g. `linux/amd64`. Default: the provider's own. */
  platform?: pulumi.Input<string>;
  /** Build arguments passed to `docker build`. */
  buildArgs?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /**
   * Images to take build cache from, e.g. the last image CI pushed: an unchanged program is then not
   * compiled again on a fresh machine. Given this, the pushed image carries BuildKit's inline cache too.
   */
  cacheFrom?: pulumi.Input<pulumi.Input<string>[]>;
  /**
   * Size budget in bytes for the image on disk (uncompressed). An image over it fails the update with the
   * figure, before any replica runs it.
   */
  maxImageBytes?: pulumi.Input<number>;
  /**
   * Replicas to run from the pushed digest, locally with Docker (the default runtime) or on Kubernetes.
   * Absent or `count: 0`: build and publish only. A plain value (not an Output), because the replica
   * resources are declared when the program runs.
   */
  replicas?: ReplicaOptionsInput;
}

/** Seams for tests and unusual registries; ordinary programs pass none of these. */
export interface MinimalImageOptions extends pulumi.ComponentResourceOptions {
  /** Inspects the pushed image. Default: {@link inspectImage} over the OCI distribution API. */
  inspect?: (imageRef: string, options: InspectOptions) => Promise<ImageReport>;
  /** Folder the Dockerfile is written under and paths are made relative to. Default: `process.cwd()`. */
  programDir?: string;
}

/**
 * Compiles a program into a fully static binary, ships it alone in a `FROM scratch` image, pushes it,
 * checks what was pushed (static, within budget), reports its size, and optionally runs replicas of it by
 * digest, locally with Docker or on Kubernetes.
 */
export class MinimalImage extends pulumi.ComponentResource {
  /** The pushed image by digest, `registry/repo@sha256:…`: what replicas run. */
  readonly imageRef: pulumi.Output<string>;
  readonly digest: pulumi.Output<string>;
  readonly tag: pulumi.Output<string>;
  /** Config plus layers as stored in the registry: what a pull downloads. */
  readonly compressedSizeBytes: pulumi.Output<number>;
  /** Layers unpacked: what the image takes on disk (`docker image inspect .Size`). */
  readonly uncompressedSizeBytes: pulumi.Output<number>;
  readonly binarySizeBytes: pulumi.Output<number>;
  readonly layerCount: pulumi.Output<number>;
  readonly isStatic: pulumi.Output<boolean>;
  /** One line, e.g. `pausle: 3.7 kB compressed, 13.4 kB on disk, 1 layer, static`. */
  readonly sizeReport: pulumi.Output<string>;
  /** Names of the running replicas: containers `<name>-<i>`, or the Kubernetes Deployment. */
  readonly replicaNames: pulumi.Output<string[]>;
  /** Kubernetes only: the Deployment's namespace and ready pods. */
  readonly namespace?: pulumi.Output<string>;
  readonly readyReplicas?: pulumi.Output<number>;

  constructor(name: string, args: MinimalImageArgs, opts: MinimalImageOptions = {}) {
    const { inspect = inspectImage, programDir = process.cwd(), ...resourceOpts } = opts;
    super("minimal-image:index:MinimalImage", name, {}, resourceOpts);
    if (args === undefined || args === null || typeof args !== "object") {
      throw new InputError(
        "args",
        `expected an object, got ${describe(args)}`,
        "Pass at least source, imageName and registry",
      );
    }
    // Each value is checked as soon as it is known: plain inputs now, so a typo fails before anything is
    // declared; Outputs when they resolve.
    const registry = splitRegistry(args.registry);
    const password = registry.password;
    const rendered = nowOrLater([args.source, args.recipe], ([source, recipe]) =>
      renderBuild(path.resolve(programDir, String(source ?? "")), recipe),
    );
    const tag = args.tag ?? "latest";
    const imageName = nowOrLater([registry.server, args.imageName, tag], ([server, repository, t]) =>
      pushName(server, repository, t),
    );
    const budget = nowOrLater(args.maxImageBytes, checkBudget);
    const cacheFrom = nowOrLater(args.cacheFrom, validateCacheFrom);
    const build = pulumi
      .all([rendered, args.platform, args.buildArgs, cacheFrom])
      .apply(([r, platform, buildArgs, images]) =>
        buildInput(r, writeDockerfile(r, name, programDir), programDir, {
          platform,
          args: buildArgs,
          cacheFrom: images,
        }),
      );

    const image = new docker.Image(
      name,
      {
        imageName,
        build,
        registry: {
          server: registry.server,
          username: registry.username,
          password: pulumi.secret(password),
        },
      },
      { parent: this },
    );

    // The password is secret, so anything computed with it is too; the report holds none of it, hence unsecret.
    const report = pulumi.unsecret(
      pulumi
        .all([image.repoDigest, registry.username, password, args.platform, budget, rendered])
        .apply(async ([repoDigest, username, pass, platform, limit, r]) => {
          const result = await inspect(repoDigest, { username, password: pass, platform });
          checkReport(result, r, limit);
          return result;
        }),
    );

    this.imageRef = report.imageRef;
    this.digest = report.digest;
    this.tag = pulumi.output(tag);
    this.compressedSizeBytes = report.compressedSizeBytes;
    this.uncompressedSizeBytes = report.uncompressedSizeBytes;
    this.binarySizeBytes = report.binarySizeBytes;
    this.layerCount = report.layerCount;
    this.isStatic = report.isStatic;
    this.sizeReport = pulumi
      .all([rendered, report])
      .apply(([r, rep]) => formatSizeReport(r.recipe.binaryName, rep));

    const replicas = this.createReplicas(name, args.replicas, report.imageRef, registry);
    this.replicaNames = replicas.names;
    this.namespace = replicas.namespace;
    this.readyReplicas = replicas.readyReplicas;

    this.registerOutputs({
      imageRef: this.imageRef,
      digest: this.digest,
      tag: this.tag,
      compressedSizeBytes: this.compressedSizeBytes,
      uncompressedSizeBytes: this.uncompressedSizeBytes,
      binarySizeBytes: this.binarySizeBytes,
      layerCount: this.layerCount,
      isStatic: this.isStatic,
      sizeReport: this.sizeReport,
      replicaNames: this.replicaNames,
      ...(this.namespace ? { namespace: this.namespace, readyReplicas: this.readyReplicas } : {}),
    });
  }

  /**
   * Replica resources must exist at program time (Pulumi cannot create resources inside an apply), so the
   * replica options, and for a Kubernetes pull secret the registry's server and username, must be plain
   * values; the image reference and the password flow in as Outputs.
   */
  private createReplicas(
    name: string,
    raw: MinimalImageArgs["replicas"],
    imageRef: pulumi.Output<string>,
    registry: RegistryParts,
  ): {
    names: pulumi.Output<string[]>;
    namespace?: pulumi.Output<string>;
    readyReplicas?: pulumi.Output<number>;
  } {
    if (raw === undefined) return { names: pulumi.output([]) };
    if (!isPlain(raw)) {
      throw new InputError(
        "replicas",
        "must be a plain value, not an Output",
        "Resolve the replica options in the program, e.g. from config",
      );
    }
    const options: ReplicaOptions = validateReplicaOptions(raw);
    if (options.count === 0) return { names: pulumi.output([]) };
    if (options.runtime === "docker") {
      const containers = createDockerReplicas(name, dockerReplicaSpecs({ name, imageRef, options }), {
        parent: this,
      });
      return { names: pulumi.all(containers.map((container) => container.name)) };
    }
    const { server, username } = registry;
    if (typeof server !== "string" || isPending(username)) {
      throw new InputError(
        "registry",
        "must be a plain object when replicas run on Kubernetes (its password may be an Output)",
        "Give server and username as plain strings, so the image-pull secret can be declared",
      );
    }
    const credentials =
      username === undefined
        ? undefined
        : {
            server,
            username: username as string,
            password: pulumi.secret(registry.password.apply((p) => p ?? "")),
          };
    const spec = kubernetesReplicaSpec({
      name,
      imageRef,
      options,
      pullSecretName: credentials && `${name}-pull`,
    });
    const created = createKubernetesReplicas(name, spec, { parent: this }, credentials);
    return {
      names: created.deploymentName.apply((deployment) => [deployment]),
      namespace: created.namespace,
      readyReplicas: created.readyReplicas,
    };
  }
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
  if (!isPending(input)) {
    const registry = validateRegistry<pulumi.Input<string>>(input);
    return {
      server: registry.server,
      username: registry.username,
      password: pulumi.output(registry.password),
    };
  }
  const registry = pulumi.output(input).apply((raw) => validateRegistry<string>(raw));
  return {
    server: registry.server,
    username: registry.apply((r) => r.username),
    password: registry.apply((r) => r.password),
  };
}

/**
 * Computes from an input now when it holds no Output (so bad input throws before anything is declared),
 * otherwise when it resolves.
 */
function nowOrLater<T, R>(
  input: T,
  compute: (value: pulumi.Unwrap<T>) => R,
): pulumi.Output<pulumi.Unwrap<R>> {
  if (isPlain(input)) return pulumi.output(compute(input as pulumi.Unwrap<T>));
  return pulumi.output(input).apply((value) => pulumi.output(compute(value)));
}

/** True for a value not known yet at program time. */
function isPending(value: unknown): boolean {
  return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/** True when a value holds no Output or Promise at any depth, so it can be validated right away. */
function isPlain(value: unknown): boolean {
  if (isPending(value)) return false;
  // A resource (such as a Kubernetes provider) is passed through as it is, never looked into.
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

/** Fails the update when what was pushed is not what minimal-image promises. */
function checkReport(report: ImageReport, rendered: RenderedBuild, limit: number | undefined): void {
  if (!report.isStatic) {
    throw new Error(
      `minimal-image: ${report.imageRef}: ${report.binaryPath} is not static` +
        (report.interpreter ? ` (ELF interpreter ${report.interpreter})` : "") +
        (report.neededLibraries.length ? `, needs ${report.neededLibraries.join(", ")}` : "") +
        `. Nothing will run it. Check the ${rendered.recipe.toolchain} recipe's flags or your build command.`,
    );
  }
  if (limit !== undefined && report.uncompressedSizeBytes > limit) {
    throw new Error(
      `minimal-image: ${report.imageRef} is ${report.uncompressedSizeBytes} bytes on disk, over maxImageBytes ` +
        `(${limit}). Nothing will run it. Drop extras, trim the program, or raise the budget.`,
    );
  }
}
