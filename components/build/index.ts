export { listContextFiles } from "./context";
export { renderBuild, renderDockerfile, RenderedBuild, RUNTIME_USER } from "./render";
export { staticCheckCommand } from "./static-check";
export {
  BuildError,
  buildLocally,
  DockerBuilder,
  DOCKERFILE_IN_CONTEXT,
  LocalBuildOptions,
  LocalBuildResult,
  packContext,
} from "./local";
