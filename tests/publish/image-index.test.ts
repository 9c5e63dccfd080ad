import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { imageIndexBytes, OCI_INDEX_MEDIA_TYPE, platformTag } from "../../components/publish";
import { InputError } from "../../components/validation";

const AMD64 = { platform: "linux/amd64", digest: `sha256:${"a".repeat(64)}`, size: 482 };
const ARM64 = { platform: "linux/arm64", digest: `sha256:${"b".repeat(64)}`, size: 483 };
const MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";

describe("publish: the image index", () => {
  it("lists each platform's manifest by digest, with its platform, in the order given", () => {
    const bytes = imageIndexBytes([
      { ...AMD64, mediaType: MANIFEST },
      { ...ARM64, mediaType: MANIFEST },
    ]);
    assert.deepEqual(JSON.parse(bytes.toString()), {
      schemaVersion: 2,
      mediaType: OCI_INDEX_MEDIA_TYPE,
      manifests: [
        {
          mediaType: MANIFEST,
          digest: AMD64.digest,
          size: 482,
          platform: { architecture: "amd64", os: "linux" },
        },
        {
          mediaType: MANIFEST,
          digest: ARM64.digest,
          size: 483,
          platform: { architecture: "arm64", os: "linux" },
        },
      ],
    });
  });

  it("is the same bytes, so the same digest, for the same images: a second run pushes nothing new", () => {
    const digest = () =>
      createHash("sha256")
        .update(
          imageIndexBytes([
            { ...ARM64, mediaType: MANIFEST },
            { ...AMD64, mediaType: MANIFEST },
          ]),
        )
        .digest("hex");
    assert.equal(digest(), digest());
    // Pinned: a change of layout changes every pushed index's digest, and so every replica's generation.
    assert.equal(
      imageIndexBytes([{ ...AMD64, mediaType: MANIFEST }]).toString(),
      `{"schemaVersion":2,"mediaType":"${OCI_INDEX_MEDIA_TYPE}","manifests":[{"mediaType":"${MANIFEST}","digest":"${AMD64.digest}","size":482,"platform":{"architecture":"amd64","os":"linux"}}]}`,
    );
  });

  it("keeps a variant, and refuses a descriptor that is not one", () => {
    const [entry] = JSON.parse(
      imageIndexBytes([{ ...AMD64, platform: "linux/arm/v7", mediaType: MANIFEST }]).toString(),
    ).manifests;
    assert.deepEqual(entry.platform, { architecture: "arm", os: "linux", variant: "v7" });
    assert.throws(
      () => imageIndexBytes([{ ...AMD64, digest: "sha256:abc", mediaType: MANIFEST }]),
      /linux\/amd64/,
    );
    assert.throws(() => imageIndexBytes([{ ...AMD64, size: -1, mediaType: MANIFEST }]), /linux\/amd64/);
  });

  it("tags each platform's image <tag>-<os>-<arch>, refusing a tag too long to derive one", () => {
    assert.equal(platformTag("v1", "linux/arm64"), "v1-linux-arm64");
    assert.throws(
      () => platformTag("t".repeat(120), "linux/arm64"),
      (e: InputError) => e.field === "tag" && /shorten the tag/.test(e.message),
    );
  });
});
