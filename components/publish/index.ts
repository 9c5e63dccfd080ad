export {
  BuildInput,
  buildInput,
  DEFAULT_PLATFORM,
  dockerfilePath,
  validateCacheFrom,
  validatePlatform,
  writeDockerfile,
} from "./image-args";
export { pushName, RegistryInput, validateRegistry } from "./registry";
export { PushCredentials, pushLocally } from "./push";
