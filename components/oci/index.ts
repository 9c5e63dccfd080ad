/**
 * The OCI distribution client, on the ground floor beside platform and reference: the transport (HTTP,
 * deadlines, authentication) apart from the protocol (manifests, indexes, blobs, digests), used by every
 * stage that talks to a registry.
 */
export { type Descriptor, type ImageIndex, type ImageManifest } from "./documents";
export { type PlatformDescriptor, RegistryClient, type ResolvedImage } from "./distribution";
export { RegistryError, type RegistryOptions } from "./transport";
export { dockerConfigCredentials, dockerConfigFile } from "./docker-config";
