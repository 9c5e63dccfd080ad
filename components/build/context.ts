import * as fs from "node:fs";
import * as path from "node:path";
import dockerignore from "@balena/dockerignore";

/**
 * The files `docker build` sends for a folder: every file below it, minus what its `.dockerignore` excludes
 * (Docker's own pattern rules, `!` exceptions included). Paths are relative, `/`-separated and sorted, so
 * the list is the same on every machine.
 */
export function listContextFiles(contextDir: string): string[] {
  const ignoreFile = path.join(contextDir, ".dockerignore");
  const ignore = dockerignore({ ignorecase: false });
  if (fs.existsSync(ignoreFile)) ignore.add(fs.readFileSync(ignoreFile, "utf8").split(/\r?\n/));
  const files: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of fs.readdirSync(path.join(contextDir, relative), { withFileTypes: true })) {
      const child = relative === "" ? entry.name : `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (!ignore.ignores(child)) files.push(child);
    }
  };
  walk("");
  return files.sort();
}
