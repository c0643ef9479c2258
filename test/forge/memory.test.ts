import { afterEach, describe, expect, it } from "vitest";
import { markerOfBody, syncAlerts, type Forge, type SyncMode } from "@lastbeat/forge";
import type { JobState } from "lastbeat";
import { startFakeForge, type FakeForge } from "../support/fake-forge.js";
import { HOUR, NOW, SCOPE, forgeFor, state } from "./helpers.js";

/*
 * What the checker remembers in its open issue, and what it writes: only a change a reader acts
 * on (the alerting set, a status, a reason) writes; a vanished heartbeat is not a recovery; an
 * issue whose marker a person removed is adopted, not duplicated.
 */

const LABEL = "heartbeat";
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

/** A job failing every minute: its last beat moves on, its output too, its reason does not. */
const failingEveryMinute = (now: Date, code = 1) =>
  state("sync", { at: new Date(now.getTime() - 30_000), status: "fail", exit_code: code, message: `rsync exited ${code}`, output_tail: `run at ${now.toISOString()}\n` }, now);
const backupStale = (now: Date) => state("backup", { at: new Date(NOW.getTime() - 5 * HOUR) }, now);
const backupOk = (now: Date) => state("backup", { at: new Date(now.getTime() - 60_000) }, now);

let fake: FakeForge;
let forge: Forge;
afterEach(() => fake.close());

async function start(flavor: "github" | "gitea" | "gitlab" = "github"): Promise<void> {
  fake = await startFakeForge({ flavor });
  forge = await forgeFor(fake);
}

const sync = (mode: SyncMode, states: JobState[], now: Date, retired?: Set<string>) =>
  syncAlerts(forge, { scope: SCOPE, mode, label: LABEL, states, now, ...(retired && { retired }) });

describe.each(["rollup", "per-job"] as const)("in %s mode", (mode) => {
  it("a job failing every minute costs no write after the first run", async () => {
    await start();
    await sync(mode, [failingEveryMinute(NOW), backupOk(NOW)], NOW);
    fake.resetLog();
    for (let m = 1; m <= 20; m++) await sync(mode, [failingEveryMinute(minutes(m)), backupOk(minutes(m))], minutes(m));
    expect(fake.counts()).toEqual({ reads: 20, writes: 0, total: 20 });
    // A new reason (another exit code) is a change a reader acts on: edited, without a comment.
    const r = await sync(mode, [failingEveryMinute(minutes(21), 23), backupOk(minutes(21))], minutes(21));
    expect(r.applied.map((a) => a.kind)).toEqual(["update"]);
    expect(fake.openIssues(LABEL)[0]!.body).toContain("rsync exited 23");
    expect(fake.openIssues(LABEL)[0]!.comments).toEqual([]);
  });

  it("a cleared heartbeat folder is not a recovery: the jobs stay alerting as missing", async () => {
    await start("gitea");
    await sync(mode, [failingEveryMinute(NOW), backupStale(NOW)], NOW);
    const opened = fake.openIssues(LABEL).map((i) => i.number);
    // A reboot cleared /var/run: no heartbeat at all.
    let r = await sync(mode, [], minutes(15));
    expect(r.states.map((s) => [s.job, s.status, s.reason])).toEqual([
      ["sync", "missing", "heartbeat file removed"],
      ["backup", "missing", "heartbeat file removed"],
    ]);
    expect(fake.openIssues(LABEL).map((i) => i.number)).toEqual(opened);
    const comments = fake.issues.flatMap((i) => i.comments.map((c) => c.body));
    expect(comments.join("\n")).not.toMatch(/recovered|is now ok|no longer/);
    expect(comments.join("\n")).toContain("changed: failed → missing");
    // Still gone: nothing written. Since when each job alerts is kept.
    fake.resetLog();
    r = await sync(mode, [], minutes(30));
    expect(fake.counts().writes).toBe(0);
    expect(fake.openIssues(LABEL).map((i) => i.body).join("\n")).toContain("| backup | **missing** | never | 2025-03-10 09:00 UTC | — | heartbeat file removed |");

    // "backup" beats again; "sync" is retired on purpose: both leave the alert, and the closing
    // comment says which was retired.
    r = await sync(mode, [backupOk(minutes(45))], minutes(45), new Set(["sync"]));
    expect(fake.openIssues(LABEL)).toEqual([]);
    const last = fake.issues.flatMap((i) => i.comments.map((c) => c.body)).join("\n");
    expect(last).toContain("**sync** was retired on purpose (`lastbeat retire`)");
    expect(last).toContain("**backup** is now ok after alerting for");
  });
});

describe("people", () => {
  it("an issue whose marker a person removed is adopted, never duplicated", async () => {
    await start();
    await sync("rollup", [backupStale(NOW)], NOW);
    const [issue] = fake.openIssues(LABEL);
    // Someone "cleaned up" the body: no marker, no state, only their note.
    fake.person.editBody(issue!.number, "Looking into it — Ana\n");
    let r = await sync("rollup", [backupStale(minutes(15))], minutes(15));
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([["update", issue!.number]]);
    expect(fake.openIssues(LABEL)).toHaveLength(1);
    expect(markerOfBody(fake.issue(issue!.number).body)).toEqual({ key: "rollup", scope: SCOPE });
    r = await sync("rollup", [backupStale(minutes(30))], minutes(30));
    expect(r.applied).toEqual([{ kind: "none", issue: issue!.number, key: "rollup" }]);

    // Per-job issues and another scope's title are told apart by the title.
    await sync("per-job", [backupStale(minutes(45))], minutes(45));
    const job = fake.openIssues(LABEL).find((i) => i.title === "[heartbeat-checker] web-1: backup is stale")!;
    fake.person.editBody(job.number, "");
    fake.person.open({ title: "[heartbeat-checker] web-2: backup is stale", body: "", labels: [LABEL] });
    r = await sync("per-job", [backupStale(minutes(60))], minutes(60));
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([["update", job.number]]);
    expect(fake.openIssues(LABEL)).toHaveLength(2);
  });

  it.each([
    ["gitea", "PATCH"],
    ["gitlab", "PUT"],
  ] as const)("posts a change's comment once, however many runs its edit fails (%s)", async (flavor, edit) => {
    await start(flavor);
    await sync("rollup", [backupStale(NOW)], NOW);
    const [issue] = fake.openIssues(LABEL);
    const states = [backupStale(minutes(15)), failingEveryMinute(minutes(15))];
    // Every edit fails (a token that may comment but not edit, or a forge refusing the body).
    fake.fault({ method: edit, status: 403, times: 3 });
    for (let run = 0; run < 3; run++) await expect(sync("rollup", states, minutes(15 + run))).rejects.toThrow(/editing issue #1 failed with HTTP 403/);
    const once = [expect.stringContaining("**sync** started alerting: failed")];
    expect(fake.issue(issue!.number).comments.map((c) => c.body)).toEqual(once);
    // The edit goes through, and still one comment.
    const r = await sync("rollup", states, minutes(20));
    expect(r.applied).toEqual([{ kind: "comment", issue: 1, key: "rollup", recovered: true }, { kind: "update", issue: 1, key: "rollup" }]);
    expect(fake.issue(issue!.number).comments.map((c) => c.body)).toEqual(once);
    expect(fake.issue(issue!.number).body).toContain("| sync | **failed** |");
  });
});
