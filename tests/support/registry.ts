import { ChildProcess, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { waitFor } from "./engine";
import { freePort } from "./env";

/** A registry of Debian's `docker-registry` on 127.0.0.1, for one test, removed by `remove`. */
export class TestRegistry {
  private server?: ChildProcess;

  private constructor(
    /** `127.0.0.1:<port>`. */
    readonly host: string,
    private readonly dir: string,
    private readonly config: string,
  ) {}

  /** Starts a registry, with htpasswd (Basic) authentication when `credentials` are given. */
  static async start(credentials?: { username: string; password: string }): Promise<TestRegistry> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-registry-"));
    const host = `127.0.0.1:${await freePort()}`;
    const lines = [
      "version: 0.1",
      "log:",
      "  level: warn",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${dir}/data`,
    ];
    lines.push("http:", `  addr: ${host}`);
    if (credentials) {
      const htpasswd = execFileSync("htpasswd", ["-Bbn", credentials.username, credentials.password], {
        encoding: "utf8",
        timeout: 30_000,
      });
      fs.writeFileSync(path.join(dir, "htpasswd"), `${htpasswd.trim()}\n`);
      lines.push("auth:", "  htpasswd:", "    realm: minimal-image-test", `    path: ${dir}/htpasswd`);
    }
    const config = path.join(dir, "config.yml");
    fs.writeFileSync(config, `${lines.join("\n")}\n`);
    const registry = new TestRegistry(host, dir, config);
    await registry.resume();
    return registry;
  }

  /** Starts the server (again), keeping what it stored; resolves once `/v2/` answers. */
  async resume(): Promise<void> {
    this.server = spawn("docker-registry", ["serve", this.config], { stdio: "ignore" });
    await waitFor(`a registry on ${this.host}`, async () => {
      const response = await fetch(`http://${this.host}/v2/`, { signal: AbortSignal.timeout(1_000) });
      return response.status === 200 || response.status === 401 ? true : undefined;
    });
  }

  /** Stops the server, as an outage would; what it stored stays for `resume`. */
  async stop(): Promise<void> {
    const server = this.server;
    // A process ended by a signal keeps a null exitCode: its signalCode says it is gone.
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill("SIGKILL");
    await exited;
  }

  /** Stops the server and removes its storage. */
  async remove(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
