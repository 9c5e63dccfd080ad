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
