import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ForgeError, isUnclearStatus, networkReason } from "../../packages/forge/src/errors.js";
import { closedPort } from "../support/ports.js";

/*
 * What a forge error says and whether it leaves a write in doubt. `unclear` decides whether the
 * executor lists before it creates again (a wrong `false` opens duplicate issues); the network
 * reason is the one useful word of a failed fetch. The failures below are real fetches.
 */

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});


/** A port that accepts connections and never answers. */
async function silentPort(): Promise<number> {
  const server = createServer((socket) => void sockets.push(socket));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as { port: number }).port;
}

async function fetchError(url: string, init: RequestInit = {}): Promise<unknown> {
  try {
    await fetch(url, init);
  } catch (error) {
    return error;
  }
  throw new Error(`expected fetch(${url}) to fail`);
}

describe("networkReason", () => {
  it("names a refused connection by its code", async () => {
    const error = await fetchError(`http://127.0.0.1:${await closedPort()}/`);
    expect(networkReason(error)).toBe("ECONNREFUSED");
  });

  it("says 'timed out' for fetch's own timeout and for an abort", async () => {
    const url = `http://127.0.0.1:${await silentPort()}/`;
    expect(networkReason(await fetchError(url, { signal: AbortSignal.timeout(20) }))).toBe("timed out");
    const controller = new AbortController();
    const pending = fetchError(url, { signal: controller.signal });
    controller.abort();
    expect(networkReason(await pending)).toBe("timed out");
  });

  it("says 'timed out' when the timeout is the cause of a wrapping error", () => {
    const wrapped = new TypeError("fetch failed", { cause: Object.assign(new Error("The operation timed out."), { name: "TimeoutError" }) });
    expect(networkReason(wrapped)).toBe("timed out");
  });

  it("falls back to the cause's message, then the error's own, then the value itself", () => {
    expect(networkReason(new TypeError("fetch failed", { cause: new Error("getaddrinfo went away") }))).toBe("getaddrinfo went away");
    expect(networkReason(new TypeError("fetch failed"))).toBe("fetch failed");
    expect(networkReason(new TypeError("fetch failed", { cause: "a string" }))).toBe("fetch failed");
    expect(networkReason("socket hang up")).toBe("socket hang up");
    expect(networkReason(null)).toBe("null");
    expect(networkReason(undefined)).toBe("undefined");
  });
});

describe("isUnclearStatus", () => {
  it("is true when a write may have happened: no answer, a timeout (408) or a server error", () => {
    for (const status of [undefined, 408, 500, 502, 503, 599]) expect(isUnclearStatus(status), String(status)).toBe(true);
  });

  it("is false for answers that say the request was refused unprocessed", () => {
    for (const status of [200, 201, 400, 401, 403, 404, 407, 409, 422, 429, 499]) expect(isUnclearStatus(status), String(status)).toBe(false);
  });
});

describe("ForgeError", () => {
  it("carries the status, whether the write is in doubt, and the cause only when there is one", () => {
    const cause = new Error("ECONNRESET");
    const doubtful = new ForgeError("gitea ops/alerts: creating an issue failed", { unclear: true, cause });
    expect(doubtful).toMatchObject({ name: "ForgeError", code: "E_FORGE", status: undefined, unclear: true, cause });
    expect(String(doubtful)).toBe("ForgeError: gitea ops/alerts: creating an issue failed");

    const refused = new ForgeError("gitea ops/alerts: listing open issues failed with HTTP 401", { status: 401 });
    expect(refused).toMatchObject({ status: 401, unclear: false });
    expect("cause" in refused).toBe(false);
    expect("cause" in new ForgeError("no options")).toBe(false);
  });
});
