import { inspect } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ForgeError, createGiteaForge, redact, syncAlerts, type Forge } from "@lastbeat/forge";
import { startFakeForge, type FakeForge } from "../support/fake-forge.js";
import { HTTP_FORGES, NOW, at, failure, forgeAt, forgeFor, state, SCOPE } from "./helpers.js";
import { findLeaks } from "../support/leaks.js";
import { closedPort } from "../support/ports.js";

/*
 * Transient forge errors are retried with backoff; a create whose answer was lost is never sent
 * again blindly; what still fails is a ForgeError (exit 3) with a clear, token-free message, and
 * the next run reconciles. Waits are scaled to a millisecond: no test sleeps.
 */

const LABEL = "heartbeat";
const backupStale = state("backup", { at: at(-5) });
const run = (forge: Forge) => syncAlerts(forge, { scope: SCOPE, mode: "rollup", label: LABEL, states: [backupStale], now: NOW });


describe.each(HTTP_FORGES)("faults on %s", (flavor) => {
  let fake: FakeForge;
  let forge: Forge;
  beforeEach(async () => {
    fake = await startFakeForge({ flavor });
    forge = await forgeFor(fake);
  });
  afterEach(() => fake.close());
  const creates = () => fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/issues"));

  it("retries a 500 and then succeeds", async () => {
    fake.fault({ method: "GET", path: /\/issues$/, status: 500 });
    const r = await run(forge);
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    const lists = fake.requests.filter((q) => q.method === "GET" && q.path.endsWith("/issues"));
    expect(lists[0]!.status).toBe(500);
    expect(lists[1]!.status).toBe(200);
  });

  it("does not open a duplicate when a 502 comes back after the issue was created", async () => {
    fake.fault({ method: "POST", path: /\/issues$/, status: 502, afterHandling: true });
    const r = await run(forge);
    expect(r.applied[0]).toMatchObject({ kind: "create", recovered: true });
    expect(creates()).toHaveLength(1);
    expect(fake.openIssues(LABEL)).toHaveLength(1);
    // And the next run is steady.
    fake.resetLog();
    expect((await run(forge)).applied.map((a) => a.kind)).toEqual(["none"]);
    expect(fake.counts()).toEqual({ reads: 1, writes: 0, total: 1 });
  });

  it("does not open a duplicate when the connection drops after the issue was created", async () => {
    fake.fault({ method: "POST", path: /\/issues$/, drop: true, afterHandling: true });
    const r = await run(forge);
    expect(r.applied[0]).toMatchObject({ kind: "create", recovered: true });
    expect(creates()).toHaveLength(1);
    expect(fake.openIssues(LABEL)).toHaveLength(1);
  });

  it("creates again, once, after a 500 that created nothing (listing first)", async () => {
    fake.fault({ method: "POST", path: /\/issues$/, status: 500 });
    const r = await run(forge);
    expect(r.applied[0]).toMatchObject({ kind: "create" });
    expect(creates().map((c) => c.status)).toEqual([500, 201]);
    expect(fake.openIssues(LABEL)).toHaveLength(1);
  });

  it("waits out a 429 with retry-after, then succeeds", async () => {
    fake.fault({ method: "GET", path: /\/issues$/, status: 429, retryAfter: 1, ...(flavor !== "gitea" && { rateLimit: "primary" as const }) });
    const r = await run(forge);
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    expect(fake.requests[0]!.status).toBe(429);
  });

  it("waits out a 403 secondary rate limit with retry-after on a create, without a duplicate", async () => {
    fake.fault({ method: "POST", path: /\/issues$/, status: 403, retryAfter: 1, ...(flavor === "github" && { rateLimit: "secondary" as const }) });
    const r = await run(forge);
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    expect(creates().map((c) => c.status)).toEqual([403, 201]);
    expect(fake.openIssues(LABEL)).toHaveLength(1);
  });

  it("gives up on a server that keeps failing (exit 3), and the next run reconciles", async () => {
    // The first try and three retries.
    fake.fault({ method: "GET", status: 503, times: 4 });
    const error = await failure(run(forge));
    expect(error.code).toBe("E_FORGE");
    expect(error.message).toMatch(/listing open issues failed with HTTP 503/);
    expect(fake.requests.map((q) => q.status)).toEqual([503, 503, 503, 503]);
    expect(fake.openIssues(LABEL)).toHaveLength(0);
    expect((await run(forge)).applied.map((a) => a.kind)).toEqual(["create"]);
  });

  it("times out on a slow server with a clear message", async () => {
    // Long enough that only the delayed answers time out, even on a loaded machine.
    const slow = await forgeFor(fake, { timeoutMs: 1_000, retries: 1 });
    fake.fault({ method: "GET", delayMs: 5_000, times: 2 });
    const error = await failure(run(slow));
    expect(error.message).toMatch(/listing open issues failed: no answer.*(timed out|aborted|timeout)/i);
    expect(error.unclear).toBe(true);
    // The server answers again: the next run syncs.
    expect((await run(slow)).applied.map((a) => a.kind)).toEqual(["create"]);
  });

  it("reports a refused connection without the token, and the next run reconciles", async () => {
    const port = await closedPort();
    const url = fake.url.replace(/:\d+/, `:${port}`);
    const dead = await forgeAt(flavor, { url, repo: fake.repo, token: fake.token }, { retries: 1 });
    const error = await failure(run(dead));
    expect(error.message).toMatch(/ECONNREFUSED/);
    expect(error.message).not.toContain(fake.token);
    expect(JSON.stringify(error)).not.toContain(fake.token);
    expect((await run(forge)).applied.map((a) => a.kind)).toEqual(["create"]);
  });

  it("never shows the token in an auth failure, though the forge echoes it in its error", async () => {
    const token = "fake-wrong-token-0123456789";
    const wrong = await forgeAt(flavor, { url: fake.url, repo: fake.repo, token });
    const error = await failure(run(wrong));
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/HTTP 401/);
    // The fake's 401 answer carries the token: the check below can fail.
    expect(JSON.stringify(fake.requests.at(-1)?.response)).toContain(token);
    expect(findLeaks(error.message, token)).toEqual([]);
    expect(error.message).toContain("***"); // the echo is shown, the token cut out
    expect(error).toMatchObject({ name: "ForgeError", code: "E_FORGE", unclear: false });
    expect(findLeaks(String(error), token)).toEqual([]);
    expect(findLeaks(inspect(error, { depth: 8 }), token)).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });
});

describe("gitea waits", () => {
  it("honours retry-after through the injected sleep, and gives up when it is too long", async () => {
    const fake = await startFakeForge({ flavor: "gitea" });
    try {
      const waits: number[] = [];
      const forge = createGiteaForge({ repo: fake.repo, token: fake.token, url: fake.url, retryBaseMs: 1000, sleep: async (ms) => void waits.push(ms) });
      fake.fault({ method: "GET", status: 429, retryAfter: 7 });
      fake.fault({ method: "GET", status: 500 });
      await forge.listOpenIssues(LABEL);
      // retry-after when given, else growing backoff (second attempt: 2² × base).
      expect(waits).toEqual([7000, 4000]);
      fake.fault({ method: "GET", status: 429, retryAfter: 3600 });
      await expect(forge.listOpenIssues(LABEL)).rejects.toThrow(/HTTP 429/);
    } finally {
      await fake.close();
    }
  });
});

describe("redact (the forge's)", () => {
  it("cuts every occurrence of the token, and leaves text alone without one", () => {
    expect(redact("token abc123 and abc123", "abc123")).toBe("token *** and ***");
    expect(redact("token abc123", undefined)).toBe("token abc123");
    expect(redact("token abc123", "")).toBe("token abc123");
  });
});
