/**
 * BuildKit reports a build's progress through the engine API as `moby.buildkit.trace` events whose `aux` is
 * a base64 protobuf `StatusResponse` (moby/buildkit api/services/control/control.proto). protobufjs decodes
 * it against the subset of that schema read here: the steps (vertexes: name, start, end, error), their
 * progress (statuses) and their output (logs). Fields not listed are skipped by the decoder.
 */
import * as protobuf from "protobufjs";

const TIMESTAMP = { fields: { seconds: { type: "int64", id: 1 }, nanos: { type: "int32", id: 2 } } };

const STATUS_RESPONSE = protobuf.Root.fromJSON({
  nested: {
    Timestamp: TIMESTAMP,
    Vertex: {
      fields: {
        digest: { type: "string", id: 1 },
        name: { type: "string", id: 3 },
        cached: { type: "bool", id: 4 },
        started: { type: "Timestamp", id: 5 },
        completed: { type: "Timestamp", id: 6 },
        error: { type: "string", id: 7 },
      },
    },
    VertexStatus: {
      fields: {
        ID: { type: "string", id: 1 },
        vertex: { type: "string", id: 2 },
        current: { type: "int64", id: 4 },
        total: { type: "int64", id: 5 },
      },
    },
    VertexLog: {
      fields: { vertex: { type: "string", id: 1 }, msg: { type: "bytes", id: 4 } },
    },
    StatusResponse: {
      fields: {
        vertexes: { rule: "repeated", type: "Vertex", id: 1 },
        statuses: { rule: "repeated", type: "VertexStatus", id: 2 },
        logs: { rule: "repeated", type: "VertexLog", id: 3 },
      },
    },
  },
}).lookupType("StatusResponse");

/** One step of a build, as far as this event tells: a later event may add its end or error. */
export interface TraceVertex {
  digest: string;
  /** What the step runs, e.g. `[build 4/6] RUN gcc -o /out/app app.c`. */
  name: string;
  cached: boolean;
  started: boolean;
  completed: boolean;
  error: string;
}

/** What one trace event carries. */
export interface TraceStatus {
  vertexes: TraceVertex[];
  statuses: { id: string; vertex: string; current: number; total: number }[];
  logs: { vertex: string; msg: Buffer }[];
}

/** Decodes one trace event's `aux` value; a malformed one carries nothing. */
export function decodeTrace(aux: string): TraceStatus {
  let decoded: Record<string, unknown>;
  try {
    const message = STATUS_RESPONSE.decode(Buffer.from(aux, "base64"));
    decoded = STATUS_RESPONSE.toObject(message, { longs: Number, defaults: true, arrays: true });
  } catch {
    return { vertexes: [], statuses: [], logs: [] };
  }
  const vertexes = (decoded.vertexes as Record<string, unknown>[]).map((v) => ({
    digest: v.digest as string,
    name: v.name as string,
    cached: v.cached as boolean,
    started: v.started != null,
    completed: v.completed != null,
    error: v.error as string,
  }));
  const statuses = (decoded.statuses as Record<string, unknown>[]).map((s) => ({
    id: s.ID as string,
    vertex: s.vertex as string,
    current: s.current as number,
    total: s.total as number,
  }));
  const logs = (decoded.logs as Record<string, unknown>[]).map((l) => ({
    vertex: l.vertex as string,
    msg: Buffer.from(l.msg as Uint8Array),
  }));
  return { vertexes, statuses, logs };
}
