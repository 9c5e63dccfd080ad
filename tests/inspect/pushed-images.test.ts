import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { inspectImage, type ImageReport } from "../../components/inspect";
import { RegistryError } from "../../components/oci";
import { basic, compilePause, makeTempDir } from "../support/fake-registry";
import { TestRegistry } from "../support/registry";

const REGISTRY = "127.0.0.1:5000";
const ACCEPT =
  "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

/** Runs a command with a time limit; returns stdout, or throws with its stderr. */
function run(cmd: string, args: string[], options: { input?: string; cwd?: string } = {}): string {
  return execFileSync(cmd, args, { encoding: "utf8", timeout: 120_000, stdio: "pipe", ...options }).trim();
}

interface EngineImage {
  Size: number;
  RepoDigests: string[];
  Config: { Entrypoint: string[]; User: string };
  RootFS: { Layers: string[] };
}

function engineInspect(ref: string): EngineImage {
  return (JSON.parse(run("docker", ["image", "inspect", ref])) as EngineImage[])[0];
}

/** The manifest as the registry serves it, fetched without the code under test. */
async function registryManifest(
  registry: string,
  repo: string,
  ref: string,
  auth?: string,
): Promise<{ config: { size: number }; layers: { size: number }[] }> {
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${ref}`, {
    headers: { accept: ACCEPT, ...(auth ? { authorization: auth } : {}) },
  });
  assert.equal(res.status, 200, `manifest ${repo}:${ref} from ${registry}`);
  return (await res.json()) as { config: { size: number }; layers: { size: number }[] };
}

/** The digest from `RepoDigests` for a given registry/repository. */
function repoDigest(image: EngineImage, name: string): string {
  const entry = image.RepoDigests.find((d) => d.startsWith(`${name}@`));
  assert.ok(entry, `no RepoDigest for ${name} in ${image.RepoDigests.join(", ")}`);
  return entry.slice(name.length + 1);
}

describe("inspect against a real registry and engine @integration", function () {
  this.timeout(300_000);
  const suffix = `${process.pid}-${randomBytes(4).toString("hex")}`;
  const tag = `t-${suffix}`;
  let dir: string;
  let staticBin: string;
  let dynamicBin: string;
  /** Local tags to remove, and registry manifests to delete, in after(). */
  const localTags: string[] = [];
  const pushed: { registry: string; repo: string; digest: string; auth?: string }[] = [];

  /**
   * Builds `dockerfile` in the temp dir, tags it `ref`, and returns the engine's view of it. Dockerfiles carry
   * a per-run label so concurrent runs never share a manifest digest that one run's cleanup would delete.
   */
  function build(ref: string, dockerfile: string): EngineImage {
    const file = path.join(dir, `Dockerfile.${localTags.length}`);
    fs.writeFileSync(file, dockerfile);
    run("docker", ["build", "-q", "-t", ref, "-f", file, dir]);
    localTags.push(ref);
    return engineInspect(ref);
  }

  function push(ref: string, dockerConfig?: string): void {
    run("docker", [...(dockerConfig ? ["--config", dockerConfig] : []), "push", ref]);
  }

  /** Every figure of the report against the registry's manifest, the engine, and the compiled file. */
  async function assertFigures(
    report: ImageReport,
    name: string,
    engine: EngineImage,
    binary: string,
    auth?: string,
  ): Promise<void> {
    const [registry, ...rest] = name.split("/");
    const repo = rest.join("/");
    const manifest = await registryManifest(registry, repo, tag, auth);
    const digest = repoDigest(engine, name);
    assert.equal(report.digest, digest, "digest = the engine's RepoDigest");
    assert.equal(report.imageRef, `${name}@${digest}`);
    assert.equal(
      report.compressedSizeBytes,
      manifest.config.size + manifest.layers.reduce((s, l) => s + l.size, 0),
      "compressed = config + layers from the manifest",
    );
    assert.equal(report.uncompressedSizeBytes, engine.Size, "uncompressed = docker image inspect .Size");
    assert.equal(report.layerCount, manifest.layers.length);
    assert.equal(report.layerCount, engine.RootFS.Layers.length);
    assert.deepEqual(report.entrypoint, engine.Config.Entrypoint);
    assert.equal(report.user, engine.Config.User);
    assert.equal(report.binarySizeBytes, fs.statSync(binary).size);
  }

  before(async function () {
    try {
      run("docker", ["info", "--format", "{{.ServerVersion}}"]);
      assert.equal((await fetch(`http://${REGISTRY}/v2/`)).status, 200);
    } catch (err) {
      throw new Error(
        `needs the Docker engine and the registry on ${REGISTRY}: run scripts/dev-env up (${err})`,
      );
    }
    dir = makeTempDir("integration");
    staticBin = compilePause(dir, "pausle", ["-static", "-Os"]);
    dynamicBin = compilePause(dir, "pausle-dyn", ["-Os"]);
  });

  after(async function () {
    for (const { registry, repo, digest, auth } of pushed) {
      await fetch(`http://${registry}/v2/${repo}/manifests/${digest}`, {
        method: "DELETE",
        headers: auth ? { authorization: auth } : {},
      }).catch(() => undefined);
    }
    if (localTags.length > 0) {
      try {
        run("docker", ["image", "rm", "--force", ...localTags]);
      } catch {
        // Already gone is fine; nothing else holds these test tags.
      }
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  describe("registry 127.0.0.1:5000", () => {
    const staticName = `${REGISTRY}/minimal-image-test/pausle-static`;
    const dynamicName = `${REGISTRY}/minimal-image-test/pausle-dynamic`;
    let staticImage: EngineImage;
    let dynamicImage: EngineImage;

    before(function () {
      staticImage = build(
        `${staticName}:${tag}`,
        `FROM scratch\nLABEL io.minimal-image.test-run=${suffix}\nCOPY pausle /pausle\nUSER 65532:65532\nENTRYPOINT ["/pausle"]\n`,
      );
      push(`${staticName}:${tag}`);
      staticImage = engineInspect(`${staticName}:${tag}`);
      pushed.push({
        registry: REGISTRY,
        repo: "minimal-image-test/pausle-static",
        digest: repoDigest(staticImage, staticName),
      });
      // Two layers: the dynamic binary overwrites the static one, so the later layer must win.
      dynamicImage = build(
        `${dynamicName}:${tag}`,
        `FROM scratch\nLABEL io.minimal-image.test-run=${suffix}\nCOPY pausle /pausle\nCOPY pausle-dyn /pausle\nUSER 65532:65532\nENTRYPOINT ["/pausle"]\n`,
      );
      push(`${dynamicName}:${tag}`);
      dynamicImage = engineInspect(`${dynamicName}:${tag}`);
      pushed.push({
        registry: REGISTRY,
        repo: "minimal-image-test/pausle-dynamic",
        digest: repoDigest(dynamicImage, dynamicName),
      });
    });

    it("static image: figures match the registry and the engine", async () => {
      const report = await inspectImage(`${staticName}:${tag}`);
      await assertFigures(report, staticName, staticImage, staticBin);
      assert.equal(report.isStatic, true);
      assert.equal(report.interpreter, undefined);
      assert.deepEqual(report.neededLibraries, []);
      assert.equal(report.binaryPath, "/pausle");
      assert.equal(report.user, "65532:65532");
      assert.equal(report.layerCount, 1);
      assert.equal(report.uncompressedSizeBytes, fs.statSync(staticBin).size);
      console.log(`      static:  ${JSON.stringify(figures(report))}, engine .Size ${staticImage.Size}`);
    });

    it("dynamic image: the later layer wins, and the interpreter is named", async () => {
      const report = await inspectImage(`${dynamicName}:${tag}`);
      await assertFigures(report, dynamicName, dynamicImage, dynamicBin);
      const interpreter = /\[Requesting program interpreter: (.+)\]/.exec(
        run("readelf", ["-lW", dynamicBin]),
      )?.[1];
      assert.ok(interpreter);
      assert.equal(report.isStatic, false);
      assert.equal(report.interpreter, interpreter);
      assert.deepEqual(report.neededLibraries, ["libc.so.6"]);
      assert.equal(report.layerCount, 2);
      assert.equal(report.uncompressedSizeBytes, fs.statSync(staticBin).size + fs.statSync(dynamicBin).size);
      console.log(`      dynamic: ${JSON.stringify(figures(report))}, engine .Size ${dynamicImage.Size}`);
    });

    it("by digest: the same figures", async () => {
      const byTag = await inspectImage(`${staticName}:${tag}`);
      const byDigest = await inspectImage(byTag.imageRef);
      assert.deepEqual({ ...byDigest, reference: "" }, { ...byTag, reference: "" });
    });

    it("an unknown tag is a 404 that names the registry", async () => {
      await assert.rejects(inspectImage(`${staticName}:no-such-${tag}`), (err: Error) => {
        assert.ok(err instanceof RegistryError);
        assert.equal(err.status, 404);
        assert.match(err.message, new RegExp(`registry ${REGISTRY}: has no manifest "no-such-${tag}"`));
        return true;
      });
    });
  });

  describe("registry with htpasswd auth", () => {
    const user = "user";
    const password = `pw-${randomBytes(6).toString("hex")}`;
    let authDir: string;
    let registry: string;
    let server: TestRegistry | undefined;
    let name: string;
    let engine: EngineImage;

    before(async function () {
      authDir = makeTempDir("htpasswd");
      server = await TestRegistry.start({ username: user, password });
      registry = server.host;

      name = `${registry}/minimal-image-test/pausle-auth`;
      engine = build(
        `${name}:${tag}`,
        `FROM scratch\nLABEL io.minimal-image.test-run=${suffix}\nCOPY pausle /pausle\nUSER 65532:65532\nENTRYPOINT ["/pausle"]\n`,
      );
      // A private client config, so the login never touches the user's ~/.docker.
      const dockerConfig = path.join(authDir, "docker-config");
      fs.mkdirSync(dockerConfig);
      run("docker", ["--config", dockerConfig, "login", registry, "-u", user, "--password-stdin"], {
        input: password,
      });
      try {
        push(`${name}:${tag}`, dockerConfig);
      } finally {
        run("docker", ["--config", dockerConfig, "logout", registry]);
      }
      engine = engineInspect(`${name}:${tag}`);
    });

    after(async function () {
      await server?.remove();
      if (authDir) fs.rmSync(authDir, { recursive: true, force: true });
    });

    it("the right password works, with figures matching that registry and the engine", async () => {
      const report = await inspectImage(`${name}:${tag}`, { username: user, password });
      await assertFigures(report, name, engine, staticBin, basic(user, password));
      assert.equal(report.isStatic, true);
      console.log(`      htpasswd: ${JSON.stringify(figures(report))}`);
    });

    it("a wrong password: the registry rejected the credentials for the user", async () => {
      const wrong = `${password}-wrong`;
      await assert.rejects(
        inspectImage(`${name}:${tag}`, { username: user, password: wrong }),
        (err: Error) => {
          assert.ok(err instanceof RegistryError);
          assert.equal(
            err.message,
            `minimal-image: registry ${registry}: rejected the credentials for user "${user}". Check registry.username and registry.password.`,
          );
          assert.ok(!err.message.includes(wrong) && !err.message.includes(password));
          return true;
        },
      );
    });

    it("no password: the registry needs credentials", async () => {
      await assert.rejects(inspectImage(`${name}:${tag}`), (err: Error) => {
        assert.ok(err instanceof RegistryError);
        assert.equal(err.status, 401);
        assert.match(
          err.message,
          /needs credentials to read repository "minimal-image-test\/pausle-auth".*Set registry\.username and registry\.password/,
        );
        return true;
      });
    });
  });
});

function figures(r: ImageReport) {
  return {
    digest: r.digest,
    compressed: r.compressedSizeBytes,
    uncompressed: r.uncompressedSizeBytes,
    layers: r.layerCount,
    binary: r.binarySizeBytes,
    isStatic: r.isStatic,
    interpreter: r.interpreter,
  };
}
