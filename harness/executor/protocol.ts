import { RunRecord } from "./executor";

/** What the parent asks of the child process that runs one stack program. */
export interface ChildJob {
  /** The folder Pulumi runs the program in (its `pwd`). */
  programDir: string;
  /** What Pulumi's runner gets as its program: the `main:` file, or `.` to resolve it from package.json. */
  entry: string;
  typescript: boolean;
  project: string;
  stack: string;
  preview: boolean;
  destroy: boolean;
  statePath: string;
}

/** What the child reports back. */
export interface ChildResult {
  /** The stack's outputs, each secret one (or one holding a secret) as `[secret]`, as the CLI shows them. */
  outputs: Record<string, unknown>;
  records: RunRecord[];
  errors: string[];
}
