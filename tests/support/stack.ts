import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import { runStack, StackRunOptions, StackRunResult } from "../../harness/executor";
import { LOCAL_BUILDERS } from "./env";

/**
 * A stack of a fixture program, run by the local executor with its own state file, torn down by `destroy`:
 * every test of the engine goes through the resources the component declares.
 */
export class TestStack {
  private readonly stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-stack-"));

  constructor(
    readonly dir: string,
    readonly stack: string,
  ) {}

  get statePath(): string {
    return path.join(this.stateDir, `${this.stack}.json`);
  }

  run(config: Record<string, string>, options: Partial<StackRunOptions> = {}): Promise<StackRunResult> {
    return runStack({
      dir: this.dir,
      stack: this.stack,
      statePath: this.statePath,
      config,
      env: LOCAL_BUILDERS,
      timeoutMs: 600_000,
      ...options,
    });
  }

  /** Removes what the stack made, then its state. */
  async destroy(): Promise<void> {
    if (fs.existsSync(this.statePath)) await this.run({}, { destroy: true });
    fs.rmSync(this.stateDir, { recursive: true, force: true });
  }
}

/** The containers of a run's records, by resource name, as the engine reports them. */
export async function containersOf(
  result: StackRunResult,
  docker: Docker,
): Promise<Map<string, Docker.ContainerInspectInfo>> {
  const containers = new Map<string, Docker.ContainerInspectInfo>();
  for (const record of result.records.filter((r) => r.type === "docker:index/container:Container")) {
    containers.set(record.name, await docker.getContainer(record.id ?? "").inspect());
  }
  return containers;
}
