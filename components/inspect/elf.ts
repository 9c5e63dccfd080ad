/** An input that is not an ELF file, or an ELF file whose headers point outside the bytes given. */
export class ElfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ElfError";
  }
}

/** The ELF object type from `e_type`; `OTHER` covers OS- and processor-specific values. */
export type ElfType = "NONE" | "REL" | "EXEC" | "DYN" | "CORE" | "OTHER";

/** What an executable needs from the system to start, read from its ELF program headers. */
export interface ElfInfo {
  bits: 32 | 64;
  littleEndian: boolean;
  /** Architecture name from `e_machine`, e.g. `x86-64`, `AArch64`; `EM_<number>` when not a common one. */
  machine: string;
  type: ElfType;
  /** The dynamic loader from PT_INTERP, e.g. `/lib64/ld-linux-x86-64.so.2`. */
  interpreter?: string;
  /** DT_NEEDED entries in order, e.g. `["libc.so.6"]`. */
  neededLibraries: string[];
  /** No PT_INTERP and no DT_NEEDED: runs in an empty filesystem. A static-pie has PT_DYNAMIC yet is static. */
  isStatic: boolean;
}

const TYPES: Record<number, ElfType> = { 0: "NONE", 1: "REL", 2: "EXEC", 3: "DYN", 4: "CORE" };
const MACHINES: Record<number, string> = {
  2: "SPARC",
  3: "x86",
  8: "MIPS",
  20: "PowerPC",
  21: "PowerPC64",
  22: "S390",
  40: "ARM",
  43: "SPARC V9",
  62: "x86-64",
  183: "AArch64",
  243: "RISC-V",
  258: "LoongArch",
};

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
const DT_NULL = 0n;
const DT_NEEDED = 1n;
const DT_STRTAB = 5n;
const DT_STRSZ = 10n;
/** e_phnum value meaning "the real count is in section header 0's sh_info". */
const PN_XNUM = 0xffff;
/**
 * Bounds on what the report keeps, so a crafted binary cannot turn a small file into a huge answer (8,192
 * entries naming one 1 MiB string would be 8 GiB of strings). Real executables need a few dozen libraries.
 */
export const MAX_NEEDED = 256;
/** Linux's PATH_MAX: the loader cannot open a longer name, and a string is searched no further. */
export const MAX_ELF_STRING = 4096;

interface Segment {
  type: number;
  offset: number;
  vaddr: number;
  filesz: number;
}

/** Bounds-checked reads that throw ElfError instead of RangeError, so any input fails the same way. */
class Reader {
  constructor(
    private readonly buf: Buffer,
    readonly bits: 32 | 64,
    readonly little: boolean,
  ) {}

  private check(offset: number, size: number, what: string): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + size > this.buf.length) {
      throw new ElfError(
        `truncated ELF file: ${what} at byte ${offset} (${size} bytes) is past the end of the ${this.buf.length}-byte input`,
      );
    }
  }

  u16(offset: number, what: string): number {
    this.check(offset, 2, what);
    return this.little ? this.buf.readUInt16LE(offset) : this.buf.readUInt16BE(offset);
  }

  u32(offset: number, what: string): number {
    this.check(offset, 4, what);
    return this.little ? this.buf.readUInt32LE(offset) : this.buf.readUInt32BE(offset);
  }

  /** A 64-bit field as bigint; tags and addresses can exceed 2^53. */
  u64(offset: number, what: string): bigint {
    this.check(offset, 8, what);
    return this.little ? this.buf.readBigUInt64LE(offset) : this.buf.readBigUInt64BE(offset);
  }

  /** A word-sized field (4 or 8 bytes by class) as bigint. */
  word(offset: number, what: string): bigint {
    return this.bits === 64 ? this.u64(offset, what) : BigInt(this.u32(offset, what));
  }

  /** A word-sized field that is used as a file offset or size, so it must fit a JS number. */
  num(offset: number, what: string): number {
    return toNumber(this.word(offset, what), what);
  }

  /** A NUL-terminated string starting at `offset`, not reading past `end` nor past MAX_ELF_STRING bytes. */
  cstring(offset: number, end: number, what: string): string {
    this.check(offset, 0, what);
    const limit = Math.min(end, this.buf.length);
    // Searching only the allowed span keeps each lookup O(MAX_ELF_STRING), however long the input string.
    const span = this.buf.subarray(offset, Math.min(limit, offset + MAX_ELF_STRING + 1));
    const nul = span.indexOf(0);
    if (nul < 0 && span.length > MAX_ELF_STRING) {
      throw new ElfError(
        `invalid ELF file: ${what} at byte ${offset} is longer than ${MAX_ELF_STRING} bytes (PATH_MAX)`,
      );
    }
    if (nul < 0) throw new ElfError(`truncated ELF file: ${what} at byte ${offset} has no terminating NUL`);
    return span.toString("utf8", 0, nul);
  }
}

function toNumber(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ElfError(`invalid ELF file: ${what} is 0x${value.toString(16)}, larger than any file`);
  }
  return Number(value);
}

/**
 * Reads the ELF header, program headers and dynamic section of an executable: enough to tell whether it
 * needs a dynamic loader or shared libraries. Section headers are not needed (they can be stripped).
 * @throws ElfError when `buf` is not ELF or is cut short before the parts read here.
 */
export function parseElf(buf: Buffer): ElfInfo {
  if (buf.length < 16 || buf[0] !== 0x7f || buf[1] !== 0x45 || buf[2] !== 0x4c || buf[3] !== 0x46) {
    const start = [...buf.subarray(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
    throw new ElfError(`not an ELF file: it starts with [${start}], not 7f 45 4c 46 ("\\x7fELF")`);
  }
  const bits = buf[4] === 1 ? 32 : buf[4] === 2 ? 64 : undefined;
  if (bits === undefined) throw new ElfError(`invalid ELF file: EI_CLASS is ${buf[4]}, expected 1 or 2`);
  if (buf[5] !== 1 && buf[5] !== 2)
    throw new ElfError(`invalid ELF file: EI_DATA is ${buf[5]}, expected 1 or 2`);
  const r = new Reader(buf, bits, buf[5] === 1);
  const wide = bits === 64;

  const eType = r.u16(16, "e_type");
  const eMachine = r.u16(18, "e_machine");
  const phoff = r.num(wide ? 32 : 28, "e_phoff");
  const phentsize = r.u16(wide ? 54 : 42, "e_phentsize");
  let phnum = r.u16(wide ? 56 : 44, "e_phnum");
  if (phnum === PN_XNUM) {
    const shoff = r.num(wide ? 40 : 32, "e_shoff");
    phnum = r.u32(shoff + (wide ? 44 : 28), "sh_info of section header 0");
  }
  const minEntry = wide ? 56 : 32;
  if (phnum > 0 && phentsize < minEntry) {
    throw new ElfError(`invalid ELF file: e_phentsize is ${phentsize}, smaller than ${minEntry}`);
  }

  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    const what = `program header ${i}`;
    segments.push(
      wide
        ? {
            type: r.u32(at, what),
            offset: r.num(at + 8, what),
            vaddr: toNumberOrInf(r.u64(at + 16, what)),
            filesz: r.num(at + 32, what),
          }
        : {
            type: r.u32(at, what),
            offset: r.num(at + 4, what),
            vaddr: r.num(at + 8, what),
            filesz: r.num(at + 16, what),
          },
    );
  }

  let interpreter: string | undefined;
  const interp = segments.find((s) => s.type === PT_INTERP);
  if (interp) interpreter = r.cstring(interp.offset, interp.offset + interp.filesz, "PT_INTERP");

  const neededLibraries = readNeeded(r, segments);
  return {
    bits,
    littleEndian: r.little,
    machine: MACHINES[eMachine] ?? `EM_${eMachine}`,
    type: TYPES[eType] ?? "OTHER",
    ...(interpreter !== undefined ? { interpreter } : {}),
    neededLibraries,
    isStatic: interpreter === undefined && neededLibraries.length === 0,
  };
}

/** Virtual addresses above 2^53 cannot map to file bytes here; Infinity makes them match no lookup. */
function toNumberOrInf(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(value);
}

/** DT_NEEDED names: offsets into DT_STRTAB, whose address is mapped to a file offset via PT_LOAD. */
function readNeeded(r: Reader, segments: Segment[]): string[] {
  const dynamic = segments.find((s) => s.type === PT_DYNAMIC);
  if (!dynamic) return [];
  const entrySize = r.bits === 64 ? 16 : 8;
  const half = entrySize / 2;
  const neededOffsets: bigint[] = [];
  let strtab: bigint | undefined;
  let strsz: bigint | undefined;
  for (let at = dynamic.offset; at + entrySize <= dynamic.offset + dynamic.filesz; at += entrySize) {
    const tag = r.word(at, "dynamic entry");
    if (tag === DT_NULL) break;
    const value = r.word(at + half, "dynamic entry");
    if (tag === DT_NEEDED && neededOffsets.push(value) > MAX_NEEDED) {
      throw new ElfError(
        `invalid ELF file: more than ${MAX_NEEDED} DT_NEEDED entries, more than any executable needs`,
      );
    } else if (tag === DT_STRTAB) strtab = value;
    else if (tag === DT_STRSZ) strsz = value;
  }
  if (neededOffsets.length === 0) return [];
  if (strtab === undefined) throw new ElfError("invalid ELF file: DT_NEEDED entries but no DT_STRTAB");

  const address = toNumber(strtab, "DT_STRTAB");
  const load = segments.find((s) => s.type === PT_LOAD && s.vaddr <= address && address < s.vaddr + s.filesz);
  if (!load) {
    throw new ElfError(
      `invalid ELF file: DT_STRTAB address 0x${strtab.toString(16)} is in no PT_LOAD segment`,
    );
  }
  const tableStart = load.offset + (address - load.vaddr);
  // The table ends at DT_STRSZ when given, else at the end of the segment that holds it.
  const tableEnd = Math.min(
    load.offset + load.filesz,
    strsz === undefined ? Infinity : tableStart + toNumber(strsz, "DT_STRSZ"),
  );
  return neededOffsets.map((offset) => {
    const at = tableStart + toNumber(offset, "DT_NEEDED");
    if (at >= tableEnd)
      throw new ElfError(`invalid ELF file: DT_NEEDED offset ${offset} is outside DT_STRTAB`);
    return r.cstring(at, tableEnd, "DT_NEEDED name");
  });
}
