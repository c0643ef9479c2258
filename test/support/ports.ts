import type { Server } from "node:http";
import { createServer, type AddressInfo, type Socket } from "node:net";

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

/**
 * `server` listening on 127.0.0.1, port 0 (a fake forge, a proxy in front of one): its origin, and
 * a close that also drops the connections clients keep alive, so closing never waits on them.
 */
export async function listenOnLoopback(server: Server): Promise<{ origin: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
