/**
 * Inspection of every platform of a multi-platform image: the index's platform images, each inspected by
 * digest for its own platform, so each report's static check and ELF machine check are that platform's.
 */
import {
  checkCredentials,
  type ImageReport,
  inspectImage,
  InspectError,
  type InspectOptions,
  registryClient,
} from "./inspect";
import { formatPlatform } from "../platform";
import { parseImageReference } from "../reference";
import { InputError } from "../validation";

/** Real indexes list a handful of platforms; each costs a full inspection, so a longer list is refused. */
export const DEFAULT_MAX_PLATFORMS = 16;

export interface PlatformsOptions extends InspectOptions {
  /** Most platform images an index may list to be inspected whole. Default {@link DEFAULT_MAX_PLATFORMS}. */
  maxPlatforms?: number;
}

/** One platform's image of an index. */
export interface PlatformImageReport extends ImageReport {
  /** As the index lists it, e.g. `linux/arm64`. */
  platform: string;
}

/** What a multi-platform image weighs, platform by platform. */
export interface IndexReport {
  /** The reference as given. */
  reference: string;
  registry: string;
  repository: string;
  /** sha256 of the index's bytes. */
  digest: string;
  /** `<registry>/<repository>@<digest>` of the index. */
  imageRef: string;
  /** One report per platform image, in the index's order; attestations are left out. */
  platforms: PlatformImageReport[];
}

/** True for the report of an index, false for that of a single-platform image. */
export function isIndexReport(report: ImageReport | IndexReport): report is IndexReport {
  return "platforms" in report;
}

/**
 * Inspects what `reference` names: an index, every platform image it lists (each by digest, checked for its
 * platform: a binary whose ELF machine is not the platform's fails); a single-platform image, as
 * {@link inspectImage} does. With `options.platform`, that platform's image alone, as {@link inspectImage}.
 * Each platform's inspection has the bounds of `options`, its deadline included.
 * @throws as {@link inspectImage}; InspectError for an index listing no platform image or more than
 *   `maxPlatforms`.
 */
export async function inspectPlatforms(
  reference: string,
  options: PlatformsOptions = {},
): Promise<ImageReport | IndexReport> {
  const { maxPlatforms = DEFAULT_MAX_PLATFORMS, ...inspectOptions } = options;
  if (options.platform !== undefined) return inspectImage(reference, inspectOptions);
  const names = { reference: "reference", platform: "platform", ...options.inputNames };
  const ref = parseImageReference(reference, names.reference);
  if (!Number.isSafeInteger(maxPlatforms) || maxPlatforms < 1) {
    throw new InputError(
      "maxPlatforms",
      `${String(maxPlatforms)} is not a whole number ≥ 1`,
      "Give one, or leave it unset for 16.",
    );
  }
  checkCredentials(options);
  const client = registryClient(ref.registry, inspectOptions);
  const listed = await client.listPlatforms(ref.repository, ref.digest ?? ref.tag ?? "latest");
  if (listed.images === undefined) return inspectImage(reference, inspectOptions);
  const imageRef = `${ref.registry}/${ref.repository}@${listed.digest}`;
  if (listed.images.length === 0) {
    throw new InspectError(
      imageRef,
      "is an index that lists no platform image",
      "Push an image for each platform",
    );
  }
  if (listed.images.length > maxPlatforms) {
    throw new InspectError(
      imageRef,
      `is an index of ${listed.images.length} platform images, more than maxPlatforms = ${maxPlatforms}`,
      `Pick one with ${names.platform}, or raise maxPlatforms`,
    );
  }
  const platforms: PlatformImageReport[] = [];
  for (const image of listed.images) {
    const platform = formatPlatform(image.platform);
    const report = await inspectImage(`${ref.registry}/${ref.repository}@${image.digest}`, {
      ...inspectOptions,
      platform,
    });
    platforms.push({ platform, ...report });
  }
  return {
    reference,
    registry: ref.registry,
    repository: ref.repository,
    digest: listed.digest,
    imageRef,
    platforms,
  };
}
