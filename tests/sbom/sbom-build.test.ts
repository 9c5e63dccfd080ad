import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { parse as parseToml } from "smol-toml";
import { renderBuild, SBOM_TARGET } from "../../components/render";
import { RecipeOptions } from "../../components/recipe";
import { buildSbom } from "../../components/sbom";
import { LOCAL_BUILDERS, uniqueName } from "../support/env";

const EXAMPLES = path.join(__dirname, "..", "..", "examples");
const DOCKER = "/usr/bin/docker";

interface Sbom {
  metadata: { component: { hashes: { content: string }[]; properties: { name: string; value: string }[] } };
  components: { name: string; version?: string; purl: string; scope: string }[];
}

function docker(args: string[], input?: Buffer): Buffer {
  return execFileSync(DOCKER, args, {
    env: { ...process.env, DOCKER_BUILDKIT: "1" },
    input,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ["pipe", "pipe", "pipe"],
    timeout: 600_000,
  });
}

describe("SBOMs of real builds on the offline builders @integration", function () {
  this.timeout(600_000);
  const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-sbom-"));
  const repository = uniqueName("minimal-image-test/sbom");
  const tags: string[] = [];

  after(() => {
    if (tags.length > 0) docker(["image", "rm", ...tags]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** Renders the folder's Dockerfile and builds it (the `sbom` target, or the image); returns the tag. */
  function build(
    folder: string,
    options: RecipeOptions,
    flags: { target?: string; platform?: string; noCache?: boolean } = {},
  ): string {
    const source = path.join(EXAMPLES, folder);
    const rendered = renderBuild(source, options, { env: LOCAL_BUILDERS, platform: flags.platform });
    const dockerfile = path.join(work, `${tags.length}.Dockerfile`);
    fs.writeFileSync(dockerfile, rendered.dockerfile);
    const tag = `${repository}:${tags.length}`;
    docker([
      "build",
      "-q",
      "-f",
      dockerfile,
      "-t",
      tag,
      ...(flags.target ? ["--target", flags.target] : []),
      ...(flags.platform ? ["--platform", flags.platform] : []),
      ...(flags.noCache ? ["--no-cache"] : []),
      source,
    ]);
    tags.push(tag);
    return tag;
  }

  /** Copies one path out of an image through a created (never started) container, removed after. */
  function copyOut(image: string, from: string): string {
    const into = fs.mkdtempSync(path.join(work, "out-"));
    const container = docker(["create", image, "/none"]).toString().trim();
    try {
      docker(["cp", `${container}:${from}`, into]);
    } finally {
      docker(["rm", container]);
    }
    return path.join(into, path.basename(from));
  }

  /** The facts the `sbom` target's image holds: its only layer, the folder /sbom/. */
  function factsOf(image: string): Map<string, Buffer> {
    assert.equal(layers(image).length, 1, "the sbom target is one layer");
    const folder = copyOut(image, "/sbom");
    return new Map(fs.readdirSync(folder).map((file) => [file, fs.readFileSync(path.join(folder, file))]));
  }

  const layers = (image: string): string[] =>
    JSON.parse(docker(["image", "inspect", "-f", "{{json .RootFS.Layers}}", image]).toString()) as string[];

  async function sbomOf(image: string): Promise<{ bytes: Buffer; document: Sbom }> {
    const bytes = buildSbom(factsOf(image));
    assert.equal(await validator.validate(bytes.toString()), null);
    return { bytes, document: JSON.parse(bytes.toString()) as Sbom };
  }

  const sha256Of = (file: string) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

  /** The version of a package installed in the offline C builder. */
  const installed = (pkg: string) =>
    docker([
      "run",
      "--rm",
      LOCAL_BUILDERS.MINIMAL_IMAGE_C_BUILDER,
      "dpkg-query",
      "-W",
      "-f",
      "${Version}",
      pkg,
    ])
      .toString()
      .trim();

  it("pausle (musl): names musl at exactly the builder's version and the binary by its hash; the image is unchanged", async () => {
    const { bytes, document } = await sbomOf(build("pausle", {}, { target: SBOM_TARGET }));
    const musl = installed("musl-dev:amd64");
    assert.match(musl, /^\d/);
    const named = document.components.filter((c) => c.name === "musl-dev");
    assert.deepEqual(
      named.map((c) => c.purl),
      [`pkg:deb/debian/musl-dev@${musl}?arch=amd64&distro=debian-12`],
    );

    const image = build("pausle", {});
    assert.equal(layers(image).length, 1, "a plain build's image still has one layer");
    assert.deepEqual(
      layers(image),
      layers(build("pausle", { sbom: false })),
      "the same layer as without the SBOM",
    );
    assert.equal(document.metadata.component.hashes[0]!.content, sha256Of(copyOut(image, "/pausle")));

    const again = await sbomOf(build("pausle", {}, { target: SBOM_TARGET, noCache: true }));
    assert.ok(again.bytes.equals(bytes), "two builds give byte-identical SBOMs");
  });

  it("pausle (glibc -static): names libc6-dev at the builder's version", async () => {
    const { document } = await sbomOf(build("pausle", { libc: "glibc" }, { target: SBOM_TARGET }));
    const purl = `pkg:deb/debian/libc6-dev@${installed("libc6-dev:amd64")}?arch=amd64&distro=debian-12`;
    assert.ok(
      document.components.some((c) => c.purl === purl),
      purl,
    );
  });

  it("a custom build command: names the C library its CC links and says the link was not traced", async () => {
    const options = { toolchain: "c", buildCommand: "make", output: "countdown" } as const;
    const { document } = await sbomOf(
      build("../tests/fixtures/make-project", options, { target: SBOM_TARGET }),
    );
    const purl = `pkg:deb/debian/musl-dev@${installed("musl-dev:amd64")}?arch=amd64&distro=debian-12`;
    assert.ok(
      document.components.some((c) => c.purl === purl),
      purl,
    );
    assert.match(JSON.stringify(document), /not traced: a custom build command cannot be linked again/);
  });

  it("pausle for linux/arm64: names the arm64 musl and the platform", async () => {
    const { document } = await sbomOf(build("pausle", {}, { target: SBOM_TARGET, platform: "linux/arm64" }));
    assert.ok(document.components.some((c) => /^pkg:deb\/debian\/musl-dev@.*arch=arm64/.test(c.purl)));
    assert.ok(!document.components.some((c) => /^pkg:deb\/debian\/musl-dev@.*arch=amd64/.test(c.purl)));
    const platform = document.metadata.component.properties.find((p) => p.name === "minimal-image:platform");
    assert.equal(platform?.value, "linux/arm64");
  });

  it("hello-go: lists exactly the modules `go version -m` reports for its binary, and Go's standard library", async () => {
    const { document } = await sbomOf(build("hello-go", {}, { target: SBOM_TARGET }));
    const binary = fs.readFileSync(copyOut(build("hello-go", {}), "/hello-go"));
    const report = docker(
      [
        "run",
        "-i",
        "--rm",
        LOCAL_BUILDERS.MINIMAL_IMAGE_GO_BUILDER,
        "sh",
        "-c",
        "cat > /tmp/b && chmod +x /tmp/b && go version -m /tmp/b",
      ],
      binary,
    ).toString();
    const reported = report
      .split("\n")
      .map((line) => line.split("\t"))
      .filter((fields) => fields[1] === "mod" || fields[1] === "dep")
      .map((fields) => `pkg:golang/${fields[2]}@${fields[3]}`)
      .sort();
    const goVersion = /: go(\S+)/.exec(report)![1];
    assert.deepEqual(
      document.components.map((c) => c.purl).filter((purl) => purl.startsWith("pkg:golang/")),
      [...reported, `pkg:golang/stdlib@${goVersion}`].sort(),
    );
  });

  it("hello-rust-deps: lists exactly the crates cargo resolves for it, and rustc", async () => {
    const { document } = await sbomOf(build("hello-rust-deps", {}, { target: SBOM_TARGET }));
    const folder = path.join(EXAMPLES, "hello-rust-deps");
    const source = execFileSync("tar", ["-C", folder, "-cf", "-", "Cargo.toml", "src"]);
    const lock = docker(
      [
        "run",
        "-i",
        "--rm",
        LOCAL_BUILDERS.MINIMAL_IMAGE_RUST_BUILDER,
        "sh",
        "-c",
        "mkdir /s && cd /s && tar xf - && cargo generate-lockfile --offline -q && cat Cargo.lock",
      ],
      source,
    ).toString();
    const resolved = (parseToml(lock).package as { name: string; version: string }[])
      .map((crate) => `pkg:cargo/${crate.name}@${crate.version}`)
      .sort();
    assert.ok(resolved.length > 10);
    assert.deepEqual(
      document.components.map((c) => c.purl).filter((purl) => purl.startsWith("pkg:cargo/")),
      resolved,
    );
    assert.ok(document.components.some((c) => c.purl.startsWith("pkg:generic/rustc@")));
    // Windows' crates are in the lock but not in a Linux binary; serde is.
    const scope = (name: string) => document.components.find((c) => c.name === name)?.scope;
    assert.equal(scope("winapi"), "excluded");
    assert.equal(scope("serde"), "required");
  });
});
