import { createHash } from "node:crypto";
import { PackageURL } from "packageurl-js";
import { Crate, Facts, GoModule, PackageFact, readFacts, Role } from "./facts";

/** Property names this SBOM uses, in CycloneDX's `namespace:name` style. */
const P = {
  role: "minimal-image:role",
  file: "minimal-image:file",
  platform: "minimal-image:platform",
  toolchain: "minimal-image:toolchain",
  libc: "minimal-image:libc",
  link: "minimal-image:link",
  unownedLinkInput: "minimal-image:unowned-link-input",
  compiler: "minimal-image:compiler",
  goSum: "minimal-image:go-sum",
  goReplaces: "minimal-image:go-replaces",
  cargoSource: "minimal-image:cargo-source",
  debianPackage: "minimal-image:debian-package",
  builtIn: "minimal-image:built-in",
  crates: "minimal-image:crates",
} as const;

interface Property {
  name: string;
  value: string;
}

interface Component {
  type: "application" | "library" | "data" | "file";
  "bom-ref": string;
  name: string;
  version?: string;
  scope?: "required" | "excluded";
  hashes?: { alg: "SHA-256"; content: string }[];
  purl: string;
  properties?: Property[];
}

/** What the link state means, for the reader of the SBOM. */
const LINK_NOTES: Record<NonNullable<Facts["link"]>, string> = {
  traced:
    "traced: the linked libraries are the files the link read, linked again with the trace on to the same bytes",
  "custom-build":
    "not traced: a custom build command cannot be linked again; only the C library its compiler links is named",
  differs:
    "not traced: linking again with the trace on gave other bytes than the binary's, so the libraries are not named",
};

/** Why a package is in the SBOM, most telling first; the component's type and scope follow from it. */
const ROLE_ORDER: Role[] = ["libc", "linked", "std", "crate", "extra", "compiler"];

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedProperties = (properties: Property[]) =>
  properties.sort((a, b) => byString(a.name, b.name) || byString(a.value, b.value));

function packageUrl(
  type: string,
  namespace: string | undefined,
  name: string,
  version?: string,
  qualifiers?: Record<string, string>,
): string {
  return new PackageURL(type, namespace, name, version, qualifiers, undefined).toString();
}

/** The purl of an installed package: `pkg:deb/debian/musl-dev@1.2.3-1?arch=amd64&distro=debian-12`. */
function installedPackageUrl(facts: Facts, row: PackageFact): string {
  const type = facts.packager === "apk" ? "apk" : "deb";
  const vendor = facts.distro?.id ?? (type === "apk" ? "alpine" : "debian");
  const qualifiers: Record<string, string> = { arch: row.architecture };
  if (facts.distro?.version) qualifiers.distro = `${facts.distro.id}-${facts.distro.version}`;
  return packageUrl(type, vendor, row.name, row.version, qualifiers);
}

/** The packages the package database named, one component each, with every role and file that led to it. */
function packageComponents(facts: Facts): Component[] {
  const merged = new Map<string, { row: PackageFact; roles: Set<Role>; files: Set<string> }>();
  for (const row of facts.packages.filter((p) => p.role !== "crate")) {
    const purl = installedPackageUrl(facts, row);
    const entry = merged.get(purl) ?? { row, roles: new Set<Role>(), files: new Set<string>() };
    entry.roles.add(row.role);
    if (row.file !== undefined) entry.files.add(row.file);
    merged.set(purl, entry);
  }
  return [...merged].map(([purl, { row, roles, files }]) => {
    const main = ROLE_ORDER.find((role) => roles.has(role))!;
    return {
      type: main === "compiler" ? "application" : main === "extra" ? "data" : "library",
      "bom-ref": purl,
      name: row.name,
      version: row.version,
      // A compiler alone is a build tool: none of it is in the image.
      scope: main === "compiler" ? "excluded" : "required",
      purl,
      properties: sortedProperties([
        ...[...roles].map((role) => ({ name: P.role, value: role })),
        ...[...files].map((file) => ({ name: P.file, value: file })),
      ]),
    };
  });
}

/** The Go modules `go version -m` reports, and the standard library of the Go that compiled them. */
function goComponents(go: NonNullable<Facts["go"]>): Component[] {
  const stdlib = packageUrl("golang", undefined, "stdlib", go.version);
  const modules = go.modules.map((mod: GoModule): Component => {
    // A replaced module is compiled from its replacement; a local directory has no version of its own.
    const built = mod.replacement?.version !== undefined ? mod.replacement : mod;
    const slash = built.path.lastIndexOf("/");
    const purl = packageUrl(
      "golang",
      slash > 0 ? built.path.slice(0, slash) : undefined,
      built.path.slice(slash + 1),
      built.version,
    );
    const sum = mod.replacement ? mod.replacement.sum : mod.sum;
    return {
      type: mod.kind === "mod" ? "application" : "library",
      "bom-ref": purl,
      name: built.path,
      version: built.version,
      scope: "required",
      purl,
      properties: sortedProperties([
        { name: P.role, value: mod.kind === "mod" ? "main-module" : "module" },
        ...(sum ? [{ name: P.goSum, value: sum }] : []),
        ...(mod.replacement
          ? [{ name: P.goReplaces, value: `${mod.path}@${mod.version} => ${mod.replacement.path}` }]
          : []),
      ]),
    };
  });
  return [
    {
      type: "library",
      "bom-ref": stdlib,
      name: "stdlib",
      version: go.version,
      scope: "required",
      purl: stdlib,
      properties: [{ name: P.role, value: "std" }],
    },
    ...modules,
  ];
}

/**
 * The crates of the build's Cargo.lock, each with the Debian package it came from when one did; those
 * `cargo tree` did not find built into the binary have scope `excluded`.
 */
function crateComponents(crates: Crate[], facts: Facts): Component[] {
  const debian = new Map(
    facts.packages
      .filter((p) => p.role === "crate" && p.file !== undefined)
      .map((p) => [p.file!.slice(p.file!.lastIndexOf("/") + 1), p]),
  );
  return crates.map((crate) => {
    const purl = packageUrl("cargo", undefined, crate.name, crate.version);
    const packaged = debian.get(`${crate.name}-${crate.version}`);
    // Another platform's crate, or one only a proc macro or build script uses, is not in the binary.
    const builtIn = facts.builtCrates?.has(`${crate.name}@${crate.version}`);
    return {
      type: "library",
      "bom-ref": purl,
      name: crate.name,
      version: crate.version,
      scope: builtIn === false ? "excluded" : "required",
      ...(crate.checksum ? { hashes: [{ alg: "SHA-256", content: crate.checksum }] } : {}),
      purl,
      properties: sortedProperties([
        { name: P.role, value: "crate" },
        // No source: the crate is the program's own (or a path dependency).
        { name: P.cargoSource, value: crate.source ?? "local" },
        ...(builtIn === undefined ? [] : [{ name: P.builtIn, value: String(builtIn) }]),
        ...(packaged
          ? [
              {
                name: P.debianPackage,
                value: `${packaged.name} ${packaged.version} ${packaged.architecture}`,
              },
            ]
          : []),
      ]),
    };
  });
}

/** rustc, whose standard library is compiled into every Rust binary, from `rustc -vV`. */
function rustcComponent(compiler: string[]): Component[] {
  const value = (key: string) =>
    compiler
      .find((line) => line.startsWith(`${key}: `))
      ?.slice(key.length + 2)
      .trim();
  const release = value("release");
  if (release === undefined || !/^[0-9A-Za-z.+-]{1,64}$/.test(release)) return [];
  const purl = packageUrl("generic", undefined, "rustc", release);
  return [
    {
      type: "application",
      "bom-ref": purl,
      name: "rustc",
      version: release,
      scope: "required",
      purl,
      properties: sortedProperties([
        { name: P.role, value: "std" },
        ...["host", "commit-hash", "LLVM version"].flatMap((key) => {
          const v = value(key);
          return v === undefined
            ? []
            : [{ name: `minimal-image:rustc-${key.replace(" ", "-").toLowerCase()}`, value: v }];
        }),
      ]),
    },
  ];
}

/** The image's files besides the binary (passwd, the CA bundle), by their hash. */
function fileComponents(facts: Facts): Component[] {
  return facts.files.map(({ path, sha256 }) => {
    const purl = packageUrl("generic", undefined, path.slice(path.lastIndexOf("/") + 1), undefined, {
      checksum: `sha256:${sha256}`,
    });
    return {
      type: "file",
      "bom-ref": purl,
      name: path,
      scope: "required",
      hashes: [{ alg: "SHA-256", content: sha256 }],
      purl,
    };
  });
}

/**
 * A serial number that the content determines: a UUID version 5 (RFC 9562) of the document's own hash,
 * so the same facts give the same serial and any other content another one.
 */
function serialNumber(content: string): string {
  const namespace = Buffer.from("6ba7b8119dad11d180b400c04fd430c8", "hex"); // RFC 9562's URL namespace
  const name = `minimal-image-sbom:sha256:${createHash("sha256").update(content).digest("hex")}`;
  const bytes = createHash("sha1").update(namespace).update(name).digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The CycloneDX 1.6 JSON document of what was compiled into one image, from the facts its `sbom` target
 * wrote (keys: paths relative to `/sbom/`, e.g. `"packages.txt"`). Pure and deterministic: the same facts
 * give the same bytes; it holds no timestamp, its components are sorted and its serial number is derived
 * from its content, which holds the binary's sha256.
 * @throws SbomFactsError naming the facts file that is missing, unknown, too large or malformed.
 */
export function buildSbom(facts: ReadonlyMap<string, Buffer>): Buffer {
  const read = readFacts(facts);
  const owned = new Set(read.packages.map((p) => p.file));
  const unowned = read.linkInputs.filter((input) => !owned.has(input));
  // Two sources naming the same thing (a Go module twice) give one component: the first.
  const unique = new Map<string, Component>();
  for (const component of [
    ...packageComponents(read),
    ...(read.go ? goComponents(read.go) : []),
    ...(read.toolchain === "rust" ? rustcComponent(read.compiler) : []),
    ...(read.crates ? crateComponents(read.crates, read) : []),
    ...fileComponents(read),
  ]) {
    if (!unique.has(component["bom-ref"])) unique.set(component["bom-ref"], component);
  }
  const components = [...unique.values()].sort((a, b) => byString(a["bom-ref"], b["bom-ref"]));
  const binaryPurl = packageUrl("generic", undefined, read.binary.name, undefined, {
    checksum: `sha256:${read.binary.sha256}`,
  });
  const document = {
    bomFormat: "CycloneDX",
    specVersion: "1.6",
    serialNumber: "",
    version: 1,
    metadata: {
      tools: { components: [{ type: "application", name: "minimal-image" }] },
      component: {
        type: "application",
        "bom-ref": binaryPurl,
        name: read.binary.name,
        hashes: [{ alg: "SHA-256", content: read.binary.sha256 }],
        purl: binaryPurl,
        properties: sortedProperties([
          { name: P.platform, value: read.platform },
          { name: P.toolchain, value: read.toolchain },
          ...(read.libc ? [{ name: P.libc, value: read.libc }] : []),
          { name: P.compiler, value: read.compiler[0]! },
        ]),
      },
      properties: sortedProperties([
        ...(read.link ? [{ name: P.link, value: LINK_NOTES[read.link] }] : []),
        ...unowned.map((input) => ({ name: P.unownedLinkInput, value: input })),
        ...(read.toolchain === "rust" && !read.crates
          ? [{ name: P.crates, value: "unknown: the build left no Cargo.lock in /src" }]
          : []),
      ]),
    },
    components,
    dependencies: [
      {
        ref: binaryPurl,
        dependsOn: components.filter((c) => c.scope === "required").map((c) => c["bom-ref"]),
      },
    ],
  };
  if (document.metadata.properties.length === 0)
    delete (document.metadata as { properties?: unknown }).properties;
  document.serialNumber = serialNumber(JSON.stringify(document));
  return Buffer.from(`${JSON.stringify(document, null, 2)}\n`);
}
