/**
 * BuildKit reports a build's output through the engine API as `moby.buildkit.trace` events whose `aux` is a
 * base64 protobuf `StatusResponse`. Its field 3 holds `VertexLog` messages whose field 4 is the raw output
 * of a step. This reads just those bytes from the protobuf wire format; everything else is skipped.
 */

function readVarint(buf: Buffer, offset: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  for (let i = offset; i < buf.length; i++) {
    value += (buf[i] & 0x7f) * 2 ** shift;
    if ((buf[i] & 0x80) === 0) return [value, i + 1];
    shift += 7;
  }
  throw new Error("truncated varint");
}

/** Calls `visit` with each field number and, for length-delimited fields, its bytes. */
function forEachField(buf: Buffer, visit: (field: number, bytes?: Buffer) => void): void {
  let offset = 0;
  while (offset < buf.length) {
    const [key, afterKey] = readVarint(buf, offset);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    if (wireType === 0) offset = readVarint(buf, afterKey)[1];
    else if (wireType === 1) offset = afterKey + 8;
    else if (wireType === 5) offset = afterKey + 4;
    else if (wireType === 2) {
      const [length, start] = readVarint(buf, afterKey);
      visit(field, buf.subarray(start, start + length));
      offset = start + length;
      continue;
    } else throw new Error(`unsupported wire type ${wireType}`);
    visit(field);
  }
}

/** The step output carried by one trace event's `aux` value; empty when it carries none or is malformed. */
export function traceLogText(aux: string): string {
  const parts: Buffer[] = [];
  try {
    forEachField(Buffer.from(aux, "base64"), (field, bytes) => {
      if (field !== 3 || !bytes) return;
      forEachField(bytes, (logField, msg) => {
        if (logField === 4 && msg) parts.push(msg);
      });
    });
  } catch {
    return "";
  }
  return Buffer.concat(parts).toString("utf8");
}
