import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Docker from "dockerode";
import {
  buildLocally,
  DOCKERFILE_IN_CONTEXT,
  packContext,
  renderedContext,
} from "../../harness/engine/build";
import { parseElf } from "../../components/inspect/elf";
import { renderBuild, RenderedBuild } from "../../components/render";
import { buildCacheRecords, cacheMountsSince, pruneBuildCacheRecord } from "../support/build-cache";
import { LOCAL_BUILDERS, uniqueName } from "../support/env";
import { docker, httpBody, imageFiles, removeImages } from "../support/engine";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");

/** The entrypoint binary's bytes, read from the image's layers. */
async function binaryOf(tag: string, binary: string): Promise<Buffer> {
  const file = (await imageFiles(tag)).get(binary);
  assert.ok(file, `${binary} is in ${tag}`);
  return file.data;
}

/** Runs `image` with `args` after its entrypoint, read-only and without a network, to its exit. */
async function runToExit(image: string, args: string[]): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({
    Image: image,
    Cmd: args,
    name: uniqueName("run"),
    HostConfig: { ReadonlyRootfs: true, NetworkMode: "none" },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = await container.logs({ stdout: true, stderr: true, follow: false });
    // Without a TTY the engine frames each chunk with an 8-byte header; drop the headers.
    const frames: Buffer[] = [];
    for (let i = 0; i + 8 <= logs.length;) {
      const size = logs.readUInt32BE(i + 4);
      frames.push(logs.subarray(i + 8, i + 8 + size));
      i += 8 + size;
    }
    return { code: StatusCode, output: Buffer.concat(frames).toString("utf8") };
  } finally {
    await container.remove({ force: true });
  }
}

/**
 * Builds with BuildKit and no network at all (`docker build --network none`): what `buildLocally` does, with
 * the one build option it does not offer.
 */
async function buildWithoutNetwork(rendered: RenderedBuild, tag: string): Promise<void> {
  const stream = await docker.buildImage(packContext(renderedContext(rendered)), {
    t: tag,
    dockerfile: DOCKERFILE_IN_CONTEXT,
    version: "2",
    networkmode: "none",
    nocache: true,
  } as Docker.ImageBuildOptions);
  const events = await new Promise<{ error?: string }[]>((resolve, reject) =>
    docker.modem.followProgress(stream, (error, result) => (error ? reject(error) : resolve(result))),
  );
  const failure = events.find((event) => event.error !== undefined);
  assert.equal(failure, undefined, `the offline build failed: ${failure?.error}`);
}

describe("toolchain caches on the real engine @integration", function () {
  this.timeout(900_000);
  const built: string[] = [];
  const folders: string[] = [];
  let earlierCacheRecords = new Set<string>();
  before(async () => {
    earlierCacheRecords = new Set((await buildCacheRecords(docker)).map((record) => record.ID));
  });
  after(async () => {
    await removeImages(...built);
    for (const folder of folders) fs.rmSync(folder, { recursive: true, force: true });
    // The builds' cache ids are this run's own: no later build would use their mounts.
    for (const record of await cacheMountsSince(docker, earlierCacheRecords)) {
      await pruneBuildCacheRecord(docker, record.ID);
    }
  });

  /**
   * Builds a copy of the example with caches of its own, empty at first; then adds a file the compiler never
   * reads, so `COPY . /src` and the build step run again (`noCache` would also empty the cache mounts), this
   * time with the caches the first build filled. Returns both binaries and the second build's log.
   */
  async function coldThenWarm(folder: string, binary: string) {
    const parent = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-cache-test-"));
    folders.push(parent);
    const copy = path.join(parent, folder);
    fs.cpSync(path.join(EXAMPLES, folder), copy, { recursive: true });
    const scope = uniqueName("cold");
    const render = () => renderBuild(copy, {}, { env: LOCAL_BUILDERS, cacheScope: scope });
    const [cold, warm] = [1, 2].map((n) => `minimal-image-test/${uniqueName(`cache-${folder}`)}:${n}`);
    built.push(cold, warm);
    await buildLocally(render(), { tag: cold, noCache: true });
    fs.writeFileSync(path.join(copy, "NOTES.txt"), "not part of the program\n");
    const { log } = await buildLocally(render(), { tag: warm });
    return { cold: await binaryOf(cold, binary), warm: await binaryOf(warm, binary), log };
  }

  it("hello-go: a build from warm caches gives the byte-identical binary of the cold build", async () => {
    // The new file changes the context, so BuildKit runs the build step again; go prints nothing on success.
    const { cold, warm } = await coldThenWarm("hello-go", "/hello-go");
    assert.ok(warm.equals(cold));
  });

  it("hello-rust-deps: a build from warm caches compiles the program alone, to the byte-identical binary of the cold build", async () => {
    const { cold, warm, log } = await coldThenWarm("hello-rust-deps", "/hello-rust-deps");
    const compiled = log.match(/^\s*Compiling \S+/gm)?.map((line) => line.trim()) ?? [];
    assert.deepEqual(compiled, ["Compiling hello-rust-deps"], "dependencies come from the cached target");
    assert.ok(warm.equals(cold));
  });

  it("hello-rust-deps builds with no network at all from Debian's crates, and answers JSON", async () => {
    const tag = `minimal-image-test/${uniqueName("offline-rust-deps")}:x`;
    built.push(tag);
    const rendered = renderBuild(
      path.join(EXAMPLES, "hello-rust-deps"),
      {},
      {
        env: LOCAL_BUILDERS,
        cacheScope: uniqueName("cold"),
      },
    );
    await buildWithoutNetwork(rendered, tag);
    const body = JSON.parse(await httpBody(tag, ["--name", "tests"])) as Record<string, unknown>;
    assert.deepEqual(body, { message: "hello, tests", from: "a static Rust binary with crates", request: 1 });
  });

  it("hello-rust-deps with cargoLto thin: a ThinLTO build, static (the build's own check), that answers JSON", async () => {
    const tag = `minimal-image-test/${uniqueName("thin-rust-deps")}:x`;
    built.push(tag);
    const rendered = renderBuild(
      path.join(EXAMPLES, "hello-rust-deps"),
      { cargoLto: "thin" },
      { env: LOCAL_BUILDERS, cacheScope: uniqueName("thin") },
    );
    assert.match(rendered.dockerfile, /CARGO_PROFILE_RELEASE_LTO=thin /);
    await buildLocally(rendered, { tag });
    const body = JSON.parse(await httpBody(tag, ["--name", "thin"])) as Record<string, unknown>;
    assert.deepEqual(body, { message: "hello, thin", from: "a static Rust binary with crates", request: 1 });
  });

  it("hello-rust-deps with cargoLto off on the offline builder: static (no PT_INTERP, no DT_NEEDED), answers --help", async () => {
    const tag = `minimal-image-test/${uniqueName("off-rust-deps")}:x`;
    built.push(tag);
    const rendered = renderBuild(
      path.join(EXAMPLES, "hello-rust-deps"),
      { cargoLto: "off" },
      { env: LOCAL_BUILDERS, cacheScope: uniqueName("off") },
    );
    assert.match(
      rendered.dockerfile,
      new RegExp(`^FROM ${LOCAL_BUILDERS.MINIMAL_IMAGE_RUST_BUILDER} AS build$`, "m"),
    );
    assert.match(
      rendered.dockerfile,
      / CARGO_PROFILE_RELEASE_LTO=off CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 /,
    );
    await buildLocally(rendered, { tag });
    // Read by the package's own ELF parser, not only by the build's check: both must call it static.
    const elf = parseElf(await binaryOf(tag, "/hello-rust-deps"));
    assert.equal(elf.interpreter, undefined, `an ELF interpreter: ${elf.interpreter}`);
    assert.deepEqual(elf.neededLibraries, [], "no DT_NEEDED");
    assert.equal(elf.isStatic, true);
    const help = await runToExit(tag, ["--help"]);
    assert.equal(help.code, 0, help.output);
    assert.match(help.output, /^A small JSON greeting server\n\nUsage: hello-rust-deps \[OPTIONS\]/);
    assert.match(help.output, /--listen <LISTEN>/);
  });
});
