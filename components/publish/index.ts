export { BuildInput, buildInput, dockerfilePath, writeDockerfile } from "./image-args";
export { pushName, RegistryInput, validateRegistry } from "./registry";
export { PushCredentials, pushLocally } from "./push";
