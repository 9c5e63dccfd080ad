/**
 * The inspect stage: reads a pushed image through the OCI distribution API, by digest, and reports its
 * sizes and whether its entrypoint binary is static; for a multi-platform image, every platform's.
 */
export { ElfError, parseElf, type ElfInfo, type ElfType } from "./elf";
export { formatBytes, LayerError } from "./layers";
export {
  formatSizeReport,
  inspectImage,
  InspectError,
  type ImageReport,
  type InspectOptions,
} from "./inspect";
export {
  DEFAULT_MAX_PLATFORMS,
  inspectPlatforms,
  isIndexReport,
  type IndexReport,
  type PlatformImageReport,
  type PlatformsOptions,
} from "./platforms";
export { ImageInspection, type ImageInspectionArgs } from "./inspection-resource";
