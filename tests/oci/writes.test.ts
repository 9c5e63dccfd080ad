import { strict as assert } from "node:assert";
import { createHash } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { RegistryClient, RegistryError } from "../../components/oci";
import { TestRegistry } from "../support/registry";
import { uniqueName } from "../support/env";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const EMPTY = "application/vnd.oci.empty.v1+json";

function digestOf(bytes: Buffer): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** An OCI manifest of one small layer, as bytes, and the blobs it refers to. */
function artifact(text: string): { manifest: Buffer; config: Buffer; layer: Buffer } {
  const config = Buffer.from("{}");
  const layer = Buffer.from(text);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "text/plain",
      config: { mediaType: EMPTY, digest: digestOf(config), size: config.length },
      layers: [{ mediaType: "text/plain", digest: digestOf(layer), size: layer.length }],
    }),
  );
  return { manifest, config, layer };
}

describe("registry writes: blobs and manifests", () => {
  const password = `pw-${createHash("sha256").update(String(Math.random())).digest("hex").slice(0, 12)}`;
  let open: TestRegistry;
  let locked: TestRegistry;

  before(async function () {
    this.timeout(60_000);
    open = await TestRegistry.start();
    locked = await TestRegistry.start({ username: "pusher", password });
  });
  after(async () => {
    await open?.remove();
    await locked?.remove();
  });

  it("puts blobs and a manifest that read back by tag and digest, and skips a blob it has @integration", async () => {
    const client = new RegistryClient(open.host);
    const repository = uniqueName("writes");
    const { manifest, config, layer } = artifact("hello");
    assert.equal(await client.putBlob(repository, config), digestOf(config));
    assert.equal(await client.putBlob(repository, layer), digestOf(layer));
    // A second put of the same bytes asks (HEAD) and uploads nothing.
    assert.equal(await client.putBlob(repository, layer), digestOf(layer));
    const digest = await client.putManifest(repository, "v1", manifest, OCI_MANIFEST);
    assert.equal(digest, digestOf(manifest));
    const byTag = await client.fetchManifest(repository, "v1");
    assert.deepEqual(
      { digest: byTag.digest, mediaType: byTag.mediaType, size: byTag.size },
      { digest, mediaType: OCI_MANIFEST, size: manifest.length },
    );
    assert.ok(byTag.bytes.equals(manifest));
    const byDigest = await client.fetchManifest(repository, digest);
    assert.equal(byDigest.digest, digest);
  });

  it("refuses to put a manifest under a digest that is not its own, before sending it", async () => {
    const client = new RegistryClient("127.0.0.1:9");
    const { manifest } = artifact("x");
    await assert.rejects(
      client.putManifest("r", `sha256:${"1".repeat(64)}`, manifest, OCI_MANIFEST),
      /cannot be put: its bytes have digest sha256:[0-9a-f]{64}/,
    );
  });

  it("pushes with Basic credentials, and names push access when they are missing or wrong @integration", async () => {
    const repository = uniqueName("writes-auth");
    const { manifest, config, layer } = artifact("secret-free");
    const client = new RegistryClient(locked.host, { username: "pusher", password });
    await client.putBlob(repository, config);
    await client.putBlob(repository, layer);
    assert.equal(await client.putManifest(repository, "v1", manifest, OCI_MANIFEST), digestOf(manifest));

    const anonymous = new RegistryClient(locked.host);
    await assert.rejects(anonymous.putBlob(repository, Buffer.from("new")), (err: RegistryError) => {
      assert.match(err.message, /needs credentials to push to repository/);
      return true;
    });
    const wrong = new RegistryClient(locked.host, { username: "pusher", password: "not-it" });
    await assert.rejects(
      wrong.putManifest(repository, "v2", manifest, OCI_MANIFEST),
      (err: RegistryError) => {
        assert.match(err.message, /rejected the credentials for user "pusher"/);
        assert.ok(!err.message.includes(password) && !err.message.includes("not-it"));
        return true;
      },
    );
  });

  it("refuses an upload location on another origin, so the credentials stay with the registry", async () => {
    const seen: string[] = [];
    const server = http.createServer((request, response) => {
      seen.push(`${request.method} ${request.url}`);
      if (request.method === "HEAD") response.writeHead(404).end();
      else response.writeHead(202, { location: "http://198.51.100.7/upload/1" }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const client = new RegistryClient(`127.0.0.1:${port}`, { username: "u", password: "p" });
      await assert.rejects(
        client.putBlob("r", Buffer.from("x")),
        /handed out http:\/\/198\.51\.100\.7 for blob .*another origin.*credentials are sent only to the registry itself/,
      );
      assert.deepEqual(seen, [`HEAD /v2/r/blobs/${digestOf(Buffer.from("x"))}`, "POST /v2/r/blobs/uploads/"]);
    } finally {
      server.close();
    }
  });

  it("fails when the registry names another digest for what it stored", async () => {
    const server = http.createServer((request, response) => {
      request.resume();
      response.writeHead(201, { "docker-content-digest": `sha256:${"2".repeat(64)}` }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const client = new RegistryClient(`127.0.0.1:${port}`);
      await assert.rejects(
        client.putManifest("r", "v1", artifact("y").manifest, OCI_MANIFEST),
        /stored manifest "v1" of repository "r" as sha256:2{64}, not as the sha256:[0-9a-f]{64} sent/,
      );
    } finally {
      server.close();
    }
  });
});
