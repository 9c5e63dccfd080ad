import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { gzipSync } from "node:zlib";
import { FakeRegistry, makeTempDir, MEDIA, tarHeader } from "../support/fake-registry";

/**
 * The fake registry (helpers.ts) made to play the attacks of issue 10, so none of them can come back.
 * Loopback only, like the fake; every timer it starts stops when its response or the server closes.
 */
export class HostileRegistry extends FakeRegistry {
  private readonly timers = new Set<NodeJS.Timeout>();

  /**
   * Serves every manifest of `repo` as 200 with a valid-looking body, one byte per `intervalMs`, at most
   * `maxBytes` bytes: a registry that never stalls long enough for an idle timeout.
   */
  dripManifests(repo: string, intervalMs = 1000, maxBytes = 120): void {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MEDIA.dockerManifest }));
    this.intercept = (_req, res, url) => {
      if (!url.pathname.startsWith(`/v2/${repo}/manifests/`)) return false;
      res.writeHead(200, { "content-type": MEDIA.dockerManifest });
      let sent = 0;
      const timer = setInterval(() => {
        if (sent >= Math.min(maxBytes, body.length)) {
          this.stop(timer);
          res.end();
          return;
        }
        res.write(body.subarray(sent, ++sent));
      }, intervalMs);
      this.timers.add(timer);
      res.on("close", () => this.stop(timer));
      return true;
    };
  }

  /** Answers every request for `pathPrefix` with `status` and `body` as the registry's own words. */
  answerWith(pathPrefix: string, status: number, body: string | Buffer): void {
    this.intercept = (_req, res, url) => {
      if (!url.pathname.startsWith(pathPrefix)) return false;
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body);
      return true;
    };
  }

  override async close(): Promise<void> {
    for (const timer of this.timers) this.stop(timer);
    await super.close();
  }

  private stop(timer: NodeJS.Timeout): void {
    clearInterval(timer);
    this.timers.delete(timer);
  }
}

const MIB = 1024 * 1024;

/**
 * A gzip layer holding one regular file of `size` zero bytes, built as concatenated gzip members (which
 * gunzip reads as one stream) from a single compressed MiB, so a 2 GiB file costs a 2 MB layer and no time.
 */
export async function zeroFileLayer(name: string, size: number): Promise<Buffer> {
  const zeroMib = gzipSync(Buffer.alloc(MIB));
  const members = [gzipSync(await tarHeader(name, size))];
  for (let i = 0; i < Math.floor(size / MIB); i++) members.push(zeroMib);
  // The rest of the file, its padding to a 512-byte block, and the two zero blocks that end a tar.
  const rest = size % MIB;
  members.push(gzipSync(Buffer.alloc(rest + ((512 - (size % 512)) % 512) + 1024)));
  return Buffer.concat(members);
}

/** A gzip layer of `count` empty files with distinct names in one directory: the entry-count bomb. */
export async function manyEntriesLayer(count: number): Promise<Buffer> {
  const width = String(count).length;
  const template = await tarHeader(`f${"0".repeat(width)}`, 0);
  // A header's checksum is its byte sum with the checksum's own eight bytes counted as spaces; only the
  // name's digits change from entry to entry.
  template.fill(" ", 148, 156);
  const digitsAt = 1;
  let templateSum = 0;
  for (let j = 0; j < 512; j++) templateSum += j >= digitsAt && j < digitsAt + width ? 0 : template[j];
  const tarBytes = Buffer.alloc(count * 512 + 1024);
  for (let i = 0; i < count; i++) {
    const header = tarBytes.subarray(i * 512, (i + 1) * 512);
    template.copy(header);
    header.write(String(i).padStart(width, "0"), digitsAt, "ascii");
    let sum = templateSum;
    for (let j = digitsAt; j < digitsAt + width; j++) sum += header[j];
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  }
  return gzipSync(tarBytes, { level: 1 });
}

/**
 * A self-signed certificate for 127.0.0.1, made with `openssl` (Node's crypto cannot issue certificates).
 * Undefined when `openssl` is missing.
 */
export function selfSignedCertificate(): { key: string; cert: string } | undefined {
  const dir = makeTempDir("tls");
  try {
    const key = path.join(dir, "key.pem");
    const cert = path.join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
        ...["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        ...["-keyout", key, "-out", cert],
      ],
      { stdio: "pipe", timeout: 30_000 },
    );
    return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A 64-bit ELF whose dynamic section has `count` DT_NEEDED entries all naming one string of `nameBytes`
 * bytes: a small file (it compresses to kilobytes) that an unbounded reader turns into count × nameBytes.
 */
export function neededBombElf(count: number, nameBytes: number): Buffer {
  const dynamicAt = 64 + 2 * 56;
  const dynamicSize = (count + 3) * 16;
  const stringsAt = dynamicAt + dynamicSize;
  const elf = Buffer.alloc(stringsAt + nameBytes + 1, 0);
  elf.write("\x7fELF", 0, "latin1");
  elf.set([2, 1, 1], 4); // 64-bit, little-endian, version 1
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(62, 18); // x86-64
  elf.writeBigUInt64LE(64n, 32); // e_phoff
  elf.writeUInt16LE(56, 54); // e_phentsize
  elf.writeUInt16LE(2, 56); // e_phnum
  const programHeader = (at: number, type: number, offset: number, size: number) => {
    elf.writeUInt32LE(type, at);
    elf.writeBigUInt64LE(BigInt(offset), at + 8);
    elf.writeBigUInt64LE(BigInt(offset), at + 16); // vaddr equals the file offset
    elf.writeBigUInt64LE(BigInt(size), at + 32);
  };
  programHeader(64, 1, 0, elf.length); // PT_LOAD: the whole file
  programHeader(64 + 56, 2, dynamicAt, dynamicSize); // PT_DYNAMIC
  const entry = (i: number, tag: bigint, value: bigint) => {
    elf.writeBigUInt64LE(tag, dynamicAt + i * 16);
    elf.writeBigUInt64LE(value, dynamicAt + i * 16 + 8);
  };
  for (let i = 0; i < count; i++) entry(i, 1n, 0n); // DT_NEEDED, offset 0 of the string table
  entry(count, 5n, BigInt(stringsAt)); // DT_STRTAB
  entry(count + 1, 10n, BigInt(nameBytes + 1)); // DT_STRSZ; DT_NULL follows
  elf.fill("a".charCodeAt(0), stringsAt, stringsAt + nameBytes);
  return elf;
}
