import assert from "node:assert/strict";
import { InputError } from "../../components/validation";
import {
  DockerReplicaOptions,
  KubernetesReplicaOptions,
  ReplicaOptionsInput,
  validateReplicaOptions,
} from "../../components/deploy/options";

/** A digest and a reference pinned by it, in the local registry. */
export const DIGEST = `sha256:${"ab".repeat(32)}`;
export const IMAGE_REF = `127.0.0.1:5000/team/pausle@${DIGEST}`;
/** The same repository at another digest: a new build. */
export const OTHER_DIGEST = `sha256:${"cd".repeat(32)}`;
export const OTHER_IMAGE_REF = `127.0.0.1:5000/team/pausle@${OTHER_DIGEST}`;

/** Validated Docker options from a partial input. */
export function dockerOptions(input: ReplicaOptionsInput = {}): DockerReplicaOptions {
  return validateReplicaOptions({ runtime: "docker", ...input }) as DockerReplicaOptions;
}

/** Validated Kubernetes options from a partial input. */
export function kubernetesOptions(input: ReplicaOptionsInput = {}): KubernetesReplicaOptions {
  return validateReplicaOptions({ runtime: "kubernetes", ...input }) as KubernetesReplicaOptions;
}

/** Asserts that `fn` throws an InputError for `field` whose message names the field and offers a fix. */
export function assertInputError(fn: () => unknown, field: string): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof InputError, `expected an InputError for ${field}, got ${String(caught)}`);
  assert.equal(caught.field, field, caught.message);
  assert.ok(caught.message.startsWith(`minimal-image: ${field}: `), caught.message);
  // The message is "problem. fix": there must be something after the problem.
  assert.match(caught.message, /\. \S.*$/, caught.message);
  return caught;
}
