import { execFileSync } from "node:child_process";

/** True when the Pulumi CLI answers on PATH: the main job and the end-to-end test then use it. */
export function pulumiOnPath(): boolean {
  try {
    execFileSync("pulumi", ["version"], { stdio: "ignore", timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}
