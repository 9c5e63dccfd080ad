import * as assert from "node:assert/strict";
import {
  DEFAULT_PLATFORM,
  elfMachine,
  elfMachineNumber,
  formatPlatform,
  parsePlatform,
  platformMatches,
  validatePlatform,
  validatePlatformList,
} from "../components/platform";
import { InputError } from "../components/validation";

describe("platform: the one vocabulary", () => {
  it("has one default, fixed whatever machine runs the update", () => {
    assert.equal(DEFAULT_PLATFORM, "linux/amd64");
    assert.equal(validatePlatform(undefined), DEFAULT_PLATFORM);
  });

  it("parses and formats os/arch[/variant]", () => {
    assert.deepEqual(parsePlatform("linux/arm/v7"), { os: "linux", architecture: "arm", variant: "v7" });
    assert.equal(formatPlatform(parsePlatform("linux/arm64")), "linux/arm64");
    assert.equal(validatePlatform("linux/arm64"), "linux/arm64");
  });

  it("refuses what is not a platform, naming the field given", () => {
    for (const bad of ["linux", "Linux/amd64", "linux/amd64/v1/x", "linux/ amd64", 5, "linux/amd64\n"]) {
      assert.throws(
        () => validatePlatform(bad, ["replicas", "platform"]),
        (error: unknown) => error instanceof InputError && error.field === "replicas.platform",
        String(bad),
      );
    }
  });

  it("matches arm64 with arm64/v8, and a wanted variant only with that variant", () => {
    assert.ok(platformMatches(parsePlatform("linux/arm64/v8"), parsePlatform("linux/arm64")));
    assert.ok(platformMatches(parsePlatform("linux/arm64"), parsePlatform("linux/arm64/v8")));
    assert.ok(!platformMatches(parsePlatform("linux/arm/v6"), parsePlatform("linux/arm/v7")));
    assert.ok(!platformMatches(parsePlatform("linux/amd64"), parsePlatform("linux/arm64")));
  });

  it("names the ELF machine of a platform's binaries", () => {
    assert.equal(elfMachine(parsePlatform("linux/amd64")), "x86-64");
    assert.equal(elfMachine(parsePlatform("linux/arm64")), "AArch64");
    assert.equal(elfMachine(parsePlatform("linux/unknowncpu")), undefined);
    assert.deepEqual(
      ["linux/amd64", "linux/arm64", "linux/unknowncpu"].map((p) => elfMachineNumber(parsePlatform(p))),
      [62, 183, undefined],
    );
  });

  it("checks a list of platforms, naming each entry, and refuses one listed twice", () => {
    assert.deepEqual(validatePlatformList(["linux/amd64", "linux/arm64/v8"]), ["linux/amd64", "linux/arm64"]);
    assert.throws(
      () => validatePlatformList(["linux/amd64", "linux"]),
      (e: InputError) => e.field === "platforms[1]" && /os\/arch/.test(e.message),
    );
    assert.throws(
      () => validatePlatformList(["linux/arm64", "linux/amd64", "linux/arm64/v8"]),
      (e: InputError) =>
        e.field === "platforms" && /linux\/arm64 is listed twice\. List each platform once/.test(e.message),
    );
  });
});
