import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { renderBuild } from "../components/build";
import { runCli } from "./support/capture";

const PAUSLE = path.join(__dirname, "..", "examples", "pausle");

describe("minimal-image dockerfile", () => {
  it("prints the same Dockerfile the library renders", async () => {
    const { code, stdout } = await runCli(
      "dockerfile",
      PAUSLE,
      "--libc",
      "glibc",
      "--arg",
      "x",
      "--extra",
      "passwd",
    );
    assert.equal(code, 0);
    assert.equal(
      stdout,
      renderBuild(PAUSLE, { libc: "glibc", entrypointArgs: ["x"], extras: ["passwd"] }).dockerfile,
    );
  });

  it("writes to a file with --write and lists the context with --list-context", async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-cli-")), "Dockerfile");
    try {
      assert.equal((await runCli("dockerfile", PAUSLE, "--write", file)).code, 0);
      assert.match(fs.readFileSync(file, "utf8"), /^FROM scratch$/m);
      assert.equal((await runCli("dockerfile", PAUSLE, "--list-context")).stdout, "pausle.c\n");
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it("names the flag in a usage error and exits 2", async () => {
    const unknown = await runCli("dockerfile", PAUSLE, "--tolchain", "c");
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--tolchain'/);

    const bad = await runCli("dockerfile", PAUSLE, "--toolchain", "java");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^minimal-image: --toolchain: "java" is not supported/);

    const noOutput = await runCli("dockerfile", PAUSLE, "--build-command", "make");
    assert.match(noOutput.stderr, /^minimal-image: --output: is required with --build-command/);

    const missingDir = await runCli("dockerfile", "/nonexistent/dir");
    assert.match(missingDir.stderr, /^minimal-image: <dir>: .* is not a readable folder/);
  });
});
