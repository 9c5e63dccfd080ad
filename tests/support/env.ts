export { LOCAL_BUILDERS } from "../../harness/local-builders";

/** The local registry `scripts/dev-env up` starts. */
export const LOCAL_REGISTRY = "127.0.0.1:5000";

/** A name unique to this test run, so parallel or repeated runs never share images or containers. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}
