import * as assert from "node:assert/strict";
import { Spec, Validation } from "@cyclonedx/cyclonedx-library";
import { buildSbom, SbomFactsError } from "../../components/sbom";
import { MAX_FACTS_FILE_BYTES } from "../../components/render";

const BINARY = "cbc082015c50ad2226628dec83d694a20bd4e4305a205704a698de475971d264";
const PASSWD = "4a0b97e1d67d7a062856dd9bbefd19d774090e12dcaff9c59ed476305fe5cb6b";

/** Facts as the `sbom` target writes them, file by file. */
type Facts = Record<string, string | Buffer>;

const PAUSLE: Facts = {
  "facts.txt":
    "format 1\ntoolchain c\nplatform linux/amd64\nbinary pausle\npackager dpkg\nlibc musl\nlink traced\ndistro debian 12\n",
  "files.txt": `${PASSWD} /etc/passwd\n${BINARY} /pausle\n`,
  "compiler.txt": "x86_64-linux-gnu-gcc (Debian 12.2.0-14+deb12u1) 12.2.0\n",
  "link.txt":
    "/usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a\n/usr/lib/x86_64-linux-musl/libc.a\n/opt/vendor/libz.a\n",
  "packages.txt": [
    "compiler gcc-12 12.2.0-14+deb12u1 amd64 /usr/bin/x86_64-linux-gnu-gcc-12",
    "extra tzdata 2026f-0+deb12u1 all /usr/share/zoneinfo/UTC",
    "libc musl-dev 1.2.3-1 amd64 /usr/lib/x86_64-linux-musl/libc.a",
    "linked libgcc-12-dev 12.2.0-14+deb12u1 amd64 /usr/lib/gcc/x86_64-linux-gnu/12/libgcc.a",
    "linked musl-dev 1.2.3-1 amd64 /usr/lib/x86_64-linux-musl/libc.a",
    "",
  ].join("\n"),
};

const HELLO_GO: Facts = {
  "facts.txt": "format 1\ntoolchain go\nplatform linux/arm64\nbinary hello-go\npackager none\n",
  "files.txt": `${BINARY} /hello-go\n`,
  "compiler.txt": "go version go1.19.8 linux/amd64\n",
  "packages.txt": "",
  "go-buildinfo.txt": [
    "/minimal-image/rootfs/hello-go: go1.19.8",
    "\tpath\texample.com/hello-go",
    "\tmod\texample.com/hello-go\t(devel)\t",
    "\tdep\tgolang.org/x/text\tv0.14.0\th1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=",
    "\tdep\texample.com/old\tv1.0.0\th1:ScX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=",
    "\t=>\texample.com/new\tv1.2.0\th1:AcX5w1eTa3QqT8oi6+ziP7dTV1S2+ALU0bI+0zXKWiQ=",
    "\tdep\texample.com/local\tv0.1.0\t",
    "\t=>\t../local\t\t",
    "\tbuild\tGOARCH=arm64",
    "",
  ].join("\n"),
};

const HELLO_RUST: Facts = {
  "facts.txt":
    "format 1\ntoolchain rust\nplatform linux/amd64\nbinary hello-rust-deps\npackager dpkg\ndistro debian 12\n",
  "files.txt": `${BINARY} /hello-rust-deps\n`,
  "compiler.txt":
    "rustc 1.96.0 (ac68faa20 2026-05-25)\nbinary: rustc\nhost: x86_64-unknown-linux-gnu\nrelease: 1.96.0\n",
  "packages.txt": [
    "compiler rustc-web 1.96.0+dfsg1-1~deb12u2 amd64 /usr/bin/rustc",
    "crate librust-serde-dev 1.0.152-2 amd64 /usr/share/cargo/registry/serde-1.0.152",
    "libc libc6-dev 2.36-9+deb12u14 amd64 /usr/lib/x86_64-linux-gnu/libc.a",
    "",
  ].join("\n"),
  "Cargo.lock": [
    "version = 3",
    "",
    "[[package]]",
    'name = "hello-rust-deps"',
    'version = "0.1.0"',
    'dependencies = ["serde"]',
    "",
    "[[package]]",
    'name = "serde"',
    'version = "1.0.152"',
    'source = "registry+https://github.com/rust-lang/crates.io-index"',
    'checksum = "Could not get crate checksum"',
    "",
    "[[package]]",
    'name = "itoa"',
    'version = "1.0.1"',
    'source = "registry+https://github.com/rust-lang/crates.io-index"',
    'checksum = "1aab8fc367588b89dcee83ab0fd66b72b50b72fa1904d7095045ace2b0c81c35"',
    "",
  ].join("\n"),
  "cargo-tree.txt": "hello-rust-deps v0.1.0\nserde v1.0.152\n",
};

const folder = (facts: Facts) => new Map(Object.entries(facts).map(([k, v]) => [k, Buffer.from(v)]));
const sbom = (facts: Facts) => JSON.parse(buildSbom(folder(facts)).toString()) as Sbom;

interface Sbom {
  serialNumber: string;
  metadata: { component: { name: string; purl: string }; properties?: { name: string; value: string }[] };
  components: {
    name: string;
    version?: string;
    purl: string;
    scope: string;
    properties?: { name: string; value: string }[];
  }[];
}

const purls = (facts: Facts) => sbom(facts).components.map((c) => c.purl);

function refused(facts: Facts, file: string, pattern: RegExp): void {
  assert.throws(
    () => buildSbom(folder(facts)),
    (error: unknown) => {
      assert.ok(error instanceof SbomFactsError, `expected an SbomFactsError, got ${error}`);
      assert.equal(error.file, file);
      assert.match(error.message, /^minimal-image: SBOM facts /);
      assert.match(error.message, pattern);
      assert.match(error.message, /docker build --target sbom/, "the message says how to fix it");
      assert.doesNotMatch(error.message, /[\p{Cc}\p{Cf}]/u, "no control character reaches the message");
      return true;
    },
  );
}

describe("the SBOM (CycloneDX) made from a build's facts", () => {
  const validator = new Validation.JsonStrictValidator(Spec.Version.v1dot6);

  for (const [name, facts] of Object.entries({ PAUSLE, HELLO_GO, HELLO_RUST })) {
    it(`${name}: passes CycloneDX 1.6's strict JSON validation, with a purl on every component`, async () => {
      const text = buildSbom(folder(facts)).toString();
      assert.equal(await validator.validate(text), null);
      const document = JSON.parse(text) as Sbom;
      assert.ok(document.components.length > 0);
      for (const component of [document.metadata.component, ...document.components]) {
        assert.match(component.purl, /^pkg:[a-z]+\//, component.name);
      }
    });
  }

  it("is deterministic: the same facts give the same bytes, other facts another serial number", () => {
    const first = buildSbom(folder(PAUSLE));
    assert.deepEqual(buildSbom(folder(PAUSLE)), first);
    // Map order is not content: the same files given in another order.
    assert.deepEqual(buildSbom(new Map([...folder(PAUSLE)].reverse())), first);
    assert.doesNotMatch(first.toString(), /timestamp/);
    const other = { ...PAUSLE, "files.txt": (PAUSLE["files.txt"] as string).replace(BINARY, "0".repeat(64)) };
    assert.notEqual(sbom(other).serialNumber, sbom(PAUSLE).serialNumber);
    assert.match(
      sbom(PAUSLE).serialNumber,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("C: names the libc at its package version, what the traced link read, and what no package owns", () => {
    const document = sbom(PAUSLE);
    const musl = document.components.find((c) => c.name === "musl-dev")!;
    assert.equal(musl.purl, "pkg:deb/debian/musl-dev@1.2.3-1?arch=amd64&distro=debian-12");
    assert.equal(musl.scope, "required");
    assert.deepEqual(
      musl.properties!.filter((p) => p.name === "minimal-image:role").map((p) => p.value),
      ["libc", "linked"],
    );
    assert.equal(
      document.components.find((c) => c.name === "gcc-12")!.scope,
      "excluded",
      "a compiler is not in the image",
    );
    assert.deepEqual(
      document.metadata
        .properties!.filter((p) => p.name === "minimal-image:unowned-link-input")
        .map((p) => p.value),
      ["/opt/vendor/libz.a"],
    );
    assert.ok(purls(PAUSLE).includes(`pkg:generic/passwd?checksum=sha256%3A${PASSWD}`));
    assert.equal(document.metadata.component.purl, `pkg:generic/pausle?checksum=sha256%3A${BINARY}`);
  });

  it("Go: every module go version -m reports, a replacement by what replaced it, and the standard library", () => {
    assert.deepEqual(purls(HELLO_GO), [
      "pkg:golang/example.com/hello-go@(devel)",
      // Replaced by a local folder: named as required, the replacement in a property.
      "pkg:golang/example.com/local@v0.1.0",
      "pkg:golang/example.com/new@v1.2.0",
      "pkg:golang/golang.org/x/text@v0.14.0",
      "pkg:golang/stdlib@1.19.8",
    ]);
  });

  it("Rust: every crate of the Cargo.lock, with the Debian package it came from, and rustc", () => {
    const document = sbom(HELLO_RUST);
    assert.deepEqual(
      document.components.filter((c) => c.purl.startsWith("pkg:cargo/")).map((c) => `${c.name}@${c.version}`),
      ["hello-rust-deps@0.1.0", "itoa@1.0.1", "serde@1.0.152"],
    );
    const serde = document.components.find((c) => c.name === "serde")!;
    assert.ok(serde.properties!.some((p) => p.value === "librust-serde-dev 1.0.152-2 amd64"));
    assert.ok(purls(HELLO_RUST).includes("pkg:generic/rustc@1.96.0"));
    // Not in cargo tree's crates for the target: listed, but not in the binary.
    assert.deepEqual(
      document.components.filter((c) => c.scope === "excluded").map((c) => c.name),
      ["itoa", "rustc-web"],
    );
    assert.ok(
      purls(HELLO_RUST).includes("pkg:deb/debian/libc6-dev@2.36-9+deb12u14?arch=amd64&distro=debian-12"),
    );
  });

  describe("hostile facts fail named and bounded", () => {
    it("a missing or unknown file", () => {
      const withoutFiles = { ...PAUSLE };
      delete withoutFiles["files.txt"];
      refused(withoutFiles, "files.txt", /is missing/);
      refused({ ...PAUSLE, "../../etc/shadow": "x" }, "../../etc/shadow", /is not a facts file/);
    });

    it("a file over the bound, before anything is parsed", () => {
      const huge = "x".repeat(MAX_FACTS_FILE_BYTES + 1);
      refused({ ...PAUSLE, "packages.txt": huge }, "packages.txt", /more than 4194304 bytes/);
      refused({ ...HELLO_RUST, "Cargo.lock": huge }, "Cargo.lock", /more than 4194304 bytes/);
    });

    it("the most rows the bounds allow, in bounded time", () => {
      const rows = Array.from({ length: 20_000 }, (_, i) => `/usr/lib/lib${i}.a`);
      const facts = {
        ...PAUSLE,
        "link.txt": rows.join("\n"),
        "packages.txt": rows.map((file, i) => `linked lib${i} 1.0-1 amd64 ${file}`).join("\n"),
      };
      const started = process.hrtime.bigint();
      assert.equal(sbom(facts).components.length, 20_000 + 1, "each library, and /etc/passwd");
      assert.ok(process.hrtime.bigint() - started < 10_000_000_000n, "under 10 s");
    });

    it("too many lines", () => {
      refused({ ...PAUSLE, "link.txt": "/a\n".repeat(20_001) }, "link.txt", /more than 20000 lines/);
    });

    it("control characters, bidi overrides and NUL, never echoed raw", () => {
      refused(
        { ...PAUSLE, "packages.txt": "libc musl\x1b[31m-dev 1.2.3-1 amd64\n" },
        "packages.txt",
        /line 1: the package/,
      );
      refused({ ...PAUSLE, "files.txt": `${BINARY} /pau\u202esle\n` }, "files.txt", /the path/);
      refused({ ...PAUSLE, "compiler.txt": "gcc\0" }, "compiler.txt", /NUL/);
      refused({ ...PAUSLE, "link.txt": Buffer.from([0x2f, 0xff, 0xfe]) }, "link.txt", /is not UTF-8/);
    });

    it("malformed rows", () => {
      refused({ ...PAUSLE, "facts.txt": "format 2\n" }, "facts.txt", /not format 1/);
      refused(
        { ...PAUSLE, "facts.txt": `${PAUSLE["facts.txt"] as string}libc musl\n` },
        "facts.txt",
        /libc is given twice/,
      );
      refused({ ...PAUSLE, "packages.txt": "owner musl-dev 1 amd64\n" }, "packages.txt", /the role/);
      refused(
        { ...PAUSLE, "files.txt": `${PASSWD} /etc/passwd\n` },
        "files.txt",
        /no hash of the binary \/pausle/,
      );
      refused({ ...HELLO_GO, "go-buildinfo.txt": "nothing\n" }, "go-buildinfo.txt", /Go version/);
      refused(
        { ...HELLO_GO, "go-buildinfo.txt": "/b: go1.19\n\t=>\tx\tv1\t\n" },
        "go-buildinfo.txt",
        /replaces no module/,
      );
      refused(
        { ...HELLO_RUST, "Cargo.lock": "[[package]]\nname = 1\n" },
        "Cargo.lock",
        /no valid name and version/,
      );
      refused({ ...HELLO_RUST, "Cargo.lock": "[[package\n" }, "Cargo.lock", /is not TOML/);
      refused({ ...HELLO_RUST, "cargo-tree.txt": "serde 1.0\n" }, "cargo-tree.txt", /line 1 is not a crate/);
    });
  });
});
