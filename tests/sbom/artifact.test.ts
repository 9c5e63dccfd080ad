// The SBOM artifact and the fallback referrers index are pure: their bytes, so their digests, depend only on
// what goes in; a merge keeps what other tools attached, so a second attachment writes nothing new.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import {
  CYCLONEDX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  type ReferrerDescriptor,
  SBOM_ANNOTATION,
  sbomArtifact,
} from "../../components/sbom/artifact";
import { carrierName, carrierTag } from "../../components/sbom/carrier";
import {
  fallbackTag,
  listReferrers,
  mergeReferrers,
  recordReferrer,
  referrerEntries,
} from "../../components/sbom/referrers";
import { type RegistryClient, RegistryError } from "../../components/oci";
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

describe("the fallback referrers index", () => {
  const ours = (text: string): ReferrerDescriptor => sbomArtifact(Buffer.from(text), SUBJECT).descriptor;
  const signature: ReferrerDescriptor = {
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    digest: digestOf("signature"),
    size: 400,
    artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
  };
  const theirSbom: ReferrerDescriptor = {
    ...signature,
    digest: digestOf("their sbom"),
    artifactType: CYCLONEDX_MEDIA_TYPE,
  };

  it("is tagged sha256-<hex of the subject>", () => {
    assert.equal(fallbackTag(SUBJECT.digest), `sha256-${SUBJECT.digest.slice(7)}`);
  });

  it("keeps other referrers, replaces an SBOM minimal-image attached before, and lists each digest once", () => {
    const added = ours("new");
    const merged = JSON.parse(mergeReferrers([signature, ours("old"), theirSbom, added], added).toString());
    assert.equal(merged.mediaType, "application/vnd.oci.image.index.v1+json");
    assert.deepEqual(
      merged.manifests.map((m: ReferrerDescriptor) => m.digest),
      [signature.digest, theirSbom.digest, added.digest].sort(),
    );
  });

  it("gives the same bytes whatever order the registry listed the entries in", () => {
    const added = ours("new");
    assert.deepEqual(
      mergeReferrers([signature, theirSbom], added),
      mergeReferrers([theirSbom, signature], added),
    );
    const once = mergeReferrers([signature], added);
    assert.deepEqual(mergeReferrers(JSON.parse(once.toString()).manifests, added), once);
  });

  it("refuses an index a registry serves malformed, naming it", () => {
    assert.throws(
      () =>
        referrerEntries(
          { manifests: [{ digest: "sha256:nothex", size: 1 }] },
          "the referrers index x",
          "r:5000",
        ),
      (error: Error) =>
        error instanceof RegistryError &&
        /registry r:5000: the referrers index x is not a valid OCI index: manifests\[0\]/.test(error.message),
    );
    assert.throws(() => referrerEntries("text", "the referrers index x", "r:5000"), RegistryError);
  });
});

describe("the SBOM carrier's name", () => {
  it("is the image's push name with the carrier's tag", () => {
    assert.equal(
      carrierName("127.0.0.1:5000/team/app:v1", "linux/arm64"),
      "127.0.0.1:5000/team/app:v1-sbom-facts-linux-arm64",
    );
  });
});

describe("recording and listing referrers", () => {
  const artifact = sbomArtifact(Buffer.from("{}"), SUBJECT);
  const signature = { mediaType: OCI_MANIFEST_MEDIA_TYPE, digest: digestOf("signature"), size: 400 };
  const index = (manifests: object[]) => ({ schemaVersion: 2, manifests });

  /** A client whose referrers API answers `api` (undefined: none) and whose fallback tag holds `tagged`. */
  function client(api: object | undefined, tagged: object | undefined) {
    const puts: { reference: string; json: unknown }[] = [];
    const stub = {
      registry: "r:5000",
      fetchReferrers: async () => api,
      fetchManifest: async (_repository: string, reference: string) => {
        if (tagged === undefined || reference !== fallbackTag(SUBJECT.digest))
          throw new RegistryError("r:5000", "has no manifest", "Push it", 404);
        return { json: tagged };
      },
      putManifest: async (_repository: string, reference: string, bytes: Buffer) => {
        puts.push({ reference, json: JSON.parse(bytes.toString()) });
        return digestOf(bytes.toString());
      },
    };
    return { client: stub as unknown as RegistryClient, puts };
  }

  it("writes nothing more when the registry's referrers API lists the artifact", async () => {
    const { client: api, puts } = client(index([artifact.descriptor]), undefined);
    assert.equal(await recordReferrer(api, "app", SUBJECT.digest, artifact), "referrers API");
    assert.deepEqual(puts, []);
    assert.deepEqual(await listReferrers(api, "app", SUBJECT.digest), {
      entries: [artifact.descriptor],
      mechanism: "referrers API",
    });
  });

  it("without the API, merges into the fallback tag's index, or starts one", async () => {
    const existing = client(undefined, index([signature]));
    assert.equal(await recordReferrer(existing.client, "app", SUBJECT.digest, artifact), "fallback tag");
    assert.deepEqual(existing.puts, [
      {
        reference: fallbackTag(SUBJECT.digest),
        json: JSON.parse(mergeReferrers([signature], artifact.descriptor).toString()),
      },
    ]);
    const fresh = client(undefined, undefined);
    await recordReferrer(fresh.client, "app", SUBJECT.digest, artifact);
    assert.deepEqual((fresh.puts[0].json as { manifests: unknown[] }).manifests, [artifact.descriptor]);
    assert.deepEqual(await listReferrers(fresh.client, "app", SUBJECT.digest), {
      entries: [],
      mechanism: "fallback tag",
    });
  });
});
