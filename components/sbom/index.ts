/**
 * The SBOM stage: the facts a build's `sbom` target recorded become a CycloneDX document of what was
 * compiled into the image.
 */
export { buildSbom } from "./cyclonedx";
export { FACTS_FILES, FactsFile, MAX_FACTS_LINES, SbomFactsError } from "./facts";
