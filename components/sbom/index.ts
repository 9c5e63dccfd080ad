/**
 * The SBOM stage: the facts a build's `sbom` target recorded become a CycloneDX document of what was
 * compiled into the image, attached to the pushed image as an OCI artifact whose subject is that image,
 * and read back from it.
 */
export { buildSbom } from "./cyclonedx";
export { FACTS_FILES, FactsFile, MAX_FACTS_LINES, SbomFactsError } from "./facts";
export { SbomAttachment, type SbomAttachmentArgs } from "./sbom-resource";
export { attachSbom, type AttachOptions, type Attachment } from "./attach";
export { readAttachedSbom, MAX_SBOM_BYTES, type AttachedSbom, type ReadSbomOptions } from "./read";
export { SbomError } from "./sbom-error";
export { CYCLONEDX_MEDIA_TYPE } from "./artifact";
export { declareSbom, wantsSbom } from "./resources";
