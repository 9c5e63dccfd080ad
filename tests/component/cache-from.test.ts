import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { InputError } from "../../components/validation";
import { MinimalImage, MinimalImageArgs } from "../../components/minimal-image";
import { setRecordingMocks, settle } from "../support/pulumi";

const DIGEST = `sha256:${"ab".repeat(32)}`;

describe("MinimalImage cacheFrom (mocks)", () => {
  let builds: Record<string, unknown>[];
  let programDir: string;

  before(() => {
    setRecordingMocks(
      (resource) => {
        if (resource.type === "docker:index/image:Image")
          builds.push(resource.inputs.build as Record<string, unknown>);
      },
      { digest: DIGEST },
    );
  });

  beforeEach(() => {
    builds = [];
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-cache-from-"));
    fs.cpSync(path.join(__dirname, "..", "..", "examples", "pausle"), path.join(programDir, "pausle"), {
      recursive: true,
    });
  });
  afterEach(() => fs.rmSync(programDir, { recursive: true, force: true }));

  const create = (args: Partial<MinimalImageArgs>) =>
    new MinimalImage(
      "pausle",
      { source: "pausle", imageName: "pausle", registry: { server: "127.0.0.1:5000" }, ...args },
      { programDir },
    );

  it("passes the images to the build resource, with the inline cache that makes the pushed image a source too", async () => {
    const images = ["127.0.0.1:5000/pausle:latest", "127.0.0.1:5000/pausle:cache"];
    await settle(create({ cacheFrom: images, buildArgs: { VERSION: "1" } }).imageRef);
    assert.deepEqual(builds[0].cacheFrom, { images });
    assert.deepEqual(builds[0].args, { VERSION: "1", BUILDKIT_INLINE_CACHE: "1" });
  });

  it("takes the images as an Output too", async () => {
    await settle(create({ cacheFrom: pulumi.output(["127.0.0.1:5000/pausle:latest"]) }).imageRef);
    assert.deepEqual(builds[0].cacheFrom, { images: ["127.0.0.1:5000/pausle:latest"] });
  });

  it("adds nothing to the build without images", async () => {
    await settle(create({ cacheFrom: [] }).imageRef);
    assert.equal(builds[0].cacheFrom, undefined);
    assert.equal(builds[0].args, undefined);
  });

  const bad: [string, unknown, string][] = [
    ["a reference that does not parse", ["127.0.0.1:5000/Pausle:latest"], "cacheFrom[0]"],
    ["a reference with a newline", ["ok:1", "app:1\nRUN x"], "cacheFrom[1]"],
    ["a value that is not a list", "127.0.0.1:5000/pausle:latest", "cacheFrom"],
    ["too many images", Array.from({ length: 17 }, (_, i) => `app:${i}`), "cacheFrom"],
  ];
  for (const [what, value, field] of bad) {
    it(`rejects ${what} before anything is declared, naming ${field}`, () => {
      assert.throws(
        () => create({ cacheFrom: value as string[] }),
        (error: unknown) => error instanceof InputError && error.field === field,
      );
      assert.deepEqual(builds, []);
    });
  }
});
