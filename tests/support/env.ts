import * as net from "node:net";
export { LOCAL_BUILDERS } from "../../harness/local-builders";

/** The local registry `scripts/dev-env up` starts. */
export const LOCAL_REGISTRY = "127.0.0.1:5000";

/** A name unique to this test run, so parallel or repeated runs never share images or containers. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}`;
}

/** A port nothing listens on now, on loopback. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
