/**
 * The publish stage: where a rendered build's Dockerfile is written, the `build` input `docker.Image`
 * builds and pushes it with, and the OCI image index that ties several platforms' images under one tag.
 */
export {
  BuildInput,
  buildInput,
  DOCKERFILE_FOLDER,
  dockerfilePath,
  validateCacheFrom,
  writeDockerfile,
} from "./image-args";
export { imageIndexBytes, IndexEntry, OCI_INDEX_MEDIA_TYPE, platformTag } from "./image-index";
export { MultiPlatformIndex, MultiPlatformIndexArgs } from "./index-resource";
export { pushImageIndex, PushedIndex, PushIndexRequest } from "./push-index";
