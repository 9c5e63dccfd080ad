import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { outsideText } from "../../components/outside-text";
import { inspectImage, type InspectOptions } from "../../components/inspect";
import { RegistryClient } from "../../components/oci";
import { LayerStack } from "../../components/inspect/layers";
import { validateRegistry } from "../../components/registry";
import { runCli } from "../support/capture";
import {
  basic,
  compilePause,
  gzipLayer,
  makeTar,
  makeTempDir,
  MEDIA,
  sha256,
} from "../support/fake-registry";
import {
  HostileRegistry,
  manyEntriesLayer,
  neededBombElf,
  selfSignedCertificate,
  zeroFileLayer,
} from "./hostile-registry";

const SECRET = "s3cret-Pa55";
const CREDENTIALS = { username: "alice", password: SECRET };
const CONFIG = { architecture: "amd64", os: "linux", config: { Entrypoint: ["/pausle"] } };
/** Any C0/C1 control character or escape left in a message would let outside text forge or hide output. */
const CONTROL = /\p{Cc}/u;

/** Expects `promise` to fail with an error of class `name` whose message matches and leaks no password. */
async function expectError(promise: Promise<unknown>, name: string, pattern: RegExp): Promise<Error> {
  let failure: Error | undefined;
  await assert.rejects(promise, (err: Error) => {
    assert.equal(err.name, name, err.stack);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, CONTROL);
    assert.ok(!err.message.includes(SECRET), "the message must not contain the password");
    failure = err;
    return true;
  });
  return failure!;
}

describe("inspect against a hostile registry", () => {
  let reg: HostileRegistry;
  let staticBin: Buffer;
  let dir: string;

  before(function () {
    this.timeout(120_000);
    dir = makeTempDir("hostile");
    staticBin = fs.readFileSync(compilePause(dir, "static", ["-static", "-Os"]));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => (reg = await new HostileRegistry().start()));
  afterEach(() => reg.close());

  async function pushPausle(repo = "team/app", config: object = CONFIG): Promise<string> {
    reg.putImage(repo, "v1", [{ body: await gzipLayer([{ name: "pausle", content: staticBin }]) }], config);
    return `${reg.host}/${repo}:v1`;
  }

  /** Stores `body` as the manifest of `repo:v1`, byte for byte. */
  function putRawManifest(repo: string, body: string): string {
    reg.manifests.set(`${repo}:v1`, { mediaType: MEDIA.dockerManifest, body: Buffer.from(body) });
    return `${reg.host}/${repo}:v1`;
  }

  describe("credentials stay with the registry's origin", () => {
    const storageChallenge = () => {
      reg.storageIntercept = (_req, res, url) => {
        if (url.pathname.startsWith("/token")) return false;
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="http://${reg.storageHost}/token",service="x"`,
        });
        res.end();
        return true;
      };
    };

    for (const kind of ["basic", "bearer"] as const) {
      it(`${kind}: blob storage that answers 401 with its own realm after a redirect gets nothing`, async () => {
        reg.auth = { kind, ...CREDENTIALS };
        storageChallenge();
        const ref = await pushPausle();
        await expectError(
          inspectImage(ref, CREDENTIALS),
          "RegistryError",
          /redirected blob sha256:\w+ of repository "team\/app" to http:\/\/127\.0\.0\.1:\d+, which asked for credentials; they are sent only to http:\/\/127\.0\.0\.1:\d+\. Configure/,
        );
        assert.ok(reg.storageSeen.length > 0, "the blob was redirected to storage");
        assert.deepEqual(
          reg.storageSeen.map((r) => r.authorization),
          reg.storageSeen.map(() => undefined),
          "no Authorization header reached storage",
        );
        assert.ok(
          !reg.storageSeen.some((r) => r.url.startsWith("/token")),
          "the foreign realm was not asked",
        );
        assert.ok(
          reg.seen
            .filter((r) => r.url.startsWith("/token"))
            .every((r) => r.authorization === basic("alice", SECRET)),
          "tokens come from the registry's realm, asked with the user's credentials and never with a token",
        );
      });
    }

    it("a redirect that leaves the origin and comes back carries no credentials on the way back", async () => {
      reg.auth = { kind: "basic", ...CREDENTIALS };
      reg.storageIntercept = (_req, res) => {
        res.writeHead(307, { location: `http://${reg.host}/back` }).end();
        return true;
      };
      reg.intercept = (_req, res, url) => {
        if (url.pathname !== "/back") return false;
        res.writeHead(404).end();
        return true;
      };
      const ref = await pushPausle();
      await expectError(inspectImage(ref, CREDENTIALS), "RegistryError", /has no blob/);
      const back = reg.seen.filter((r) => r.url === "/back");
      assert.equal(back.length, 1);
      assert.equal(back[0].authorization, undefined);
      assert.ok(
        reg.seen.some((r) => r.authorization === basic("alice", SECRET)),
        "the registry got them",
      );
    });

    it("a plain-http realm on another host is refused before any request, even from a loopback registry", async () => {
      reg.auth = { kind: "bearer", ...CREDENTIALS, realm: "http://registry.example.invalid/token" };
      await expectError(
        inspectImage(await pushPausle(), CREDENTIALS),
        "RegistryError",
        /asked for a token from http:\/\/registry\.example\.invalid, which is not https: credentials and tokens would cross the network in clear\. Serve/,
      );
    });

    describe("a TLS registry (self-signed certificate made with openssl)", () => {
      let certificate: ReturnType<typeof selfSignedCertificate>;
      let tls: HostileRegistry;
      let verify: string | undefined;

      before(function () {
        certificate = selfSignedCertificate();
        // The sandbox image has openssl; a machine without it cannot run a TLS registry here.
        if (!certificate) this.skip();
        // The client trusts only the system's CAs; this lets it talk to the self-signed test registry.
        verify = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        process.env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
      });
      beforeEach(async () => {
        tls = await new HostileRegistry({ tls: certificate }).start();
        tls.putImage(
          "team/app",
          "v1",
          [{ body: await gzipLayer([{ name: "pausle", content: staticBin }]) }],
          CONFIG,
        );
      });
      afterEach(() => tls.close());
      after(() => {
        if (verify === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
        else process.env.NODE_TLS_REJECT_UNAUTHORIZED = verify;
      });

      const inspectTls = () => inspectImage(`${tls.host}/team/app:v1`, { ...CREDENTIALS, plainHttp: false });

      it("serves an image over https with bearer tokens from an https realm", async () => {
        tls.auth = { kind: "bearer", ...CREDENTIALS, realm: `https://${tls.host}/token` };
        assert.equal((await inspectTls()).isStatic, true);
      });

      it("an http realm, even on loopback, never receives the credentials", async () => {
        tls.auth = { kind: "bearer", ...CREDENTIALS, realm: `http://${tls.storageHost}/token` };
        await expectError(
          inspectTls(),
          "RegistryError",
          /asked for a token from http:\/\/127\.0\.0\.1:\d+, which is not https/,
        );
        assert.equal(tls.storageSeen.length, 0, "the http realm was never asked");
      });

      it("a redirect to other storage that then challenges gets no credentials", async () => {
        tls.auth = { kind: "basic", ...CREDENTIALS };
        tls.storageIntercept = (_req, res) => {
          res.writeHead(401, { "www-authenticate": 'Basic realm="storage"' }).end();
          return true;
        };
        await expectError(
          inspectTls(),
          "RegistryError",
          /which asked for credentials; they are sent only to https:/,
        );
        assert.ok(tls.storageSeen.length > 0);
        assert.ok(tls.storageSeen.every((r) => r.authorization === undefined));
      });
    });
  });

  describe("time", () => {
    it("a registry sending one byte per second fails at the request deadline, not the idle timeout", async () => {
      reg.dripManifests("team/app");
      const started = Date.now();
      await expectError(
        new RegistryClient(reg.host, { timeoutMs: 5000, requestTimeoutMs: 1500 }).resolveImage(
          "team/app",
          "v1",
        ),
        "RegistryError",
        /took more than requestTimeoutMs = 1500 ms to serve manifest "v1" of repository "team\/app"\. Check/,
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1400 && elapsed < 3000, `failed after ${elapsed} ms`);
    });

    it("an inspection fails at its overall deadline, whatever each request does", async () => {
      reg.dripManifests("team/app", 1000);
      const started = Date.now();
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`, { timeoutMs: 5000, deadlineMs: 1500 }),
        "InspectError",
        /image 127\.0\.0\.1:\d+\/team\/app:v1: the inspection took more than deadlineMs = 1500 ms\. Check/,
      );
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1400 && elapsed < 3000, `failed after ${elapsed} ms`);
    });

    it("refuses time bounds that a Node timer cannot hold", async () => {
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`, { deadlineMs: 2 ** 31 }),
        "InputError",
        /deadlineMs: 2147483648 is not a whole number from 1 to 2147483647/,
      );
    });
  });

  describe("memory", () => {
    /** Inspects each reference in a child under a 512 MB heap: its outcomes, peak RSS and wall time. */
    async function inspectInChild(references: string[]) {
      const started = Date.now();
      const child = spawn(
        process.execPath,
        [
          "--max-old-space-size=512",
          "--require",
          require.resolve("tsx/cjs"),
          path.join(__dirname, "inspect-child.ts"),
          ...references,
        ],
        { stdio: ["ignore", "pipe", "pipe"], timeout: 150_000 },
      );
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.equal(code, 0, `the child died (out of memory?): ${stderr.slice(-2000)}`);
      const result = JSON.parse(stdout) as {
        outcomes: { name: string; message: string }[];
        maxRssBytes: number;
      };
      return { ...result, stdout, elapsedMs: Date.now() - started };
    }

    it("bombs fail with named errors under a 512 MB heap, below 600 MB RSS", async function () {
      this.timeout(180_000);
      const push = async (repo: string, layer: Buffer) => {
        reg.putImage(repo, "v1", [{ body: layer }], CONFIG);
        return `${reg.host}/${repo}:v1`;
      };
      const references = [
        // A 2 GiB entrypoint of zeros in a 2 MB layer: past the default 2 GiB decompression bound.
        await push("bomb/two-gib", await zeroFileLayer("pausle", 2 * 1024 ** 3)),
        // 1.9 GiB: within that bound, but far over the entrypoint bound; never held in memory.
        await push("bomb/entrypoint", await zeroFileLayer("pausle", Math.floor(1.9 * 1024 ** 3))),
        // One entry more than the default maxTarEntries, each with its own name.
        await push("bomb/entries", await manyEntriesLayer(500_001)),
      ];
      const { outcomes, maxRssBytes, stdout } = await inspectInChild(references);
      assert.deepEqual(
        outcomes.map((o) => o.name),
        ["LayerError", "LayerError", "LayerError"],
        stdout,
      );
      assert.match(
        outcomes[0].message,
        /bomb\/two-gib@sha256:\w+: its layers decompress to more than maxUncompressedBytes = 2147483648 bytes/,
      );
      assert.match(
        outcomes[1].message,
        /bomb\/entrypoint@sha256:\w+: \/pausle is 2040109465 bytes \(2\.0 GB\), more than maxEntrypointBytes = 268435456 bytes/,
      );
      assert.match(
        outcomes[2].message,
        /bomb\/entries@sha256:\w+: its layers hold more than maxTarEntries = 500000 entries/,
      );
      assert.ok(maxRssBytes < 600 * 1024 ** 2, `peak RSS ${(maxRssBytes / 1024 ** 2).toFixed(0)} MiB`);
    });

    it("an ELF naming one 1 MiB string in 8,192 DT_NEEDED entries fails named, below 600 MB RSS, in 20 s", async function () {
      this.timeout(60_000);
      const elf = neededBombElf(8192, 1024 ** 2);
      const layer = await gzipLayer([{ name: "pausle", content: elf }]);
      assert.ok(layer.length < 20_000, `a ${layer.length}-byte layer`);
      reg.putImage("bomb/needed", "v1", [{ body: layer }], CONFIG);
      // The same file with one entry: its name is past PATH_MAX, and no scan reads the whole string.
      const long = await gzipLayer([{ name: "pausle", content: neededBombElf(1, 1024 ** 2) }]);
      reg.putImage("bomb/long-name", "v1", [{ body: long }], CONFIG);
      const { outcomes, maxRssBytes, elapsedMs } = await inspectInChild([
        `${reg.host}/bomb/needed:v1`,
        `${reg.host}/bomb/long-name:v1`,
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.name),
        ["InspectError", "InspectError"],
      );
      assert.match(
        outcomes[0].message,
        /\/pausle is not a usable ELF executable: invalid ELF file: more than 256 DT_NEEDED entries/,
      );
      assert.match(outcomes[1].message, /DT_NEEDED name at byte \d+ is longer than 4096 bytes \(PATH_MAX\)/);
      assert.ok(maxRssBytes < 600 * 1024 ** 2, `peak RSS ${(maxRssBytes / 1024 ** 2).toFixed(0)} MiB`);
      assert.ok(elapsedMs < 20_000, `${elapsedMs} ms`);
    });

    it("eight 200 MiB PATH candidates are not all kept: below 600 MB RSS; 5M PATH entries fail named", async function () {
      this.timeout(180_000);
      const dirs = ["/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h"];
      // 1.6 GiB together, and with the second read of the winner's layer still under maxUncompressedBytes.
      const size = 200 * 1024 ** 2;
      // The winner (/a/app) sits in the last layer, so the first layer's candidate is kept and then dropped.
      const layers = [];
      for (const folder of [...dirs].reverse())
        layers.push({ body: await zeroFileLayer(`${folder.slice(1)}/app`, size) });
      const pathConfig = (searchPath: string) => ({
        ...CONFIG,
        config: { Entrypoint: ["app"], Env: [`PATH=${searchPath}`] },
      });
      reg.putImage("bomb/path", "v1", layers, pathConfig(dirs.join(":")));
      reg.putImage(
        "bomb/long-path",
        "v1",
        [{ body: await gzipLayer([{ name: "pausle", content: staticBin }]) }],
        pathConfig(":/x".repeat(5_000_000)),
      );
      const { outcomes, maxRssBytes, elapsedMs } = await inspectInChild([
        `${reg.host}/bomb/path:v1`,
        `${reg.host}/bomb/long-path:v1`,
      ]);
      assert.deepEqual(
        outcomes.map((o) => o.name),
        ["InspectError", "InspectError"],
        JSON.stringify(outcomes),
      );
      // Docker runs /a/app, the first PATH hit: 255 MiB of zeros, which is no ELF file.
      assert.match(
        outcomes[0].message,
        /bomb\/path@sha256:\w+: \/a\/app is not a usable ELF executable: not an ELF file/,
      );
      assert.match(
        outcomes[1].message,
        /bomb\/long-path@sha256:\w+: its PATH has more than 1000 directories to search for "app"\. Set an absolute ENTRYPOINT/,
      );
      assert.ok(maxRssBytes < 600 * 1024 ** 2, `peak RSS ${(maxRssBytes / 1024 ** 2).toFixed(0)} MiB`);
      assert.ok(elapsedMs < 120_000, `${elapsedMs} ms`);
    });

    it("an entrypoint over maxEntrypointBytes fails only if it is the file that wins", async () => {
      const big = { name: "pausle", content: Buffer.alloc(2_000_000) };
      const small = { name: "pausle", content: staticBin };
      reg.putImage(
        "team/app",
        "ok",
        [{ body: await gzipLayer([big]) }, { body: await gzipLayer([small]) }],
        CONFIG,
      );
      reg.putImage(
        "team/app",
        "big",
        [{ body: await gzipLayer([small]) }, { body: await gzipLayer([big]) }],
        CONFIG,
      );
      const options: InspectOptions = { maxEntrypointBytes: 1_000_000 };
      assert.equal((await inspectImage(`${reg.host}/team/app:ok`, options)).isStatic, true);
      await expectError(
        inspectImage(`${reg.host}/team/app:big`, options),
        "LayerError",
        /\/pausle is 2000000 bytes \(2\.0 MB\), more than maxEntrypointBytes = 1000000 bytes/,
      );
    });

    it("a path with a newline from the image cannot forge a line in a bound's error", async () => {
      const name = "a\nminimal-image: everything is fine";
      const layer = await gzipLayer([{ name, content: Buffer.alloc(2_000_000) }]);
      reg.putImage("team/app", "v1", [{ body: layer }], { ...CONFIG, config: { Entrypoint: [`/${name}`] } });
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`, { maxEntrypointBytes: 1_000_000 }),
        "LayerError",
        /: \/a minimal-image: everything is fine is 2000000 bytes/,
      );
    });

    it("a symlinked entrypoint over the bound fails on the second read too", async () => {
      reg.putImage(
        "team/app",
        "v1",
        [
          {
            body: await gzipLayer([
              { name: "big", content: Buffer.alloc(2_000_000) },
              { name: "pausle", type: "symlink", linkname: "big" },
            ]),
          },
        ],
        CONFIG,
      );
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`, { maxEntrypointBytes: 1_000_000 }),
        "LayerError",
        /\/big is 2000000 bytes/,
      );
    });

    it("counts entries across layers against maxTarEntries", async () => {
      reg.putImage(
        "team/app",
        "v1",
        [{ body: await manyEntriesLayer(600) }, { body: await manyEntriesLayer(600) }],
        CONFIG,
      );
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`, { maxTarEntries: 1000 }),
        "LayerError",
        /its layers hold more than maxTarEntries = 1000 entries\. Raise maxTarEntries/,
      );
    });

    it("refuses entry names longer than PATH_MAX, and names that add up past the bound", async () => {
      const long = await gzipLayer([{ name: `${"d/".repeat(2100)}pausle`, content: "x" }]);
      reg.putImage("team/app", "v1", [{ body: long }], CONFIG);
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "LayerError",
        /an entry name or link of 4206 characters, more than PATH_MAX \(4096\)/,
      );
      const stack = new LayerStack("img", {
        maxStreamedBytes: 1e9,
        maxEntries: 1e6,
        maxKeptBytes: 1e6,
        maxNameChars: 5000,
      });
      const names = await makeTar(
        Array.from({ length: 3 }, (_, i) => ({ name: `${String(i).repeat(2000)}` })),
      );
      await assert.rejects(stack.addLayer(0, Readable.from([names]), MEDIA.ociTar), {
        name: "LayerError",
        message: /image img: its layers' entry names add up to more than 5000 characters/,
      });
    });

    it("refuses an index of more than 1000 manifests", async () => {
      const entry = {
        mediaType: MEDIA.ociManifest,
        digest: sha256("x"),
        size: 1,
        platform: { os: "linux", architecture: "amd64" },
      };
      reg.putManifest(
        "team/app",
        { schemaVersion: 2, manifests: Array(1001).fill(entry) },
        MEDIA.ociIndex,
        "v1",
      );
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "RegistryError",
        /the index lists 1001 manifests, more than 1000/,
      );
    });
  });

  describe("malformed documents: a named error saying which image and what is wrong", () => {
    const configCases: [string, unknown, RegExp][] = [
      ["a config of null", null, /its config's top level is null, not an object/],
      [
        "Entrypoint [123]",
        { config: { Entrypoint: [123] } },
        /its config's config\.Entrypoint is \[123\], not a list of strings/,
      ],
      [
        "Entrypoint as a string",
        { config: { Entrypoint: "/pausle" } },
        /config\.Entrypoint is "\/pausle", not a list of strings/,
      ],
      ["Cmd as an object", { config: { Cmd: { a: 1 } } }, /config\.Cmd is \{"a":1\}, not a list of strings/],
      [
        "Env with a number",
        { config: { Entrypoint: ["/p"], Env: [1] } },
        /config\.Env is \[1\], not a list of strings/,
      ],
      ["User as a number", { config: { Entrypoint: ["/p"], User: 0 } }, /config\.User is 0, not a string/],
      [
        "WorkingDir as a list",
        { config: { Entrypoint: ["p/q"], WorkingDir: [] } },
        /config\.WorkingDir is \[\], not a string/,
      ],
      ["config as a string", { config: "x" }, /its config's config is "x", not an object/],
      ["architecture as a number", { architecture: 64 }, /its config's architecture is 64, not a string/],
    ];
    for (const [title, config, pattern] of configCases) {
      it(title, async () => {
        const ref = await pushPausle("team/app", config as object);
        const err = await expectError(inspectImage(ref), "InspectError", pattern);
        assert.match(err.message, /^minimal-image: image 127\.0\.0\.1:\d+\/team\/app@sha256:\w{64}: /);
      });
    }

    it("a config that is not JSON", async () => {
      const manifest = {
        schemaVersion: 2,
        mediaType: MEDIA.dockerManifest,
        config: reg.addBlob(Buffer.from("{not json"), MEDIA.dockerConfig),
        layers: [],
      };
      reg.putManifest("team/app", manifest, MEDIA.dockerManifest, "v1");
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "RegistryError",
        /blob sha256:\w+ of repository "team\/app" is not JSON/,
      );
    });

    const manifestCases: [string, string, RegExp][] = [
      ["a manifest of null", "null", /is not a valid image manifest or index: it is null, not an object/],
      ["a manifest that is a list", "[1]", /it is an array, not an object/],
      [
        "layers that are not a list",
        JSON.stringify({ config: { mediaType: "a", digest: sha256("c"), size: 1 }, layers: {} }),
        /layers is not a list/,
      ],
      [
        "a config descriptor with a path as digest",
        JSON.stringify({ config: { mediaType: "a", digest: "../x", size: 1 }, layers: [] }),
        /config is not a valid descriptor/,
      ],
      [
        "a negative layer size",
        JSON.stringify({
          config: { mediaType: "a", digest: sha256("c"), size: 1 },
          layers: [{ mediaType: "a", digest: sha256("l"), size: -1 }],
        }),
        /layers\[0\] is not a valid descriptor/,
      ],
      [
        "an index entry whose platform is null",
        JSON.stringify({ manifests: [{ mediaType: "a", digest: sha256("m"), size: 1, platform: null }] }),
        /manifests\[0\] is not a valid descriptor/,
      ],
      [
        "an index whose manifests is a string",
        JSON.stringify({ manifests: "all" }),
        /manifests is not a list/,
      ],
      ["a manifest that is not JSON", "<html>", /manifest "v1" of repository "team\/app" is not JSON/],
    ];
    for (const [title, body, pattern] of manifestCases) {
      it(title, async () => {
        await expectError(inspectImage(putRawManifest("team/app", body)), "RegistryError", pattern);
      });
    }

    it("indexes nested more than two deep", async () => {
      await pushPausle();
      let digest = sha256(reg.manifests.get("team/app:v1")!.body);
      for (let depth = 0; depth < 3; depth++) {
        const index = reg.putManifest(
          "team/app",
          {
            schemaVersion: 2,
            manifests: [
              {
                mediaType: MEDIA.ociIndex,
                digest,
                size: 1,
                platform: { os: "linux", architecture: "amd64" },
              },
            ],
          },
          MEDIA.ociIndex,
          "nested",
        );
        digest = index.digest;
      }
      await expectError(
        inspectImage(`${reg.host}/team/app:nested`, { platform: "linux/amd64" }),
        "RegistryError",
        /nests indexes more than 2 deep/,
      );
    });

    const challengeCases: [string, string, RegExp][] = [
      [
        "a realm that is not a URL",
        'Bearer realm="not a url",service="x"',
        /asked for a token from realm "not a url", which is not a URL\. Fix the realm/,
      ],
      [
        "a file: realm",
        'Bearer realm="file:///etc/passwd"',
        /asked for a token from file:\/\/, which is not https/,
      ],
      ["an unsupported scheme", "Negotiate abc", /unsupported challenge "Negotiate abc"/],
      ["no challenge at all", "", /unsupported challenge "\(none\)"/],
    ];
    for (const [title, challenge, pattern] of challengeCases) {
      it(`a challenge with ${title}`, async () => {
        reg.intercept = (_req, res) => {
          res.writeHead(401, challenge ? { "www-authenticate": challenge } : {}).end();
          return true;
        };
        await expectError(inspectImage(`${reg.host}/team/app:v1`, CREDENTIALS), "RegistryError", pattern);
      });
    }

    it("a token service answering JSON null", async () => {
      reg.auth = { kind: "bearer", ...CREDENTIALS };
      reg.intercept = (_req, res, url) => {
        if (url.pathname !== "/token") return false;
        res.writeHead(200, { "content-type": "application/json" }).end("null");
        return true;
      };
      await expectError(
        inspectImage(await pushPausle(), CREDENTIALS),
        "RegistryError",
        /token service http:\/\/127\.0\.0\.1:\d+ answered without a token/,
      );
    });

    it("a connection closed in the middle of a body", async () => {
      reg.intercept = (_req, res) => {
        res.writeHead(200, { "content-type": MEDIA.dockerManifest, "content-length": 1000 });
        res.write("{", () => res.socket?.destroy());
        return true;
      };
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "RegistryError",
        /closed the connection while sending manifest "v1" of repository "team\/app" \(\w+\)\. Check the registry's health and network/,
      );
    });

    it("a redirect to something that is not a URL", async () => {
      reg.intercept = (_req, res) => {
        res.writeHead(307, { location: "http://[not-a-host" }).end();
        return true;
      };
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "RegistryError",
        /redirected manifest "v1" of repository "team\/app" to "http:\/\/\[not-a-host", which is not a URL/,
      );
    });

    const layerCases: [string, () => Promise<Buffer>, RegExp][] = [
      [
        "a truncated tar",
        async () => gzipSync((await makeTar([{ name: "pausle", content: staticBin }])).subarray(0, 2000)),
        /layer 0 is not a readable tar archive: Unexpected end of data/,
      ],
      [
        "a truncated gzip stream",
        async () => (await gzipLayer([{ name: "pausle", content: staticBin }])).subarray(0, 500),
        /layer 0 is not a readable tar archive: unexpected end of file/,
      ],
      [
        "bytes that are not gzip",
        async () => Buffer.from("plain text, not gzip"),
        /layer 0 is not a readable tar archive: incorrect header check/,
      ],
    ];
    for (const [title, layer, pattern] of layerCases) {
      it(`a layer that is ${title}`, async () => {
        reg.putImage("team/app", "v1", [{ body: await layer() }], CONFIG);
        await expectError(inspectImage(`${reg.host}/team/app:v1`), "InspectError", pattern);
      });
    }
  });

  describe("text from the registry is stripped and cut short", () => {
    const FORGED = "\u001b[2K\r\u001b[32mminimal-image: everything is fine\u001b[0m\n";

    it("an error body with escapes, a forged line and 470 KB: one clean short line, full text in detail", async () => {
      const message = `${FORGED}${"A".repeat(470_000)}`;
      const body = JSON.stringify({ errors: [{ code: "\u001b[31mBAD\nLINE", message }] });
      reg.answerWith("/v2/", 500, body);
      const err = (await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "RegistryError",
        /answered HTTP 500 for manifest "v1"/,
      )) as Error & { detail?: string };
      assert.ok(err.message.length < 1000, `${err.message.length} characters`);
      assert.match(
        err.message,
        /: minimal-image: everything is fine A+… \(\d+ more characters\)\. Check the registry's health/,
      );
      assert.equal(err.detail, body, "detail keeps the body as received");
    });

    it("an error body past 1 MiB is cut before it is read further", async () => {
      reg.answerWith("/v2/", 502, "B".repeat(3 * 1024 * 1024));
      const err = (await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "RegistryError",
        /answered HTTP 502 for manifest "v1" of repository "team\/app": B{300}… \(1048276 more characters\)\./,
      )) as Error & { detail?: string };
      assert.equal(err.detail?.length, 1024 * 1024);
    });

    it("a JSON error message with a newline cannot forge a second line", async () => {
      reg.answerWith("/v2/", 403, JSON.stringify({ errors: [{ code: "DENIED", message: `no${FORGED}` }] }));
      await expectError(
        inspectImage(`${reg.host}/team/app:v1`),
        "RegistryError",
        /refused access to manifest "v1" of repository "team\/app" \(HTTP 403: no minimal-image: everything is fine\)/,
      );
    });

    it("the CLI prints one line, and the full text only with MINIMAL_IMAGE_DEBUG=1", async () => {
      reg.answerWith("/v2/", 500, `oops${FORGED}`);
      const quiet = await runCli("inspect", `${reg.host}/team/app:v1`);
      assert.equal(quiet.code, 1);
      assert.equal(quiet.stderr.split("\n").length, 2, quiet.stderr);
      assert.match(
        quiet.stderr,
        /^minimal-image: registry 127\.0\.0\.1:\d+: answered HTTP 500 for manifest "v1" of repository "team\/app": oops minimal-image: everything is fine\. Check/,
      );
      process.env.MINIMAL_IMAGE_DEBUG = "1";
      try {
        const debug = await runCli("inspect", `${reg.host}/team/app:v1`);
        const lines = debug.stderr.split("\n");
        assert.equal(lines.length, 3, debug.stderr);
        assert.equal(lines[1], `minimal-image: debug: the full text was ${JSON.stringify(`oops${FORGED}`)}`);
      } finally {
        delete process.env.MINIMAL_IMAGE_DEBUG;
      }
    });

    it("outsideText", () => {
      assert.equal(outsideText("a\u001b[31mred\u001b[0m\r\nb\tc\u0000d"), "ared b c d");
      assert.equal(outsideText("\u001b]0;title\u0007x\u202eevil\u200b"), "x evil");
      assert.equal(outsideText("line\u2028sep\u0085nel"), "line sep nel");
      assert.equal(outsideText("abcdef", 3), "abc… (3 more characters)");
      assert.equal(
        outsideText("😀😀😀", 2),
        "😀😀… (1 more characters)",
        "cuts between characters, not surrogates",
      );
      assert.equal(outsideText("short", 3000), "short");
    });
  });

  describe("credentials and tokens are never echoed", () => {
    it("a registry.server with userinfo is refused without its password", () => {
      assert.throws(
        () => validateRegistry({ server: `ci:${SECRET}@registry.example` }),
        (err: Error) => {
          assert.equal(err.name, "InputError");
          assert.match(
            err.message,
            /^minimal-image: registry\.server: "\[redacted\]@registry\.example\/probe" is not a valid image reference/,
          );
          assert.ok(!err.message.includes(SECRET));
          return true;
        },
      );
    });

    it("the CLI's inspect of a reference with userinfo prints no password", async () => {
      const result = await runCli("inspect", `ci:${SECRET}@127.0.0.1:1/team/app:v1`);
      assert.equal(result.code, 2, "an input error");
      assert.match(result.stderr, /\[redacted\]@127\.0\.0\.1:1\/team\/app:v1/);
      assert.ok(!`${result.stdout}${result.stderr}`.includes(SECRET));
    });

    it("a token with CRLF is refused without being shown", async () => {
      reg.auth = { kind: "bearer", ...CREDENTIALS };
      reg.intercept = (_req, res, url) => {
        if (url.pathname !== "/token") return false;
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ token: `${SECRET}\r\nX-Injected: 1` }));
        return true;
      };
      await expectError(
        inspectImage(await pushPausle(), CREDENTIALS),
        "RegistryError",
        /answered with a token that is not one word of printable ASCII\. Check/,
      );
    });

    it("a realm with userinfo is refused without it", async () => {
      reg.auth = { kind: "bearer", ...CREDENTIALS, realm: `http://ci:${SECRET}@${reg.host}/token` };
      await expectError(
        inspectImage(await pushPausle(), CREDENTIALS),
        "RegistryError",
        /asked for a token from a realm at http:\/\/127\.0\.0\.1:\d+ that holds a user name or password/,
      );
    });

    const redirects: [string, (host: string) => string, RegExp][] = [
      [
        "file:",
        () => "file:///etc/passwd",
        /redirected manifest "v1" of repository "team\/app" to a file: URL, which is not an http or https address/,
      ],
      ["data:", () => "data:text/plain,hello", /to a data: URL, which is not an http or https address/],
      [
        "userinfo",
        (host) => `http://ci:${SECRET}@${host}/x`,
        /to a URL with a user name or password, which is not/,
      ],
    ];
    for (const [title, location, pattern] of redirects) {
      it(`a redirect to ${title} is refused by name, within 2 s`, async () => {
        reg.intercept = (_req, res) => {
          res.writeHead(307, { location: location(reg.host) }).end();
          return true;
        };
        const started = Date.now();
        await expectError(inspectImage(`${reg.host}/team/app:v1`), "RegistryError", pattern);
        assert.ok(Date.now() - started < 2000);
      });
    }
  });

  describe("input checks", () => {
    for (const port of ["0", "99999"]) {
      it(`refuses registry port ${port}`, async () => {
        await expectError(
          inspectImage(`127.0.0.1:${port}/team/app:v1`),
          "InputError",
          new RegExp(
            `^minimal-image: reference: port ${port} of "127\\.0\\.0\\.1:${port}/team/app:v1" is not a TCP port\\. Use a port from 1 to 65535`,
          ),
        );
      });
    }
  });
});
