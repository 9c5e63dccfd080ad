// The carrier image is read back from the registry like any image a hostile registry could serve: only the
// facts folder's regular files are kept, whiteouts apply, and bytes and entries are bounded.
import assert from "node:assert/strict";
import { RegistryClient } from "../../components/oci";
import { readCarrierFacts } from "../../components/sbom/carrier";
import { SbomError } from "../../components/sbom/sbom-error";
import { FakeRegistry, gzipLayer, makeTar, MEDIA } from "../support/fake-registry";

const CONFIG = { architecture: "amd64", os: "linux", rootfs: { type: "layers" } };

describe("reading the SBOM carrier", () => {
  let registry: FakeRegistry;
  before(async () => {
    registry = await new FakeRegistry().start();
  });
  after(() => registry.close());

  async function read(
    layers: { body: Buffer; mediaType?: string }[],
    limits?: { maxBytes: number; maxEntries: number },
  ) {
    const { digest } = registry.putImage("carrier", undefined, layers, CONFIG);
    const client = new RegistryClient(registry.host);
    const { manifest } = await client.resolveImage("carrier", digest);
    return readCarrierFacts(client, "carrier", `${registry.host}/carrier@${digest}`, manifest, limits);
  }

  it("keeps the regular files under /sbom/, keyed relative to it, and nothing else", async () => {
    const facts = await read([
      {
        body: await gzipLayer([
          { name: "sbom/", type: "directory" },
          { name: "sbom/facts.json", content: '{"libc":"musl"}' },
          { name: "sbom/go/modules.txt", content: "mod x v1" },
          { name: "sbom/link", type: "symlink", linkname: "/etc/passwd" },
          { name: "etc/passwd", content: "root:x:0:0" },
        ]),
      },
    ]);
    assert.deepEqual(
      [...facts].map(([key, data]) => [key, data.toString()]),
      [
        ["facts.json", '{"libc":"musl"}'],
        ["go/modules.txt", "mod x v1"],
      ],
    );
  });

  it("applies a later layer's files and whiteouts, in a plain tar too", async () => {
    const facts = await read([
      {
        body: await gzipLayer([
          { name: "sbom/a", content: "1" },
          { name: "sbom/ab", content: "2" },
          { name: "sbom/d/x", content: "3" },
        ]),
      },
      {
        body: await makeTar([
          { name: "sbom/.wh.a" },
          { name: "sbom/d/.wh..wh..opq" },
          { name: "sbom/c", content: "4" },
        ]),
        mediaType: MEDIA.ociTar,
      },
    ]);
    assert.deepEqual([...facts.keys()].sort(), ["ab", "c"]);
  });

  it("fails, naming the image and the fix, past the byte or entry bound, on zstd, or without facts", async () => {
    const many = await gzipLayer(
      Array.from({ length: 20 }, (_, i) => ({ name: `sbom/f${i}`, content: "x" })),
    );
    await assert.rejects(
      read([{ body: many }], { maxBytes: 1024 ** 2, maxEntries: 10 }),
      (error: Error) =>
        error instanceof SbomError &&
        /carrier@sha256:.*more than 10 entries.*Check that the carrier tag/.test(error.message),
    );
    await assert.rejects(read([{ body: many }], { maxBytes: 4096, maxEntries: 100 }), /more than 4096 bytes/);
    await assert.rejects(
      read([{ body: many, mediaType: MEDIA.ociZstd }]),
      /a layer of type .*zstd, not a gzip or plain tar/,
    );
    await assert.rejects(
      read([{ body: await gzipLayer([{ name: "app", content: "x" }]) }]),
      (error: Error) =>
        error instanceof SbomError &&
        /holds no files under \/sbom\/. Build the carrier from/.test(error.message),
    );
  });
});
