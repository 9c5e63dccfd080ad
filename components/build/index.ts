export { contextDigest, listContextFiles } from "./context";
export {
  BuildGates,
  buildArgNames,
  renderBuild,
  renderDockerfile,
  RenderedBuild,
  RUNTIME_USER,
} from "./render";
export { staticCheckCommand } from "./static-check";
export {
  BuildContext,
  BuildError,
  BuildEvent,
  buildContext,
  buildLocally,
  DockerBuilder,
  DOCKERFILE_IN_CONTEXT,
  LocalBuildOptions,
  LocalBuildResult,
  packContext,
  renderedContext,
} from "./local";
