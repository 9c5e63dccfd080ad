/**
 * The publish stage: where a rendered build's Dockerfile is written and the `build` input `docker.Image`
 * builds and pushes it with.
 */
export {
  BuildInput,
  buildInput,
  DOCKERFILE_FOLDER,
  dockerfilePath,
  validateCacheFrom,
  writeDockerfile,
} from "./image-args";
