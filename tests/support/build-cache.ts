import Docker from "dockerode";

/** One record of the engine's build cache, as `/system/df` lists it. */
export interface BuildCacheRecord {
  ID: string;
  /** `regular` for layers, `exec.cachemount` for `RUN --mount=type=cache`. */
  Type: string;
  /** For a cache mount: `cached mount <target> from exec <command>`; it does not name the mount's id. */
  Description: string;
  Size: number;
}

/** The engine's build cache records. */
export async function buildCacheRecords(docker: Docker): Promise<BuildCacheRecord[]> {
  return ((await docker.df()) as { BuildCache?: BuildCacheRecord[] }).BuildCache ?? [];
}

/**
 * Cache mounts made since `earlier` was listed. Docker 20.10 prunes build cache by record, not by cache id,
 * so a test or benchmark that gave its builds cache ids of their own finds its mounts this way.
 */
export async function cacheMountsSince(docker: Docker, earlier: Set<string>): Promise<BuildCacheRecord[]> {
  return (await buildCacheRecords(docker)).filter(
    (record) => record.Type === "exec.cachemount" && !earlier.has(record.ID),
  );
}

/** `docker builder prune --filter id=<record>` (dockerode's pruneBuilder sends no filters at all). */
export function pruneBuildCacheRecord(docker: Docker, id: string): Promise<unknown> {
  return new Promise((resolve, reject) =>
    docker.modem.dial(
      {
        path: "/build/prune?",
        method: "POST",
        options: { _query: { filters: { id: [id] } }, _body: {} },
        statusCodes: { 200: true, 500: "server error" },
      },
      (error, data) => (error ? reject(error) : resolve(data)),
    ),
  );
}
