/**
 * Pushes the OCI image index of a multi-platform image: each platform's pushed manifest is read back by
 * digest (its media type and size go into the index), and the index is written under the tag. Loaded by
 * the MultiPlatformIndex provider where it runs, so it holds the network side apart from the resource.
 */
import { dockerConfigCredentials, type ImageIndex, RegistryClient, RegistryError } from "../oci";
import { parsePlatform, type Platform, platformMatches } from "../platform";
import { parseImageReference } from "../reference";
import { isObject } from "../validation";
import { imageIndexBytes, IndexEntry, OCI_INDEX_MEDIA_TYPE } from "./image-index";

/** What the index is made of and where it goes. */
export interface PushIndexRequest {
  /** `<registry>/<repository>:<tag>`: where the index is pushed. */
  imageName: string;
  /** Each platform's pushed image by digest, `<registry>/<repository>@sha256:…`, in the index's order. */
  manifests: { platform: string; imageRef: string }[];
  /** Credentials; without a username, those of `docker login`, as the provider's push uses them. */
  username?: string;
  password?: string;
  /** The Docker client configuration consulted when no username is given. Default: the client's own. */
  dockerConfig?: string;
}

/** The pushed index. */
export interface PushedIndex {
  /** `<registry>/<repository>@sha256:…` of the index. */
  imageRef: string;
  /** The index's digest. */
  digest: string;
}

/** Builds the index of `request.manifests` and pushes it under `request.imageName`'s tag. */
export async function pushImageIndex(request: PushIndexRequest): Promise<PushedIndex> {
  const target = parseImageReference(request.imageName, "imageName");
  const credentials =
    request.username === undefined
      ? dockerConfigCredentials(target.registry, request.dockerConfig)
      : { username: request.username, password: request.password ?? "" };
  const client = new RegistryClient(target.registry, { ...credentials });
  const entries: IndexEntry[] = [];
  for (const { platform, imageRef } of request.manifests) {
    const pushed = parseImageReference(imageRef, "imageRef");
    if (
      pushed.registry !== target.registry ||
      pushed.repository !== target.repository ||
      pushed.digest === undefined
    ) {
      throw new Error(
        `minimal-image: ${platform}'s image ${imageRef} is not pinned by digest in ${target.registry}/${target.repository}, where the index goes`,
      );
    }
    entries.push(await platformEntry(client, target.repository, pushed.digest, platform));
  }
  const bytes = imageIndexBytes(entries);
  const digest = await client.putManifest(
    target.repository,
    target.tag ?? "latest",
    bytes,
    OCI_INDEX_MEDIA_TYPE,
  );
  return { imageRef: `${target.registry}/${target.repository}@${digest}`, digest };
}

/**
 * The index entry of one platform's pushed image. An engine that stores images in containerd may push an
 * index of its own (with attestations) even for one platform: its entry for the platform is taken then.
 */
async function platformEntry(
  client: RegistryClient,
  repository: string,
  digest: string,
  platform: string,
): Promise<IndexEntry> {
  const manifest = await client.fetchManifest(repository, digest);
  const listed = (manifest.json as Partial<ImageIndex>).manifests;
  if (!Array.isArray(listed)) {
    return { platform, digest: manifest.digest, mediaType: manifest.mediaType, size: manifest.size };
  }
  const want = parsePlatform(platform);
  // The registry's entries are checked where the index is written (digest, size) and here (platform).
  const match = listed.find(
    (entry) =>
      isObject(entry) &&
      isObject(entry.platform) &&
      typeof entry.mediaType === "string" &&
      platformMatches(entry.platform as unknown as Platform, want),
  );
  if (match === undefined) {
    throw new RegistryError(
      client.registry,
      `${repository}@${digest}, pushed for ${platform}, lists no image for ${platform}`,
      "Check that the build ran for that platform, then run the update again",
    );
  }
  return { platform, digest: match.digest, mediaType: match.mediaType, size: match.size };
}
