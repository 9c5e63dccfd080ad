import { ImageReport } from "../../components/inspect";

/** The digest the mocked registry reports for pausle. */
export const REPORT_DIGEST = `sha256:${"ab".repeat(32)}`;

/** What the inspection of a pushed static pausle reports, with the fields a test changes. */
export function imageReport(overrides: Partial<ImageReport> = {}): ImageReport {
  return {
    reference: `127.0.0.1:5000/pausle@${REPORT_DIGEST}`,
    registry: "127.0.0.1:5000",
    repository: "pausle",
    digest: REPORT_DIGEST,
    imageRef: `127.0.0.1:5000/pausle@${REPORT_DIGEST}`,
    compressedSizeBytes: 3_700,
    uncompressedSizeBytes: 5_040,
    layerCount: 1,
    entrypoint: ["/pausle"],
    user: "65532:65532",
    binaryPath: "/pausle",
    binarySizeBytes: 5_040,
    machine: "x86-64",
    isStatic: true,
    neededLibraries: [],
    ...overrides,
  };
}

/** Every output of MinimalImage, as the schema lists them and construct returns them. */
export const MINIMAL_IMAGE_OUTPUTS = [
  "imageRef",
  "digest",
  "tag",
  "platformImages",
  "compressedSizeBytes",
  "uncompressedSizeBytes",
  "binarySizeBytes",
  "layerCount",
  "isStatic",
  "sizeReport",
  "replicaNames",
  "replicaPorts",
  "sbomDigest",
  "namespace",
  "readyReplicas",
] as const;
