// The structure rules `npm run structure` checks (dependency-cruiser): no import circle, data flowing one
// way through the stages (recipe -> render -> publish -> sbom -> inspect -> deploy), the ground floor importing no
// stage, and no product file importing the harness or the tests.
const STAGES = ["recipe", "render", "publish", "sbom", "inspect", "deploy"];

/** A stage may import the stages before it; these rules forbid every import of a later one. */
const oneWay = STAGES.flatMap((stage, i) =>
  STAGES.slice(i + 1).map((later) => ({
    name: `${stage}-not-${later}`,
    comment: `${stage} comes before ${later} in the pipeline: it may not import it`,
    severity: "error",
    from: { path: `^components/${stage}/` },
    to: { path: `^components/${later}/` },
  })),
);

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "an import circle makes load order matter and stages inseparable",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...oneWay,
    {
      name: "ground-floor-imports-no-stage",
      comment:
        "platform, reference, registry, validation, outside-text, compiled-module and the OCI client are used by every stage",
      severity: "error",
      from: {
        path: "^components/((platform|reference|registry|validation|outside-text|compiled-module)\\.ts$|oci/)",
      },
      to: {
        path: "^components/(recipe|render|publish|sbom|inspect|deploy|cli)/|^components/minimal-image\\.ts$",
      },
    },
    {
      name: "stages-import-neither-component-nor-cli",
      comment: "the component and the CLI are wiring on top of the stages",
      severity: "error",
      from: { path: "^components/(recipe|render|publish|sbom|inspect|deploy)/" },
      to: { path: "^components/(cli/|minimal-image\\.ts$|index\\.ts$)" },
    },
    {
      name: "product-imports-no-harness",
      comment: "the harness is test and dev infrastructure and never ships",
      severity: "error",
      from: { path: "^(index\\.ts$|components/)" },
      to: { path: "^(harness|tests|bench|scripts|examples)/" },
    },
    {
      name: "product-needs-no-dev-dependency",
      comment: "what ships may only use runtime and peer dependencies",
      severity: "error",
      from: { path: "^(index\\.ts$|components/)" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["npm-peer"] },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)bin/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.dev.json" },
  },
};
