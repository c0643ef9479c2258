import { createServer } from "node:net";

/**
 * A loopback port nothing listens on: connecting is refused at once (a forge that is down, a
 * registry that is unreachable). Found by listening on port 0 and closing again.
 */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
