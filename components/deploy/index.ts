/**
 * The deploy stage: validated replica options, pure Kubernetes and Docker specs for N replicas of a
 * digest-pinned image, and the Pulumi resources made from them.
 */
export * from "./options";
export * from "./digest";
export * from "./kubernetes";
export * from "./docker";
export * from "./resources";
