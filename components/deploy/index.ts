/**
 * The deploy stage: validated replica options, pure Kubernetes and Docker specs for N replicas of a
 * digest-pinned image, the Pulumi resources made from them, and a Docker-engine runner for tests.
 */
export * from "./options";
export * from "./digest";
export * from "./kubernetes";
export * from "./docker";
export * from "./resources";
export * from "./engine";
