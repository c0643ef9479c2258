import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

/*
 * A loopback HTTP proxy in front of the fake forge that the drills switch between "up"
 * (forward), "down" (every request answers 503, as a load balancer does during an outage) and
 * "refused" (nothing listens on the port: ECONNREFUSED). The forge behind it keeps its issues,
 * so "the forge returns" means the same forge with the same state, on the same address.
 */

export type OutageMode = "up" | "down" | "refused";

export interface OutageProxy {
  /** `http://127.0.0.1:<port>` plus the target's path prefix (e.g. `/api/v1` for Gitea). */
  readonly url: string;
  readonly mode: OutageMode;
  /** Requests answered 503 or forwarded while down/up (refused ones never arrive). */
  readonly seen: { down: number; up: number };
  set(mode: OutageMode): Promise<void>;
  /** Goes "down" (503) by itself once a request matching this has been forwarded: an outage mid-sync. */
  downAfter(match: (method: string, path: string) => boolean): void;
  /**
   * Holds the next request unanswered (a forge that stopped answering) and resolves once it has
   * arrived, so a test can act while the client waits on it. Held requests are dropped by
   * `set("refused")` or `close()`.
   */
  holdNext(): Promise<void>;
  close(): Promise<void>;
}

export async function startOutageProxy(target: string): Promise<OutageProxy> {
  const upstream = new URL(target);
  let mode: OutageMode = "up";
  let trigger: ((method: string, path: string) => boolean) | null = null;
  let holding: (() => void) | null = null;
  const seen = { down: 0, up: 0 };
  const sockets = new Set<Socket>();

  function forward(req: IncomingMessage, res: ServerResponse) {
    seen.up++;
    if (trigger?.(req.method ?? "", (req.url ?? "").split("?")[0]!)) {
      trigger = null;
      mode = "down";
    }
    const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on("error", () => res.destroy());
    req.pipe(out);
  }

  const server: Server = createServer((req, res) => {
    if (holding) {
      const arrived = holding;
      holding = null;
      arrived();
      return; // never answered: the socket is destroyed on refused/close
    }
    if (mode !== "up") {
      seen.down++;
      req.resume();
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ message: "Service Unavailable" }));
      return;
    }
    forward(req, res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const prefix = upstream.pathname.replace(/\/+$/, "");

  const stopListening = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      server.close(() => resolve());
    });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });

  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    get mode() {
      return mode;
    },
    seen,
    async set(next) {
      trigger = null;
      if (next === mode) return;
      const wasListening = mode !== "refused";
      mode = next;
      if (next === "refused" && wasListening) await stopListening();
      if (next !== "refused" && !wasListening) await listen();
    },
    downAfter(match) {
      trigger = match;
    },
    holdNext() {
      return new Promise<void>((resolve) => (holding = resolve));
    },
    async close() {
      if (mode !== "refused") await stopListening();
    },
  };
}
