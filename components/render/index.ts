/**
 * The render stage: a resolved recipe becomes a multi-stage Dockerfile (with its static check and gates)
 * and the list of files its build context holds.
 */
export { contextDigest, exclusionPattern, ignorePatterns, listContextFiles } from "./context";
export {
  BuildGates,
  buildArgNames,
  DockerBuilder,
  renderBuild,
  renderDockerfile,
  RenderedBuild,
  renderedBuilder,
  RUNTIME_USER,
} from "./render";
export { FACTS_DIR, MAX_FACTS_FILE_BYTES, SBOM_TARGET } from "./sbom-facts";
export { staticCheckCommand } from "./static-check";
