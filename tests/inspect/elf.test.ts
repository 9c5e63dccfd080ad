import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import fc from "fast-check";
import { ElfError, parseElf, type ElfInfo } from "../../components/inspect/elf";
import { compilePause, makeTempDir } from "../support/fake-registry";

/** What binutils' readelf says, as an oracle independent of the parser under test. */
function readelf(file: string): {
  interpreter?: string;
  needed: string[];
  hasDynamic: boolean;
  type: string;
} {
  const segments = execFileSync("readelf", ["-lhW", file], { encoding: "utf8" });
  const dynamic = execFileSync("readelf", ["-dW", file], { encoding: "utf8" });
  return {
    interpreter: /\[Requesting program interpreter: (.+)\]/.exec(segments)?.[1],
    needed: [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]),
    hasDynamic: /^\s+DYNAMIC\s/m.test(segments),
    type: /Type:\s+(\w+)/.exec(segments)![1],
  };
}

const EXPECTED_MACHINE: Record<string, string> = { x64: "x86-64", arm64: "AArch64" };

interface Synthetic {
  bits: 32 | 64;
  little: boolean;
  machine: number;
  type: number;
  interpreter?: string;
  needed: string[];
  /** Store the program header count in section header 0, as files with 0xffff+ headers do. */
  xnum?: boolean;
}

/**
 * Writes a minimal ELF file: one PT_LOAD covering the file, optional PT_INTERP, and a PT_DYNAMIC with
 * DT_NEEDED entries into a string table, for the classes and byte orders this machine cannot compile.
 */
function buildElf(s: Synthetic): Buffer {
  const wide = s.bits === 64;
  const ehsize = wide ? 64 : 52;
  const phentsize = wide ? 56 : 32;
  const shentsize = wide ? 64 : 40;
  const base = 0x400000;
  const phdrs: { type: number; offset: number; size: number }[] = [];
  const phnum = 1 + (s.interpreter !== undefined ? 1 : 0) + (s.needed.length > 0 ? 1 : 0);
  let at = ehsize + phnum * phentsize;
  const interpAt = at;
  const interp = s.interpreter !== undefined ? Buffer.from(`${s.interpreter}\0`) : Buffer.alloc(0);
  at += interp.length;
  const strtabAt = at;
  const names = s.needed.map((n) => Buffer.from(`${n}\0`));
  const strtab = Buffer.concat([Buffer.from([0]), ...names]);
  at += strtab.length;
  at = Math.ceil(at / 8) * 8;
  const dynAt = at;
  const entry = wide ? 16 : 8;
  const dynCount = s.needed.length > 0 ? s.needed.length + 3 : 0;
  at += dynCount * entry;
  const shAt = at;
  const total = at + (s.xnum ? shentsize : 0);

  const buf = Buffer.alloc(total);
  const u16 = (o: number, v: number) => (s.little ? buf.writeUInt16LE(v, o) : buf.writeUInt16BE(v, o));
  const u32 = (o: number, v: number) => (s.little ? buf.writeUInt32LE(v, o) : buf.writeUInt32BE(v, o));
  const word = (o: number, v: number) =>
    wide ? (s.little ? buf.writeBigUInt64LE(BigInt(v), o) : buf.writeBigUInt64BE(BigInt(v), o)) : u32(o, v);
  buf.set([0x7f, 0x45, 0x4c, 0x46, wide ? 2 : 1, s.little ? 1 : 2, 1], 0);
  u16(16, s.type);
  u16(18, s.machine);
  u32(20, 1);
  word(wide ? 32 : 28, ehsize);
  if (s.xnum) word(wide ? 40 : 32, shAt);
  u16(wide ? 52 : 40, ehsize);
  u16(wide ? 54 : 42, phentsize);
  u16(wide ? 56 : 44, s.xnum ? 0xffff : phnum);
  if (s.xnum) {
    u16(wide ? 58 : 46, shentsize);
    u16(wide ? 60 : 48, 1);
    u32(shAt + (wide ? 44 : 28), phnum);
  }

  phdrs.push({ type: 1, offset: 0, size: total });
  if (s.interpreter !== undefined) phdrs.push({ type: 3, offset: interpAt, size: interp.length });
  if (dynCount > 0) phdrs.push({ type: 2, offset: dynAt, size: dynCount * entry });
  phdrs.forEach((p, i) => {
    const o = ehsize + i * phentsize;
    u32(o, p.type);
    if (wide) {
      word(o + 8, p.offset);
      word(o + 16, base + p.offset);
      word(o + 32, p.size);
      word(o + 40, p.size);
    } else {
      word(o + 4, p.offset);
      word(o + 8, base + p.offset);
      word(o + 16, p.size);
      word(o + 20, p.size);
    }
  });
  interp.copy(buf, interpAt);
  strtab.copy(buf, strtabAt);
  let d = dynAt;
  const dyn = (tag: number, value: number) => {
    word(d, tag);
    word(d + entry / 2, value);
    d += entry;
  };
  let offset = 1;
  for (const n of names) {
    dyn(1, offset);
    offset += n.length;
  }
  if (dynCount > 0) {
    dyn(5, base + strtabAt);
    dyn(10, strtab.length);
    dyn(0, 0);
  }
  return buf;
}

/** parseElf either answers or throws ElfError; anything else is a bug. */
function parseOrElfError(buf: Buffer): ElfInfo | ElfError {
  try {
    return parseElf(buf);
  } catch (err) {
    if (err instanceof ElfError) return err;
    throw err;
  }
}

describe("inspect/elf", () => {
  let dir: string;
  const bins: Record<string, string> = {};

  before(function () {
    this.timeout(120_000);
    dir = makeTempDir("elf");
    bins.dynamic = compilePause(dir, "dynamic", ["-Os"]);
    bins.static = compilePause(dir, "static", ["-static", "-Os"]);
    bins.staticPie = compilePause(dir, "static-pie", ["-static-pie", "-Os"]);
    bins.libm = compilePause(dir, "libm", ["-Os", "-Wl,--no-as-needed", "-lm"]);
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  describe("binaries compiled by cc on this machine", () => {
    for (const name of ["dynamic", "static", "staticPie", "libm"]) {
      it(`${name}: agrees with readelf`, () => {
        const info = parseElf(fs.readFileSync(bins[name]));
        const oracle = readelf(bins[name]);
        assert.equal(info.interpreter, oracle.interpreter);
        assert.deepEqual(info.neededLibraries, oracle.needed);
        assert.equal(info.type, oracle.type);
        assert.equal(info.isStatic, oracle.interpreter === undefined && oracle.needed.length === 0);
        assert.equal(info.bits, 64);
        if (EXPECTED_MACHINE[process.arch]) assert.equal(info.machine, EXPECTED_MACHINE[process.arch]);
      });
    }

    it("dynamic: names the loader and libc", () => {
      const info = parseElf(fs.readFileSync(bins.dynamic));
      assert.equal(info.isStatic, false);
      assert.match(info.interpreter ?? "", /^\/lib.*\/ld-linux.*\.so\.\d$/);
      assert.deepEqual(info.neededLibraries, ["libc.so.6"]);
    });

    it("libm: lists every DT_NEEDED in order", () => {
      assert.deepEqual(parseElf(fs.readFileSync(bins.libm)).neededLibraries, ["libm.so.6", "libc.so.6"]);
    });

    it("static: EXEC with no loader", () => {
      const info = parseElf(fs.readFileSync(bins.static));
      assert.deepEqual(
        [info.type, info.isStatic, info.interpreter, info.neededLibraries],
        ["EXEC", true, undefined, []],
      );
    });

    it("static-pie: has PT_DYNAMIC but no NEEDED, so it is static", () => {
      assert.equal(readelf(bins.staticPie).hasDynamic, true);
      const info = parseElf(fs.readFileSync(bins.staticPie));
      assert.deepEqual([info.type, info.isStatic, info.neededLibraries], ["DYN", true, []]);
    });
  });

  describe("synthetic files for other classes and byte orders", () => {
    const cases: [string, Synthetic, string][] = [
      [
        "32-bit little-endian x86",
        {
          bits: 32,
          little: true,
          machine: 3,
          type: 2,
          interpreter: "/lib/ld-linux.so.2",
          needed: ["libc.so.6"],
        },
        "x86",
      ],
      [
        "32-bit big-endian MIPS",
        {
          bits: 32,
          little: false,
          machine: 8,
          type: 3,
          interpreter: "/lib/ld.so.1",
          needed: ["libc.so.6", "libm.so.6"],
        },
        "MIPS",
      ],
      ["64-bit big-endian s390x", { bits: 64, little: false, machine: 22, type: 2, needed: [] }, "S390"],
      [
        "64-bit big-endian PowerPC64 with needed only",
        { bits: 64, little: false, machine: 21, type: 3, needed: ["libz.so.1"] },
        "PowerPC64",
      ],
      [
        "32-bit ARM with PN_XNUM",
        {
          bits: 32,
          little: true,
          machine: 40,
          type: 2,
          interpreter: "/lib/ld-linux-armhf.so.3",
          needed: ["libc.so.6"],
          xnum: true,
        },
        "ARM",
      ],
      ["unknown machine", { bits: 64, little: true, machine: 9999, type: 0xfe00, needed: [] }, "EM_9999"],
    ];
    for (const [title, spec, machine] of cases) {
      it(title, () => {
        const info = parseElf(buildElf(spec));
        assert.deepEqual(info, {
          bits: spec.bits,
          littleEndian: spec.little,
          machine,
          type: ({ 2: "EXEC", 3: "DYN" } as Record<number, string>)[spec.type] ?? "OTHER",
          ...(spec.interpreter !== undefined ? { interpreter: spec.interpreter } : {}),
          neededLibraries: spec.needed,
          isStatic: spec.interpreter === undefined && spec.needed.length === 0,
        });
      });
    }
  });

  describe("bad input", () => {
    it("rejects a script with the bytes it found", () => {
      assert.throws(() => parseElf(Buffer.from("#!/bin/sh\necho hi\n")), {
        name: "ElfError",
        message: /not an ELF file: it starts with \[23 21 2f 62\]/,
      });
    });

    it("rejects empty input", () => {
      assert.throws(() => parseElf(Buffer.alloc(0)), { name: "ElfError", message: /not an ELF file/ });
    });

    it("names the part that is cut off", () => {
      const full = fs.readFileSync(bins.dynamic);
      assert.throws(() => parseElf(full.subarray(0, 100)), {
        name: "ElfError",
        message: /truncated ELF file: program header \d+ at byte \d+ .* past the end of the 100-byte input/,
      });
    });

    it("rejects a bad class byte", () => {
      const buf = buildElf({ bits: 64, little: true, machine: 62, type: 2, needed: [] });
      buf[4] = 3;
      assert.throws(() => parseElf(buf), { name: "ElfError", message: /EI_CLASS is 3/ });
    });
  });

  describe("properties", () => {
    it("random bytes: a result or ElfError, nothing else", () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => void parseOrElfError(Buffer.from(bytes))),
        {
          numRuns: 2000,
        },
      );
    });

    it("random bytes behind a valid ident: a result or ElfError", () => {
      const ident = fc.tuple(
        fc.constantFrom(1, 2),
        fc.constantFrom(1, 2),
        fc.uint8Array({ maxLength: 2048 }),
      );
      fc.assert(
        fc.property(ident, ([cls, data, rest]) => {
          void parseOrElfError(
            Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, cls, data, 1]), Buffer.from(rest)]),
          );
        }),
        { numRuns: 3000 },
      );
    });

    it("any prefix of a real binary: ElfError, or exactly the full file's answer", () => {
      for (const name of ["dynamic", "static", "staticPie"]) {
        const full = fs.readFileSync(bins[name]);
        const expected = parseElf(full);
        fc.assert(
          fc.property(fc.integer({ min: 0, max: full.length }), (cut) => {
            const got = parseOrElfError(full.subarray(0, cut));
            // Every byte read is inside the prefix, so a successful parse must see the same data.
            if (!(got instanceof ElfError)) assert.deepEqual(got, expected);
          }),
          { numRuns: 500 },
        );
      }
    });

    it("bytes flipped in a real binary's headers: a result or ElfError", () => {
      const full = fs.readFileSync(bins.dynamic);
      const flips = fc.array(fc.tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      });
      fc.assert(
        fc.property(flips, (changes) => {
          const copy = Buffer.from(full);
          for (const [at, value] of changes) copy[at] = value;
          void parseOrElfError(copy);
        }),
        { numRuns: 3000 },
      );
    });

    it("synthetic files of any class, byte order and library list parse back to what was written", () => {
      const name = fc.stringMatching(/^[a-z][a-z0-9._+-]{0,30}$/);
      const spec = fc.record({
        bits: fc.constantFrom(32 as const, 64 as const),
        little: fc.boolean(),
        machine: fc.constantFrom(3, 8, 22, 40, 62, 183),
        type: fc.constantFrom(2, 3),
        interpreter: fc.option(
          name.map((n) => `/lib/${n}`),
          { nil: undefined },
        ),
        needed: fc.array(name, { maxLength: 6 }),
        xnum: fc.boolean(),
      });
      fc.assert(
        fc.property(spec, (s) => {
          const info = parseElf(buildElf(s));
          assert.equal(info.interpreter, s.interpreter);
          assert.deepEqual(info.neededLibraries, s.needed);
          assert.equal(info.isStatic, s.interpreter === undefined && s.needed.length === 0);
          assert.equal(info.bits, s.bits);
        }),
        { numRuns: 500 },
      );
    });

    it("truncating a synthetic file anywhere before its last byte read gives ElfError", () => {
      const buf = buildElf({
        bits: 32,
        little: false,
        machine: 8,
        type: 3,
        interpreter: "/lib/ld.so.1",
        needed: ["libc.so.6"],
      });
      // The file ends with DT_NULL: its tag (bytes -8..-4) is the last thing read, its value is never read.
      fc.assert(
        fc.property(fc.integer({ min: 0, max: buf.length - 5 }), (cut) => {
          assert.ok(parseOrElfError(buf.subarray(0, cut)) instanceof ElfError);
        }),
        { numRuns: 300 },
      );
      assert.equal(parseElf(buf.subarray(0, buf.length - 4)).neededLibraries[0], "libc.so.6");
    });
  });
});
