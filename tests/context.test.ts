import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { listContextFiles } from "../components/build";

describe("build context", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "minimal-image-context-"));
    for (const file of ["main.c", "README.md", "build/out.o", "build/keep.txt", "docs/a/b.txt", "z.c"]) {
      fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      fs.writeFileSync(path.join(dir, file), file);
    }
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lists every file, sorted, with / separators", () => {
    assert.deepEqual(listContextFiles(dir), [
      "README.md",
      "build/keep.txt",
      "build/out.o",
      "docs/a/b.txt",
      "main.c",
      "z.c",
    ]);
  });

  it("respects .dockerignore, exceptions included", () => {
    fs.writeFileSync(
      path.join(dir, ".dockerignore"),
      "# comment\nbuild\n!build/keep.txt\n**/*.md\ndocs/**/b.txt\n",
    );
    assert.deepEqual(listContextFiles(dir), [".dockerignore", "build/keep.txt", "main.c", "z.c"]);
  });
});
