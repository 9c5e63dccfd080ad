import { parseImageReference } from "../../components/reference";
import { engineError } from "../engine/engine-error";
import { onlyKnownKeys, ResourceKind } from "./kind";
import { sameValue } from "./state";

const REMOTE_IMAGE_KEYS = ["name", "keepLocally", "platform", "pullTriggers", "forceRemove"];

/** Credentials for a registry host from a Docker provider's `registryAuth` list, as the provider picks them. */
export function registryAuthFor(
  providerInputs: Record<string, unknown> | undefined,
  registry: string,
): { username: string; password: string; serveraddress: string } | undefined {
  // @pulumi/docker's Provider sends `registryAuth` JSON-encoded (`.apply(JSON.stringify)`), as Pulumi sends
  // every non-string provider input; a list is accepted too.
  let raw: unknown = providerInputs?.registryAuth ?? [];
  if (typeof raw === "string") {
    try {
      raw = JSON.parse(raw);
    } catch {
      throw new Error(
        "minimal-image: the Docker provider's registryAuth is not JSON. Give a list of entries",
      );
    }
  }
  if (!Array.isArray(raw)) {
    throw new Error(
      "minimal-image: the Docker provider's registryAuth is not a list. Give a list of entries",
    );
  }
  const entries = raw as ({ address?: unknown; username?: unknown; password?: unknown } | null)[];
  const entry = entries.find(
    (candidate) =>
      typeof candidate?.address === "string" && candidate.address.replace(/^https?:\/\//, "") === registry,
  );
  if (typeof entry?.username !== "string" || typeof entry.password !== "string") return undefined;
  return { username: entry.username, password: entry.password, serveraddress: registry };
}

/**
 * `docker.RemoteImage` (the bridged `docker_image`): pull `name` for `platform` with the provider's
 * registry credentials for its host; `imageId` is the engine's image ID. Every input forces a new pull
 * (replacement); on delete the pulled name is removed unless `keepLocally`.
 */
export const dockerRemoteImage: ResourceKind = {
  updatesInPlace: false,
  deleteBeforeReplace: false,
  computed: ["imageId", "repoDigest"],

  async check({ inputs }) {
    onlyKnownKeys("docker.RemoteImage", inputs, REMOTE_IMAGE_KEYS);
    if (typeof inputs.name !== "string")
      throw new Error("local executor: docker.RemoteImage name is required");
    return inputs;
  },

  unchanged: sameValue,

  async create({ provider }, checked, { docker, providerInputs, progress }) {
    const name = checked.name as string;
    const platform = checked.platform as string | undefined;
    const auth = registryAuthFor(providerInputs(provider), parseImageReference(name, "name").registry);
    progress(`pulling ${name}${platform ? ` for ${platform}` : ""}`);
    try {
      const stream = await docker.pull(name, { platform, ...(auth ? { authconfig: auth } : {}) });
      await new Promise<void>((resolve, reject) =>
        docker.modem.followProgress(stream, (error: Error | null, events: { error?: string }[]) => {
          const failure = error ?? events.find((event) => event.error)?.error;
          if (failure) reject(failure instanceof Error ? failure : new Error(failure));
          else resolve();
        }),
      );
    } catch (error) {
      throw engineError(`pulling ${name}`, error);
    }
    const image = await docker.getImage(name).inspect();
    if (platform && `${image.Os}/${image.Architecture}` !== platform.split("/").slice(0, 2).join("/")) {
      throw new Error(`local executor: pulled ${name} is ${image.Os}/${image.Architecture}, not ${platform}`);
    }
    const repoDigest = image.RepoDigests.find(
      (digest) => name.includes("@") && name.endsWith(digest.split("@")[1]),
    );
    return {
      id: `${image.Id}${name}`,
      outputs: { ...checked, imageId: image.Id, repoDigest: repoDigest ?? image.RepoDigests[0] ?? "" },
    };
  },

  // As the provider: the reference it pulled is removed by name, which only untags it while other names
  // still point at the image; an image already gone is not an error, a refused removal is.
  async remove(_id, outputs, { docker }) {
    if (outputs.keepLocally === true) return;
    const name = outputs.name as string;
    try {
      await docker.getImage(name).remove({ force: outputs.forceRemove === true });
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode !== 404) throw engineError(`removing ${name}`, error);
    }
  },
};
