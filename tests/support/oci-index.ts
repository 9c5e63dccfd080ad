import { createHash } from "node:crypto";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const MANIFESTS = [
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
].join(", ");

/**
 * Puts an OCI image index under `repository:tag` of a plain-http registry, listing images already pushed
 * to that repository under `images`' tags, each with its platform. The docker CLI here has no buildx, and
 * no registry write is in the package yet: this one PUT is the test's own. Returns the index's digest.
 */
export async function putIndex(
  registry: string,
  repository: string,
  tag: string,
  images: { tag: string; platform: { os: string; architecture: string } }[],
): Promise<string> {
  const base = `http://${registry}/v2/${repository}/manifests`;
  const manifests = [];
  for (const image of images) {
    const answer = await fetch(`${base}/${image.tag}`, {
      headers: { accept: MANIFESTS },
      signal: AbortSignal.timeout(30_000),
    });
    if (!answer.ok) throw new Error(`putIndex: GET ${base}/${image.tag} answered ${answer.status}`);
    const body = Buffer.from(await answer.arrayBuffer());
    manifests.push({
      mediaType: answer.headers.get("content-type"),
      digest: `sha256:${createHash("sha256").update(body).digest("hex")}`,
      size: body.length,
      platform: image.platform,
    });
  }
  const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests }));
  const put = await fetch(`${base}/${tag}`, {
    method: "PUT",
    headers: { "content-type": OCI_INDEX },
    body: index,
    signal: AbortSignal.timeout(30_000),
  });
  if (put.status !== 201) throw new Error(`putIndex: PUT ${base}/${tag} answered ${put.status}`);
  return `sha256:${createHash("sha256").update(index).digest("hex")}`;
}
