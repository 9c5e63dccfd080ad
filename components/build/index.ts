export { listContextFiles } from "./context";
export { renderBuild, renderDockerfile, RenderedBuild, RUNTIME_USER } from "./render";
export { staticCheckCommand } from "./static-check";
