import { strict as assert } from "node:assert";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { parsePlatform } from "../../components/platform";
import { isLoopbackRegistry } from "../../components/registry";
import { RegistryClient, RegistryError, type RegistryOptions } from "../../components/oci";
import { basic, FakeRegistry, MEDIA, sha256 } from "../support/fake-registry";

const SECRET = "s3cret-Pa55";

async function rejects(promise: Promise<unknown>, pattern: RegExp, status?: number): Promise<RegistryError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof RegistryError, `expected a RegistryError, got ${String(err)}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes(SECRET), "the message must not contain the password");
    if (status !== undefined) assert.equal(err.status, status);
    return err;
  }
  assert.fail(`expected a RegistryError matching ${pattern}`);
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("inspect/registry", () => {
  let reg: FakeRegistry;
  let image: ReturnType<FakeRegistry["putImage"]>;
  const layer = Buffer.from("not really a layer, but bytes with a digest");

  beforeEach(async () => {
    reg = await new FakeRegistry().start();
    image = reg.putImage("team/app", "v1", [{ body: layer }], { architecture: "amd64", os: "linux" });
  });
  afterEach(() => reg.close());

  const client = (options: RegistryOptions = {}) => new RegistryClient(reg.host, options);

  describe("manifests and blobs", () => {
    it("resolves a tag to the manifest and its digest (sha256 of the bytes served)", async () => {
      const got = await client().resolveImage("team/app", "v1");
      assert.equal(got.digest, sha256(image.body));
      assert.equal(got.manifestDigest, got.digest);
      assert.equal(got.manifest.layers[0].size, layer.length);
      assert.equal(
        reg.seen[0].url,
        "/v2/team/app/manifests/v1",
        "asks for the tag under /v2/<repository>/manifests/",
      );
    });

    it("resolves a pinned digest, and refuses bytes that do not hash to it", async () => {
      const got = await client().resolveImage("team/app", image.digest);
      assert.equal(got.digest, image.digest);
      const stored = reg.manifests.get(`team/app@${image.digest}`)!;
      stored.body = Buffer.from(stored.body.toString().replace('"schemaVersion": 2', '"schemaVersion":  2'));
      await rejects(
        client().resolveImage("team/app", image.digest),
        /has digest sha256:[a-f0-9]{64}, not the sha256:/,
      );
    });

    it("sends the Accept header for all four manifest types", async () => {
      let accept = "";
      const server = http.createServer((req, res) => {
        accept = req.headers.accept ?? "";
        res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const port = (server.address() as AddressInfo).port;
      await rejects(new RegistryClient(`127.0.0.1:${port}`).resolveImage("a", "b"), /has no manifest/, 404);
      server.close();
      for (const type of [MEDIA.dockerManifest, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.ociIndex]) {
        assert.ok(accept.includes(type), `Accept lacks ${type}: ${accept}`);
      }
    });

    it("streams a blob through a redirect to another origin, without sending credentials there", async () => {
      reg.auth = { kind: "basic", username: "u", password: SECRET };
      const c = client({ username: "u", password: SECRET });
      const got = await c.resolveImage("team/app", "v1");
      const bytes = await readAll(await c.openBlob("team/app", got.manifest.layers[0]));
      assert.deepEqual(bytes, layer);
      assert.equal(reg.storageSeen.length, 1);
      assert.equal(reg.storageSeen[0].authorization, undefined);
      assert.equal(reg.seen.at(-1)!.authorization, basic("u", SECRET));
    });

    it("fails a blob stream whose bytes do not match the digest", async () => {
      const got = await client().resolveImage("team/app", "v1");
      reg.blobs.set(got.manifest.layers[0].digest, Buffer.from(layer).fill(0x41, 0, 4));
      const stream = await client().openBlob("team/app", got.manifest.layers[0]);
      await rejects(readAll(stream), /arrived as \d+ bytes with digest sha256:[a-f0-9]+, expected/);
    });

    it("fails a blob stream longer than the manifest says, without reading it all", async () => {
      const got = await client().resolveImage("team/app", "v1");
      reg.blobs.set(got.manifest.layers[0].digest, Buffer.concat([layer, Buffer.alloc(1_000_000)]));
      const stream = await client().openBlob("team/app", got.manifest.layers[0]);
      await rejects(readAll(stream), /is larger than the \d+ bytes the manifest says/);
    });

    it("refuses a manifest whose descriptors are not digests, before using them in a URL", async () => {
      const layers = [{ mediaType: MEDIA.dockerLayer, digest: "../../../v2/_catalog", size: 1 }];
      const config = { mediaType: MEDIA.dockerConfig, digest: sha256("{}"), size: 2 };
      reg.putManifest(
        "team/app",
        { schemaVersion: 2, mediaType: MEDIA.dockerManifest, config, layers },
        MEDIA.dockerManifest,
        "bad",
      );
      await rejects(
        client().resolveImage("team/app", "bad"),
        /manifest sha256:[a-f0-9]{64} of repository "team\/app" is not a valid image manifest or index/,
      );
    });

    it("reads and checks a JSON config blob", async () => {
      const got = await client().resolveImage("team/app", "v1");
      assert.deepEqual(await client().fetchJsonBlob("team/app", got.manifest.config), {
        architecture: "amd64",
        os: "linux",
      });
    });
  });

  describe("indexes", () => {
    let index: { digest: string };
    let platformDigests: { arm: string; amd: string };
    beforeEach(() => {
      const arm = reg.putImage(
        "multi/app",
        undefined,
        [{ body: Buffer.from("arm layer") }],
        { architecture: "arm64", os: "linux" },
        MEDIA.ociManifest,
      );
      const amd = reg.putImage(
        "multi/app",
        undefined,
        [{ body: Buffer.from("amd layer") }],
        { architecture: "amd64", os: "linux" },
        MEDIA.ociManifest,
      );
      const att = reg.putImage(
        "multi/app",
        undefined,
        [{ body: Buffer.from("in-toto") }],
        {},
        MEDIA.ociManifest,
      );
      const entry = (m: { digest: string; body: Buffer }, platform: object, annotations?: object) => ({
        mediaType: MEDIA.ociManifest,
        digest: m.digest,
        size: m.body.length,
        platform,
        ...(annotations ? { annotations } : {}),
      });
      index = reg.putManifest(
        "multi/app",
        {
          schemaVersion: 2,
          mediaType: MEDIA.ociIndex,
          manifests: [
            // Listed first and labelled with a real platform: only the annotation marks it as an attestation.
            entry(
              att,
              { os: "linux", architecture: "amd64" },
              {
                "vnd.docker.reference.type": "attestation-manifest",
                "vnd.docker.reference.digest": amd.digest,
              },
            ),
            entry(att, { os: "unknown", architecture: "unknown" }),
            entry(arm, { os: "linux", architecture: "arm64", variant: "v8" }),
            entry(amd, { os: "linux", architecture: "amd64" }),
          ],
        },
        MEDIA.ociIndex,
        "v1",
      );
      platformDigests = { arm: arm.digest, amd: amd.digest };
    });

    it("picks the default platform (linux/amd64, whatever machine asks) by default, skipping attestation entries", async () => {
      const got = await client().resolveImage("multi/app", "v1");
      assert.equal(got.digest, index.digest, "the digest is the index's: what the reference names");
      assert.equal(got.manifestDigest, platformDigests.amd);
    });

    it("picks the requested platform; arm64 matches arm64/v8", async () => {
      assert.equal(
        (await client().resolveImage("multi/app", "v1", parsePlatform("linux/arm64"))).manifestDigest,
        platformDigests.arm,
      );
      assert.equal(
        (await client().resolveImage("multi/app", "v1", parsePlatform("linux/arm64/v8"))).manifestDigest,
        platformDigests.arm,
      );
      assert.equal(
        (await client().resolveImage("multi/app", index.digest, parsePlatform("linux/amd64"))).manifestDigest,
        platformDigests.amd,
      );
    });

    it("lists the available platforms when none matches (attestations not among them)", async () => {
      await rejects(
        client().resolveImage("multi/app", "v1", parsePlatform("linux/riscv64")),
        /has no image for platform linux\/riscv64 \(available: linux\/arm64\/v8, linux\/amd64\)\. Set platform/,
      );
    });
  });

  describe("authentication", () => {
    describe("basic", () => {
      beforeEach(() => (reg.auth = { kind: "basic", username: "alice", password: SECRET }));

      it("works with the right credentials", async () => {
        const got = await client({ username: "alice", password: SECRET }).resolveImage("team/app", "v1");
        assert.equal(got.digest, image.digest);
      });

      it("without credentials: says to set them", async () => {
        await rejects(
          client().resolveImage("team/app", "v1"),
          new RegExp(`registry ${reg.host}: needs credentials .*Set registry.username and registry.password`),
          401,
        );
      });

      it("with a wrong password: names the user, never the password", async () => {
        await rejects(
          client({ username: "alice", password: `${SECRET}x` }).resolveImage("team/app", "v1"),
          /rejected the credentials for user "alice"\. Check registry.username and registry.password/,
          401,
        );
      });
    });

    describe("bearer token", () => {
      beforeEach(() => (reg.auth = { kind: "bearer", username: "bob", password: SECRET }));

      it("gets a token with basic credentials and reuses it for blobs", async () => {
        const c = client({ username: "bob", password: SECRET });
        const got = await c.resolveImage("team/app", "v1");
        await readAll(await c.openBlob("team/app", got.manifest.layers[0]));
        const tokenCalls = reg.seen.filter((r) => r.url.startsWith("/token"));
        assert.equal(tokenCalls.length, 1);
        assert.equal(tokenCalls[0].authorization, basic("bob", SECRET));
        assert.match(tokenCalls[0].url, /service=fake&scope=repository%3Ateam%2Fapp%3Apull/);
        assert.match(reg.seen.at(-1)!.authorization ?? "", /^Bearer t-0-/);
      });

      it("without credentials: says to set them", async () => {
        await rejects(
          client().resolveImage("team/app", "v1"),
          /needs credentials to read repository "team\/app"/,
          401,
        );
      });

      it("with a wrong password: names the user", async () => {
        await rejects(
          client({ username: "bob", password: "wrong" }).resolveImage("team/app", "v1"),
          /rejected the credentials for user "bob"/,
          401,
        );
      });

      it("anonymous tokens work for public repositories", async () => {
        reg.auth = { kind: "bearer", username: "bob", password: SECRET, anonymous: true };
        assert.equal((await client().resolveImage("team/app", "v1")).digest, image.digest);
        assert.equal(reg.seen.find((r) => r.url.startsWith("/token"))!.authorization, undefined);
      });

      it("a user without pull access is told so", async () => {
        reg.auth = { kind: "bearer", username: "bob", password: SECRET, grantScope: false };
        await rejects(
          client({ username: "bob", password: SECRET }).resolveImage("team/app", "v1"),
          /accepted user "bob" but denied access to repository "team\/app"/,
          401,
        );
      });
    });
  });

  describe("not found", () => {
    it("unknown repository", async () => {
      await rejects(
        client().resolveImage("nope/app", "v1"),
        /has no repository "nope\/app"\. Check the image reference/,
        404,
      );
    });

    it("unknown tag", async () => {
      await rejects(
        client().resolveImage("team/app", "v2"),
        /has no manifest "v2" of repository "team\/app" \(MANIFEST_UNKNOWN\)/,
        404,
      );
    });

    it("unknown digest", async () => {
      const digest = sha256("nothing");
      await rejects(
        client().resolveImage("team/app", digest),
        new RegExp(`has no manifest "${digest}"`),
        404,
      );
    });

    it("unknown blob", async () => {
      const got = await client().resolveImage("team/app", "v1");
      reg.blobs.clear();
      await rejects(
        client().openBlob("team/app", got.manifest.layers[0]),
        /has no blob sha256:[a-f0-9]{64} of repository "team\/app" \(BLOB_UNKNOWN\)/,
        404,
      );
    });
  });

  describe("unreachable registries", () => {
    it("connection refused", async () => {
      const host = reg.host;
      await reg.close();
      await rejects(
        new RegistryClient(host).resolveImage("team/app", "v1"),
        new RegExp(
          `registry ${host}: is unreachable at http://${host}: connection refused\\. Check that the registry is running`,
        ),
      );
      reg = await new FakeRegistry().start();
    });

    it("unknown host", async () => {
      await rejects(
        new RegistryClient("no-such-registry.invalid:5000", {
          plainHttp: true,
          timeoutMs: 10_000,
        }).resolveImage("a", "b"),
        /registry no-such-registry\.invalid:5000: is unreachable at http:\/\/no-such-registry\.invalid:5000: host no-such-registry\.invalid not found \(DNS\)/,
      );
    });

    it("https against a plain-http registry suggests plainHttp", async () => {
      await rejects(
        client({ plainHttp: false }).resolveImage("team/app", "v1"),
        /TLS handshake failed .*set plainHttp: true/,
      );
    });

    it("a registry that stops in the middle of a body times out", async () => {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { "content-type": MEDIA.ociManifest });
        res.write("{");
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        await rejects(
          new RegistryClient(host, { timeoutMs: 300 }).resolveImage("a", "b"),
          /sent nothing for 0\.3 s while serving manifest "b" of repository "a"\. Check the registry's health/,
        );
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });

    it("a registry that never answers times out with the figure", async () => {
      reg.hang = /manifests/;
      await rejects(
        client({ timeoutMs: 300 }).resolveImage("team/app", "v1"),
        /sent nothing for 0\.3 s while serving manifest "v1"/,
      );
    });
  });

  describe("addresses", () => {
    const realFetch = globalThis.fetch;
    let urls: string[];
    beforeEach(() => {
      urls = [];
      globalThis.fetch = (async (input: URL | string) => {
        urls.push(String(input));
        throw new TypeError("fetch failed", { cause: { code: "ECONNREFUSED" } });
      }) as typeof fetch;
    });
    afterEach(() => (globalThis.fetch = realFetch));

    const firstUrl = async (registry: string, options?: RegistryOptions) => {
      await new RegistryClient(registry, options).resolveImage("library/alpine", "3").catch(() => undefined);
      return urls[0];
    };

    it("maps docker.io to registry-1.docker.io over https", async () => {
      assert.equal(await firstUrl("docker.io"), "https://registry-1.docker.io/v2/library/alpine/manifests/3");
    });

    it("uses http for loopback hosts, https otherwise, and obeys plainHttp", async () => {
      assert.match(await firstUrl("localhost:5000"), /^http:\/\/localhost:5000\//);
      urls = [];
      assert.match(await firstUrl("127.0.0.2"), /^http:\/\/127\.0\.0\.2\//);
      urls = [];
      assert.match(await firstUrl("[::1]:5000"), /^http:\/\/\[::1\]:5000\//);
      urls = [];
      assert.match(await firstUrl("registry.example:5000"), /^https:\/\//);
      urls = [];
      assert.match(await firstUrl("registry.example:5000", { plainHttp: true }), /^http:\/\//);
      urls = [];
      assert.match(await firstUrl("127.0.0.1:5000", { plainHttp: false }), /^https:\/\//);
    });

    it("isLoopbackRegistry", () => {
      for (const host of [
        "localhost",
        "localhost:5000",
        "127.0.0.1",
        "127.1.2.3:80",
        "[::1]",
        "[::1]:5000",
      ]) {
        assert.equal(isLoopbackRegistry(host), true, host);
      }
      for (const host of [
        "docker.io",
        "127.0.0.1.nip.io",
        "localhost.example",
        "[::2]:5000",
        "10.0.0.1:5000",
      ]) {
        assert.equal(isLoopbackRegistry(host), false, host);
      }
    });
  });

  it("parsePlatform", () => {
    assert.deepEqual(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v7" });
    assert.deepEqual(parsePlatform("linux/amd64"), { os: "linux", architecture: "amd64" });
    assert.throws(() => parsePlatform("amd64"), {
      name: "InputError",
      message: /platform: "amd64" is not a platform/,
    });
  });
});
