import { InputError } from "../validation";

/** The registry credential flags every command that reads a registry takes. */
export interface CredentialFlags {
  username?: string;
  passwordStdin?: boolean;
}

/** Reads all of standard input (for --password-stdin), without the trailing newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString("utf8")
    .replace(/\r?\n$/, "");
}

/** The credentials the flags give: both `--username` and `--password-stdin`, or neither. */
export async function flagCredentials(
  flags: CredentialFlags,
): Promise<{ username?: string; password?: string }> {
  if (Boolean(flags.passwordStdin) !== Boolean(flags.username)) {
    throw new InputError(
      flags.username ? "--username" : "--password-stdin",
      "goes with the other credential flag",
      "Give both --username and --password-stdin, or neither",
    );
  }
  return { username: flags.username, password: flags.passwordStdin ? await readStdin() : undefined };
}
