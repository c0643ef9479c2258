import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { markerOfBody, ownIssues, syncAlerts, unadoptedIssues, type ForgeIssue, type SyncMode } from "@lastbeat/forge";
import type { JobState } from "lastbeat";
import { startFakeForge, type FakeForge } from "../support/fake-forge.js";
import { HOUR, NOW, forgeFor, state } from "./helpers.js";

/*
 * Many checkers, one repository and one label: each only ever touches the issues of its own
 * scope; two checkers sharing a scope cooperate as one; issues written before scopes existed are
 * adopted only by a checker where one of their jobs alerts, and that runs them all.
 */

const LABEL = "heartbeat";
const RUN = 15 * 60_000;

const okAt = (job: string, now: Date) => state(job, { at: new Date(now.getTime() - 60_000) }, now);
const staleAt = (job: string, now: Date) => state(job, { at: new Date(NOW.getTime() - 5 * HOUR) }, now);
const failedAt = (job: string, now: Date, code = 1) =>
  state(job, { at: new Date(now.getTime() - 60_000), status: "fail", exit_code: code, message: `exit ${code}` }, now);

let fake: FakeForge;
afterEach(() => fake.close());

/** Which scope wrote each request to an issue, from the issue's marker when it was created. */
function writesByScope(scope: string, fromRequest: number): Array<{ issue: number; owner: string | null }> {
  return fake.requests
    .slice(fromRequest)
    .filter((r) => r.method !== "GET")
    .map((r) => /\/issues\/(\d+)/.exec(r.path))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => {
      const issue = fake.issue(Number(m[1]));
      return { issue: issue.number, owner: markerOfBody(issue.body)?.scope ?? null };
    })
    .filter((w) => w.owner !== scope);
}

describe.each(["github", "gitea", "gitlab"] as const)("two hosts, one %s repository", (flavor) => {
  it("never touch each other's issues over many alternating runs (property)", async () => {
    let now = NOW;
    fake = await startFakeForge({ flavor, limitsClock: () => now });
    const forge = await forgeFor(fake);
    // Each step: which host runs, its mode, and which of its jobs fail (both hosts have a "backup").
    const step = fc.record({
      host: fc.constantFrom("web-1", "web-2"),
      mode: fc.constantFrom<SyncMode>("rollup", "per-job"),
      failing: fc.subarray(["backup", "db", "mail"]),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 4, maxLength: 10 }), async (steps) => {
        for (const { host, mode, failing } of steps) {
          now = new Date(now.getTime() + RUN);
          const states: JobState[] = ["backup", "db", "mail"].map((job) => (failing.includes(job) ? failedAt(job, now) : okAt(job, now)));
          const from = fake.requests.length;
          await syncAlerts(forge, { scope: host, mode, label: LABEL, states, now });
          expect(writesByScope(host, from)).toEqual([]);
          // The host's own issues say exactly what fails there.
          const mine = fake.openIssues(LABEL).filter((i) => markerOfBody(i.body)?.scope === host);
          if (failing.length === 0) expect(mine).toEqual([]);
          else expect(mine.length).toBe(mode === "rollup" ? 1 : failing.length);
        }
      }),
      { numRuns: 8 },
    );
  });
});

describe("scopes", () => {
  it("a healthy host never closes another host's alert, and titles say whose it is", async () => {
    fake = await startFakeForge({ flavor: "github" });
    const forge = await forgeFor(fake);
    await syncAlerts(forge, { scope: "web-1", mode: "rollup", label: LABEL, states: [failedAt("backup", NOW)], now: NOW });
    fake.resetLog();
    const r = await syncAlerts(forge, { scope: "web-2", mode: "rollup", label: LABEL, states: [okAt("backup", NOW)], now: NOW });
    expect(r.applied).toEqual([{ kind: "none", issue: null, key: null }]);
    expect(fake.counts()).toEqual({ reads: 1, writes: 0, total: 1 });
    expect(fake.openIssues(LABEL).map((i) => i.title)).toEqual(["[heartbeat-checker] web-1: 1 job alerting: backup"]);
  });

  it("two checkers of one scope (an HA pair) cooperate: one issue, no fight", async () => {
    fake = await startFakeForge({ flavor: "github" });
    const [a, b] = [await forgeFor(fake), await forgeFor(fake)];
    const states = [failedAt("backup", NOW)];
    const runs = await Promise.all([a, b].map((forge) => syncAlerts(forge, { scope: "db", mode: "rollup", label: LABEL, states, now: NOW })));
    expect(runs.flatMap((r) => r.applied.map((x) => x.kind)).filter((k) => k === "create").length).toBeGreaterThanOrEqual(1);
    expect(fake.openIssues(LABEL)).toHaveLength(1);
    fake.resetLog();
    for (const forge of [a, b, a]) await syncAlerts(forge, { scope: "db", mode: "rollup", label: LABEL, states, now: NOW });
    expect(fake.counts().writes).toBe(0);
  });

  it("adopts an issue written before scopes when it names our jobs; leaves it to the host that knows them otherwise", async () => {
    fake = await startFakeForge({ flavor: "gitea" });
    const forge = await forgeFor(fake);
    const legacy = fake.person.open({
      title: "[heartbeat-checker] 1 job alerting: backup",
      body: "<!-- lastbeat:rollup -->\n<!-- lastbeat:state backup=failed@2025-03-10T11:00:00.000Z -->\n\nold body\n",
      labels: [LABEL],
    });
    // Another host, other jobs: not its issue.
    let r = await syncAlerts(forge, { scope: "web-2", mode: "rollup", label: LABEL, states: [okAt("web", NOW)], now: NOW });
    expect(r.applied).toEqual([{ kind: "none", issue: null, key: null }]);
    // The host that runs "backup" adopts it: one edit, no new issue, no comment (nothing changed).
    r = await syncAlerts(forge, { scope: "web-1", mode: "rollup", label: LABEL, states: [failedAt("backup", NOW)], now: NOW });
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([["update", legacy.number]]);
    expect(markerOfBody(fake.issue(legacy.number).body)).toEqual({ key: "rollup", scope: "web-1" });
    expect(fake.issue(legacy.number).body).toContain("| backup | **failed** | 2025-03-10 11:59 UTC | 2025-03-10 11:00 UTC |");
    expect(fake.issue(legacy.number).comments).toEqual([]);
  });

  describe("issues from before scopes", () => {
    /** 2025-03-10 10:10 UTC in the state marker's minutes, base 36. */
    const T = Math.floor(Date.parse("2025-03-10T10:10:00Z") / 60_000).toString(36);
    const legacyBody = (state: string) => `<!-- lastbeat:rollup -->\n<!-- lastbeat:state ${state} -->\n\nold body\n`;
    const openLegacy = (state: string) =>
      fake.person.open({ title: "[heartbeat-checker] 1 job alerting: backup", body: legacyBody(state), labels: [LABEL] });

    it("a host where its jobs are healthy never closes it as recovered: the host still failing adopts it, and no second issue is opened", async () => {
      fake = await startFakeForge({ flavor: "github" });
      const forge = await forgeFor(fake);
      const legacy = openLegacy("backup=failed@2025-03-10T10:10:00.000Z");
      // Host B runs a healthy backup of its own: it leaves the issue open, untouched, and says so.
      fake.resetLog();
      const b = await syncAlerts(forge, { scope: "host-b", mode: "rollup", label: LABEL, states: [okAt("backup", NOW)], now: NOW });
      expect(b.applied).toEqual([{ kind: "none", issue: null, key: null }]);
      expect(fake.counts()).toEqual({ reads: 1, writes: 0, total: 1 });
      expect(b.unadopted).toEqual([{ issue: legacy.number, url: expect.stringContaining(`/${legacy.number}`), jobs: ["backup"] }]);
      expect(fake.issue(legacy.number)).toMatchObject({ state: "open", comments: [] });
      // Host A, whose backup still fails, takes it over: one edit, its scope, no new issue.
      const later = new Date(NOW.getTime() + RUN);
      const a = await syncAlerts(forge, { scope: "host-a", mode: "rollup", label: LABEL, states: [failedAt("backup", later)], now: later });
      expect(a.applied.map((x) => [x.kind, x.issue])).toEqual([["update", legacy.number]]);
      expect(a.unadopted).toEqual([]);
      expect(markerOfBody(fake.issue(legacy.number).body)).toEqual({ key: "rollup", scope: "host-a" });
      expect(fake.openIssues(LABEL).map((i) => i.number)).toEqual([legacy.number]);
      // From now on it is host A's: B, healthy, leaves it alone and no longer mentions it.
      const b2 = await syncAlerts(forge, { scope: "host-b", mode: "rollup", label: LABEL, states: [okAt("backup", later)], now: later });
      expect(b2).toMatchObject({ applied: [{ kind: "none", issue: null, key: null }], unadopted: [] });
      // And A closes it when its own backup recovers.
      const a2 = await syncAlerts(forge, { scope: "host-a", mode: "rollup", label: LABEL, states: [okAt("backup", later)], now: later });
      expect(a2.applied.map((x) => x.kind)).toEqual(["close"]);
    });

    it("one whose jobs recovered everywhere is adopted by nobody: left open, and named to every checker that runs one of its jobs", async () => {
      fake = await startFakeForge({ flavor: "gitea" });
      const forge = await forgeFor(fake);
      const legacy = openLegacy(`v2 fp=- h=- failed:backup@${T};stale:db@${T}`);
      for (const scope of ["host-a", "host-b"]) {
        const r = await syncAlerts(forge, { scope, mode: "rollup", label: LABEL, states: [okAt("backup", NOW), okAt("db", NOW)], now: NOW });
        expect(r.applied).toEqual([{ kind: "none", issue: null, key: null }]);
        expect(r.unadopted).toEqual([{ issue: legacy.number, url: expect.stringContaining(`/${legacy.number}`), jobs: ["backup", "db"] }]);
      }
      // A checker that runs none of its jobs says nothing about it.
      const other = await syncAlerts(forge, { scope: "host-c", mode: "rollup", label: LABEL, states: [okAt("web", NOW)], now: NOW });
      expect(other.unadopted).toEqual([]);
      expect(fake.issue(legacy.number)).toMatchObject({ state: "open", comments: [] });
    });

    it("is adopted only by a checker that runs every job it remembers: adopting never makes another host's job missing here", async () => {
      const issue = (number: number, body: string): ForgeIssue => ({ number, title: "t", body, createdAt: NOW.toISOString(), url: `u/${number}`, labels: [LABEL] });
      const legacy = issue(7, legacyBody(`v2 fp=- h=- failed:backup@${T},db@${T}`));
      const onlyBackup = [failedAt("backup", NOW)];
      expect(ownIssues([legacy], "host-b", onlyBackup)).toEqual(new Map());
      expect(unadoptedIssues([legacy], "host-b", onlyBackup)).toEqual([{ issue: legacy, jobs: ["backup", "db"] }]);
      const both = [failedAt("backup", NOW), okAt("db", NOW)];
      expect(ownIssues([legacy], "host-a", both)).toEqual(new Map([["rollup", [legacy]]]));
      expect(unadoptedIssues([legacy], "host-a", both)).toEqual([]);
      // Nothing alerting here: not adopted, whatever it runs; another scope's issue is never "unadopted".
      expect(ownIssues([legacy], "host-a", [okAt("backup", NOW), okAt("db", NOW)])).toEqual(new Map());
      const scoped = issue(8, `<!-- lastbeat:rollup scope=host-x -->\n<!-- lastbeat:state v2 fp=- h=- failed:backup@${T} -->\n`);
      expect(unadoptedIssues([scoped], "host-a", both)).toEqual([]);
    });
  });
});
