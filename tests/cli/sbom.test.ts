// `minimal-image sbom` against a fake registry without the referrers API: an index needs --platform when it
// has several images, the SBOM is found through the fallback tag, and what a hostile registry serves is
// bounded and checked before a byte is printed.
import assert from "node:assert/strict";
import { sbomArtifact } from "../../components/sbom/artifact";
import { fallbackTag, mergeReferrers } from "../../components/sbom/referrers";
import { runCli } from "../support/capture";
import { FakeRegistry, gzipLayer, MEDIA } from "../support/fake-registry";

const CONFIG = { architecture: "amd64", os: "linux", rootfs: { type: "layers" } };
const DOCUMENT = Buffer.from('{"bomFormat":"CycloneDX","specVersion":"1.6"}\n');

describe("minimal-image sbom", () => {
  let registry: FakeRegistry;
  let amd64: { digest: string; body: Buffer };
  let arm64: { digest: string; body: Buffer };

  /** Attaches `document` to the image `digest` as the component does on a registry without the referrers API. */
  function attach(
    repository: string,
    subject: { digest: string; body: Buffer },
    document: Buffer,
    size?: number,
  ) {
    const artifact = sbomArtifact(document, {
      mediaType: MEDIA.dockerManifest,
      digest: subject.digest,
      size: subject.body.length,
    });
    const manifest = JSON.parse(artifact.manifest.toString());
    if (size !== undefined) manifest.layers[0].size = size;
    registry.addBlob(document, manifest.layers[0].mediaType);
    const stored = registry.putManifest(repository, manifest, manifest.mediaType);
    const descriptor = { ...artifact.descriptor, digest: stored.digest, size: stored.body.length };
    registry.putManifest(
      repository,
      JSON.parse(mergeReferrers([], descriptor).toString()),
      MEDIA.ociIndex,
      fallbackTag(subject.digest),
    );
  }

  before(async () => {
    registry = await new FakeRegistry().start();
    const layer = await gzipLayer([{ name: "app", content: "binary" }]);
    amd64 = registry.putImage("multi", "amd64", [{ body: layer }], CONFIG);
    arm64 = registry.putImage("multi", "arm64", [{ body: layer }], { ...CONFIG, architecture: "arm64" });
    const entry = (image: { digest: string; body: Buffer }, architecture: string) => ({
      mediaType: MEDIA.dockerManifest,
      digest: image.digest,
      size: image.body.length,
      platform: { os: "linux", architecture },
    });
    registry.putManifest(
      "multi",
      {
        schemaVersion: 2,
        mediaType: MEDIA.ociIndex,
        manifests: [entry(amd64, "amd64"), entry(arm64, "arm64")],
      },
      MEDIA.ociIndex,
      "latest",
    );
    attach("multi", arm64, DOCUMENT);
  });
  after(() => registry.close());

  it("prints the SBOM of the platform --platform picks from an index, byte for byte", async () => {
    const { code, stdout, stderr } = await runCli(
      "sbom",
      `${registry.host}/multi:latest`,
      "--platform",
      "linux/arm64",
    );
    assert.deepEqual([code, stderr], [0, ""]);
    assert.equal(stdout, DOCUMENT.toString());
  });

  it("asks for --platform, listing the platforms, when an index has several", async () => {
    const { code, stderr } = await runCli("sbom", `${registry.host}/multi:latest`);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /<image-ref> names an index of several platforms \(linux\/amd64, linux\/arm64\), each with its own SBOM\. Give --platform with one of: linux\/amd64, linux\/arm64/,
    );
    const absent = await runCli("sbom", `${registry.host}/multi:latest`, "--platform", "linux/s390x");
    assert.match(
      absent.stderr,
      /the index has no image for --platform linux\/s390x \(it has: linux\/amd64, linux\/arm64\)/,
    );
  });

  it("says an image has none attached, with the fix, and exits 1", async () => {
    const { code, stderr, stdout } = await runCli("sbom", `${registry.host}/multi@${amd64.digest}`);
    assert.deepEqual([code, stdout], [1, ""]);
    assert.match(
      stderr,
      /has no CycloneDX SBOM attached \(looked up through the fallback tag\)\. Deploy it with minimal-image's component/,
    );
  });

  it("refuses a document over the size bound, or whose bytes are not the digest named, printing nothing", async () => {
    const layer = await gzipLayer([{ name: "app", content: "huge" }]);
    const huge = registry.putImage("hostile", "huge", [{ body: layer }], CONFIG);
    attach("hostile", huge, DOCUMENT, 17 * 1024 ** 2);
    const over = await runCli("sbom", `${registry.host}/hostile:huge`);
    assert.equal(over.stdout, "");
    assert.match(over.stderr, /says its document is 17825792 bytes, more than 16777216/);
    const forged = registry.putImage(
      "hostile",
      "forged",
      [{ body: await gzipLayer([{ name: "app", content: "forged" }]) }],
      CONFIG,
    );
    attach("hostile", forged, DOCUMENT);
    // The registry now serves other bytes under the document's digest.
    const digest = [...registry.blobs].find(([, body]) => body.equals(DOCUMENT))![0];
    registry.blobs.set(digest, Buffer.from('{"bomFormat":"CycloneDX","forged":1}\n'));
    const bad = await runCli("sbom", `${registry.host}/hostile:forged`);
    registry.blobs.set(digest, DOCUMENT);
    assert.equal(bad.stdout, "");
    assert.match(bad.stderr, /registry .*: blob sha256:.* (is larger than|arrived as)/);
  });
});
