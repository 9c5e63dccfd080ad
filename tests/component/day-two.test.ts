// Day two under mocks: what the component declares on later runs of the same program, as the provider would
// see it. The provider hashes the context with its ignore rules (pulumi-docker hashContext and
// getIgnorePatterns, provider/provider.go); so does the harness, whose functions compute it here.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MinimalImage } from "../../components/minimal-image";
import { contextDigest, ignorePatterns, listContextFiles } from "../../components/render";
import { Declared, setRecordingMocks, settle } from "../support/pulumi";

const PAUSLE = path.join(__dirname, "..", "..", "examples", "pausle");
const DIGEST = `sha256:${"ab".repeat(32)}`;

describe('day two under mocks: a `source: "."` program in three runs (dev, prod, dev)', function () {
  this.timeout(60_000);
  let programDir: string;
  before(() => {
    programDir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-day2-"));
    // The program's folder is the context, with no .dockerignore: nothing keeps .minimal-image/ out but the
    // component itself.
    fs.copyFileSync(path.join(PAUSLE, "pausle.c"), path.join(programDir, "pausle.c"));
  });
  after(() => fs.rmSync(programDir, { recursive: true, force: true }));

  /** One run in `stack`: the Image's context digest as the provider computes it, and the replica names. */
  async function run(stack: string, recipe: object) {
    const declared: Declared[] = [];
    await setRecordingMocks((resource) => declared.push(resource), { digest: DIGEST, stack });
    const image = new MinimalImage(
      "app",
      {
        source: ".",
        recipe,
        imageName: "app",
        registry: { server: "127.0.0.1:5000" },
        replicas: { count: 2 },
      },
      { programDir },
    );
    const names = await settle(image.replicaNames);
    const build = declared.find((d) => d.type === "docker:index/image:Image")?.inputs.build as {
      context: string;
      dockerfile: string;
    };
    const context = path.join(programDir, build.context);
    const dockerfile = path.join(programDir, build.dockerfile);
    const files = listContextFiles(context, ["source"], ignorePatterns(context, dockerfile));
    return { digest: contextDigest(context, files, fs.readFileSync(dockerfile, "utf8")), names, files };
  }

  it("gives dev the same context digest and replica names before and after prod ran in the same folder", async () => {
    const dev = await run("dev", { toolchain: "c" });
    // prod renders another Dockerfile (glibc) into the same .minimal-image/ folder, inside dev's context.
    const prod = await run("prod", { toolchain: "c", libc: "glibc" });
    const devAgain = await run("dev", { toolchain: "c" });
    assert.ok(!dev.files.some((file) => file.startsWith(".minimal-image")), dev.files.join(", "));
    assert.equal(devAgain.digest, dev.digest);
    assert.deepEqual(devAgain.names, dev.names);
    assert.notDeepEqual(prod.names, dev.names, "another stack, other names");
  });
});
