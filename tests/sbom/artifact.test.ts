// The SBOM artifact is pure: its bytes, so its digest, depend only on what goes in.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CYCLONEDX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  SBOM_ANNOTATION,
  sbomArtifact,
} from "../../components/sbom/artifact";
import { carrierTag } from "../../components/sbom/carrier";
import { InputError } from "../../components/validation";

const digestOf = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;
const SUBJECT = {
  mediaType: "application/vnd.docker.distribution.manifest.v2+json",
  digest: digestOf("image"),
  size: 528,
};

describe("the SBOM artifact", () => {
  it("is the same bytes for the same SBOM and subject, and another digest for another SBOM", () => {
    const sbom = Buffer.from('{"bomFormat":"CycloneDX"}');
    const first = sbomArtifact(sbom, SUBJECT);
    assert.deepEqual(sbomArtifact(Buffer.from(sbom), { ...SUBJECT }), first);
    assert.equal(first.digest, digestOf(first.manifest.toString()));
    assert.notEqual(
      sbomArtifact(Buffer.from('{"bomFormat":"CycloneDX","x":1}'), SUBJECT).digest,
      first.digest,
    );
    assert.notEqual(sbomArtifact(sbom, { ...SUBJECT, digest: digestOf("other") }).digest, first.digest);
  });

  it("is an OCI image manifest with the artifact type, the empty config, one CycloneDX layer and the subject", () => {
    const sbom = Buffer.from("{}\n");
    const { manifest, descriptor } = sbomArtifact(sbom, SUBJECT);
    assert.deepEqual(JSON.parse(manifest.toString()), {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: CYCLONEDX_MEDIA_TYPE,
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: digestOf("{}"), size: 2 },
      layers: [{ mediaType: CYCLONEDX_MEDIA_TYPE, digest: digestOf("{}\n"), size: 3 }],
      subject: SUBJECT,
      annotations: { [SBOM_ANNOTATION]: "cyclonedx" },
    });
    assert.equal(descriptor.size, manifest.length);
    assert.equal(descriptor.artifactType, CYCLONEDX_MEDIA_TYPE);
  });
});

describe("the SBOM carrier's tag", () => {
  it("is the image's tag with a per-platform suffix, beside it in the repository", () => {
    assert.equal(carrierTag("v1", "linux/amd64"), "v1-sbom-facts-linux-amd64");
  });

  it("refuses a tag too long for the suffix, naming the field and the longest tag that fits", () => {
    assert.throws(
      () => carrierTag("t".repeat(110), "linux/amd64"),
      (error: Error) =>
        error instanceof InputError && /^minimal-image: tag: .*at most 105 characters/.test(error.message),
    );
  });
});
