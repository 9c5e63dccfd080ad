import * as pulumi from "@pulumi/pulumi";

/** The value of an Output, or its failure: Outputs have no public way to observe a failure. */
export function settle<T>(output: pulumi.Output<T>): Promise<T> {
  return (output as unknown as { promise(): Promise<T> }).promise();
}

/** True when a mock received `value` wrapped as a secret. */
export function isSecretInput(value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<string, unknown>)[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig
  );
}

/**
 * Resolves after any resource registration already started has had time to reach the mocks: registration
 * is asynchronous (inputs are serialized over several turns of the event loop), so counting registrations
 * right after a constructor returns would count too early and pass whatever the code declared.
 * (The runtime's own RPC queue cannot be awaited here: a constructor that threw leaves its component's
 * registration pending for good.)
 */
export function registrationsSettled(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 200));
}
