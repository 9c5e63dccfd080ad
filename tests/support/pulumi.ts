import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { ImageReport } from "../../components/inspect";
import { imageReport } from "./report";

/** The value of an Output, or its failure: Outputs have no public way to observe a failure. */
export function settle<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

/** True when a mock received `value` wrapped as a secret. */
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/**
 * Resolves after any resource registration already started has had time to reach the mocks: registration
 * is asynchronous (inputs are serialized over several turns of the event loop), so counting registrations
 * right after a constructor returns would count too early and pass whatever the code declared.
 * (The runtime's own RPC queue cannot be awaited here: a constructor that threw leaves its component's
 * registration pending for good.)
 */
export function registrationsSettled(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 200));
}

/** A resource registration as the mocks saw it. */
export interface Declared {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  provider?: string;
}

/** The image ID the mocked RemoteImage reports, as the engine would for the pulled digest. */
export const MOCK_IMAGE_ID = `sha256:${"cd".repeat(32)}`;

/** The type token of the component's recorded inspection (a dynamic resource). */
export const INSPECTION_TYPE = "pulumi-nodejs:dynamic/minimal-image:ImageInspection";

/** The type token of the image index a multi-platform component pushes (a dynamic resource). */
export const INDEX_TYPE = "pulumi-nodejs:dynamic/minimal-image:MultiPlatformIndex";

/** The index digest the mocked MultiPlatformIndex reports in an update. */
export const MOCK_INDEX_DIGEST = `sha256:${"1d".repeat(32)}`;

/** What the mocked inspection provider is asked: the pushed digest, and the credentials it would use. */
export interface InspectionRequest {
  imageRef: string;
  platform: string;
  username?: string;
  password?: string;
}

/**
 * A dynamic resource's provider, loaded from the text Pulumi serialized into its `__provider` input, as
 * Pulumi's dynamic provider host loads it (`require-from-string`, a dependency of @pulumi/pulumi).
 */
export function serializedProvider(inputs: Record<string, unknown>): {
  create(inputs: object): Promise<{ id: string; outs: Record<string, unknown> }>;
  diff(id: string, olds: object, news: object): Promise<{ changes?: boolean; replaces?: string[] }>;
} {
  const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the package the dynamic provider host uses
  const requireFromString = require(require.resolve("require-from-string", { paths: [pulumiDir] }));
  return requireFromString(String(inputs.__provider)).handler();
}

/** A secret as the mocks receive it, unwrapped. */
function revealed(value: unknown): unknown {
  return isSecretInput(value) ? (value as { value: unknown }).value : value;
}

/** The first host port the mocked engine picks for a published port given none (Docker's range starts here). */
export const MOCK_PICKED_PORT = 32768;

/**
 * Mocks that hand every registration to `record` and answer as the providers would: a `docker.Image` with
 * the `repoDigest` of its name at `digest`, a `docker.RemoteImage` with {@link MOCK_IMAGE_ID}, a
 * `docker.Container` with its ports read back, each published port without a host port given the next one
 * from {@link MOCK_PICKED_PORT}, the recorded inspection with the report `inspect` gives (default: a
 * static pausle's), and an update's image index at {@link MOCK_INDEX_DIGEST} (unknown in a preview, as its
 * provider creates nothing then).
 */
export function setRecordingMocks(
  record: (resource: Declared) => void,
  options: {
    digest: string;
    preview?: boolean;
    /** The stack the program runs in. Default `stack`. */
    stack?: string;
    /** The report, or `"provider"` to run the serialized provider itself (an update only, as the engine does). */
    inspect?: ((request: InspectionRequest) => ImageReport | Promise<ImageReport>) | "provider";
  },
): Promise<void> {
  let picked = MOCK_PICKED_PORT;
  return pulumi.runtime.setMocks(
    {
      async newResource(args) {
        record({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        const state = { ...args.inputs };
        if (args.type === "docker:index/image:Image") {
          state.repoDigest = `${String(args.inputs.imageName).replace(/:[^:/]+$/, "")}@${options.digest}`;
        }
        if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = MOCK_IMAGE_ID;
        if (args.type === INSPECTION_TYPE) {
          const request = {
            imageRef: String(args.inputs.imageRef),
            platform: String(args.inputs.platform),
            username: args.inputs.username as string | undefined,
            password: revealed(args.inputs.password) as string | undefined,
          };
          if (options.inspect === "provider") {
            // What the engine does in an update: Create of the provider Pulumi serialized.
            if (!options.preview)
              Object.assign(state, (await serializedProvider(args.inputs).create(request)).outs);
          } else state.report = await (options.inspect?.(request) ?? imageReport());
        }
        if (args.type === INDEX_TYPE && !options.preview) {
          const repository = String(args.inputs.imageName).replace(/:[^:/]+$/, "");
          Object.assign(state, { imageRef: `${repository}@${MOCK_INDEX_DIGEST}`, digest: MOCK_INDEX_DIGEST });
        }
        if (args.type === "docker:index/container:Container" && Array.isArray(args.inputs.ports)) {
          state.ports = (args.inputs.ports as { external?: number }[]).map((port) => ({
            ...port,
            external: port.external ?? picked++,
          }));
        }
        return { id: `${args.name}-id`, state };
      },
      call: (args) => args.inputs,
    },
    "project",
    options.stack ?? "stack",
    options.preview ?? false,
  );
}
