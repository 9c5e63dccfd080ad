/** The failure of a build whose builder image the engine cannot pull or find, said with its fixes. */
import { LOCAL_BUILDERS } from "../local-builders";
import { outsideText } from "../../components/outside-text";
import { renderedBuilder } from "../../components/render";

/**
 * The message of a failed build when the failing step is loading the builder image of a Dockerfile
 * minimal-image rendered (BuildKit's `[internal] load metadata for <image>`, the classic builder's `FROM`):
 * the image, the engine's reason whole, and the three ways to fix it. Undefined for any other failure.
 * @param doing what was being done, e.g. `docker build of app:1`.
 * @param step the failing step's name.
 */
export function builderImageFailure(
  doing: string,
  step: string | undefined,
  engineMessage: string,
  dockerfile: string,
): string | undefined {
  const builder = renderedBuilder(dockerfile);
  const loaded = /^(?:\[internal\] load metadata for |FROM )(\S+)/.exec(step ?? "")?.[1];
  // BuildKit names the image in full (`docker.io/library/alpine:…`), the classic builder as written.
  if (builder === undefined || loaded === undefined) return undefined;
  if (loaded !== builder.image && !loaded.endsWith(`/${builder.image}`)) return undefined;
  const { image, setup } = builder.variables;
  const local = LOCAL_BUILDERS[image];
  return [
    `minimal-image: ${doing} failed: the builder image ${builder.image} cannot be pulled or found on this engine: ` +
      outsideText(engineMessage, Infinity),
    "Fix it in one of three ways:",
    "  - set recipe.builderImage to an image this engine has or can pull (recipe.setup: the commands that prepare it);",
    `  - or set ${image} (and ${setup}) in the environment of the update to such an image, e.g. a mirror's;`,
    "  - or, on this repository's dev machine, run `scripts/dev-env up`: it builds the offline builders" +
      (local ? `, ${local} among them, which \`npm run main\` and the tests set ${image} to.` : "."),
  ].join("\n");
}
