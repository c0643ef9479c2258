import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { saidId, saidOfComment, stateOfBody, syncAlerts, type SyncMode } from "@lastbeat/forge";
import type { JobState } from "lastbeat";
import { BOT } from "../support/fake-forge/state.js";
import { harness, type Harness } from "./harness.js";
import { HTTP_FORGES, NOW, backupOk, backupStale, dbFailed, dbOk, failure, minutes, SCOPE } from "./helpers.js";

/*
 * Every change and every close is said exactly once, whichever of its writes fails. A change is
 * announced comment first, then edited: a comment that fails leaves the body as it was, so the
 * next run plans the same change and posts it. A comment that went out before its edit or close
 * failed ends with the same said line the next run would write, and the next run finds it among
 * the issue's latest comments and does not post it again.
 */

const LABEL = "heartbeat";

describe.each(["github", "gitea", "gitlab", "file"] as const)("said once on the %s forge", (kind) => {
  let h: Harness;
  beforeEach(async () => {
    h = await harness(kind, LABEL);
  });
  afterEach(async () => {
    await h.cleanup();
  });

  const sync = (states: JobState[], now: Date, mode: SyncMode = "rollup") => syncAlerts(h.forge, { scope: SCOPE, mode, label: LABEL, states, now });
  /** The one open issue, after a first run opened it for a stale backup. */
  const opened = async () => {
    await sync([backupStale(NOW), dbOk(NOW)], NOW);
    const [issue] = await h.open();
    return issue!;
  };
  const changed = (m: number) => [backupStale(minutes(m)), dbFailed(minutes(m))];
  const recovered = (m: number) => [backupOk(minutes(m)), dbOk(minutes(m))];
  const steady = async (states: JobState[], now: Date) => {
    h.resetLog();
    expect((await sync(states, now)).applied.map((a) => a.kind)).toEqual(["none"]);
    expect(h.counts()).toEqual({ reads: 1, writes: 0, total: 1 });
  };

  it("a change whose comment fails leaves the body as it was; the next run posts it once and edits", async () => {
    const issue = await opened();
    h.fail("comment");
    const error = await failure(sync(changed(15), minutes(15)));
    expect(error.message).toMatch(kind === "file" ? /comment failed \(injected\)/ : /commenting on issue #1 failed with HTTP 502/);
    let [now] = await h.open();
    expect(now!.body).toBe(issue.body);
    expect(now!.comments).toEqual([]);

    const r = await sync(changed(30), minutes(30));
    expect(r.applied).toEqual([{ kind: "comment", issue: issue.number, key: "rollup" }, { kind: "update", issue: issue.number, key: "rollup" }]);
    [now] = await h.open();
    expect(now!.comments).toEqual([expect.stringContaining("**db-dump** started alerting: failed")]);
    expect(now!.body).toContain("| db-dump | **failed** |");
    await steady(changed(45), minutes(45));
  });

  it("a change whose edit fails after its comment went out is not announced again: the next run only edits", async () => {
    const issue = await opened();
    h.fail("updateIssue");
    await failure(sync(changed(15), minutes(15)));
    let [now] = await h.open();
    expect(now!.body).toBe(issue.body);
    expect(now!.comments).toEqual([expect.stringContaining("**db-dump** started alerting: failed")]);
    expect(now!.comments[0]).toMatch(/\n<!-- lastbeat:said [0-9a-f]{16} -->\n?$/);

    h.resetLog();
    const r = await sync(changed(30), minutes(30));
    expect(r.applied).toEqual([{ kind: "comment", issue: issue.number, key: "rollup", recovered: true }, { kind: "update", issue: issue.number, key: "rollup" }]);
    // The list, the issue's comments, the edit.
    expect(h.counts()).toEqual({ reads: 2, writes: 1, total: 3 });
    [now] = await h.open();
    expect(now!.comments).toHaveLength(1);
    expect(now!.body).toContain("| db-dump | **failed** |");
    await steady(changed(45), minutes(45));
  });

  it("a close that fails after its comment went out is closed by the next run without a second comment", async () => {
    const issue = await opened();
    h.fail("closeIssue");
    await failure(sync(recovered(15), minutes(15)));
    expect((await h.open()).map((i) => i.comments)).toEqual([[expect.stringContaining("The job has recovered; closing.")]]);

    const r = await sync(recovered(30), minutes(30));
    expect(r.applied).toEqual([{ kind: "close", issue: issue.number, key: "rollup", recovered: true }]);
    expect(await h.open()).toEqual([]);
    const closed = (await h.all()).find((i) => i.number === issue.number)!;
    expect(closed.state).toBe("closed");
    expect(closed.comments).toEqual([expect.stringContaining("The job has recovered; closing.")]);
    await steady(recovered(45), minutes(45));
  });

  it("a person's comment after ours does not hide it, and a change made again later is announced again", async () => {
    const issue = await opened();
    h.fail("updateIssue");
    await failure(sync(changed(15), minutes(15)));
    await h.personComments(issue.number, "looking into it");
    await sync(changed(30), minutes(30));
    let [now] = await h.open();
    expect(now!.comments).toEqual([expect.stringContaining("started alerting: failed"), "looking into it"]);

    // db-dump recovers, then fails again: the same change as before, said again.
    await sync([backupStale(minutes(45)), dbOk(minutes(45))], minutes(45));
    const r = await sync(changed(60), minutes(60));
    expect(r.applied.map((a) => a.kind)).toEqual(["comment", "update"]);
    [now] = await h.open();
    expect(now!.comments.map((c) => /started alerting|is now ok/.exec(c)?.[0] ?? c)).toEqual([
      "started alerting",
      "looking into it",
      "is now ok",
      "started alerting",
    ]);
  });
});

/**
 * `fn` on a forge of `flavor` whose one open issue a first run opened for a stale backup, with
 * the rollup sync to run next; the forge is cleaned up after.
 */
async function withOpenIssue(
  flavor: (typeof HTTP_FORGES)[number],
  fn: (c: { h: Harness; sync: (states: JobState[], now: Date) => ReturnType<typeof syncAlerts>; issue: { number: number; body: string } }) => Promise<void>,
): Promise<void> {
  const h = await harness(flavor, LABEL);
  try {
    const sync = (states: JobState[], now: Date) => syncAlerts(h.forge, { scope: SCOPE, mode: "rollup", label: LABEL, states, now });
    await sync([backupStale(NOW), dbOk(NOW)], NOW);
    const [issue] = await h.open();
    await fn({ h, sync, issue: issue! });
  } finally {
    await h.cleanup();
  }
}

describe("a said line nobody else can write", () => {
  it.each(HTTP_FORGES)("%s: a person who plants the very line lastbeat would write does not silence the close: only the issue author's comments count", async (flavor) => {
    await withOpenIssue(flavor, async ({ h, sync, issue }) => {
      // Everything in the id is in the issue's body, which anyone who may comment can read.
      const planted = saidId(stateOfBody(issue.body), "closed");
      await h.personComments(issue.number, `fixed it\n\n<!-- lastbeat:said ${planted} -->`);
      const r = await sync([backupOk(minutes(15)), dbOk(minutes(15))], minutes(15));
      expect(r.applied).toEqual([{ kind: "close", issue: issue.number, key: "rollup" }]);
      const closed = (await h.all()).find((i) => i.number === issue.number)!;
      expect(closed.comments).toEqual([expect.stringContaining("fixed it"), expect.stringContaining("The job has recovered; closing.")]);
      expect(saidOfComment(closed.comments[1]!)).toBe(planted);
    });
  });

  it.each(HTTP_FORGES)("%s: the checker's own said line still counts after a person's comment, and one by the account that opened the issue counts as its own", async (flavor) => {
    await withOpenIssue(flavor, async ({ h, sync, issue }) => {
      const closing = saidId(stateOfBody(issue.body), "closed");
      // The checker's account said it (a run whose close then failed), a person spoke after.
      h.fake!.person.comment(issue.number, `The job has recovered; closing.\n\n<!-- lastbeat:said ${closing} -->`, BOT);
      await h.personComments(issue.number, "thanks");
      const r = await sync([backupOk(minutes(15)), dbOk(minutes(15))], minutes(15));
      expect(r.applied).toEqual([{ kind: "close", issue: issue.number, key: "rollup", recovered: true }]);
      expect((await h.all()).find((i) => i.number === issue.number)!.comments).toHaveLength(2);
    });
  });
});

describe("a said line of another account", () => {
  it.each(HTTP_FORGES)("%s: after the latest said line came from another account (a new token's), a change is announced, never silenced by an older line", async (flavor) => {
    await withOpenIssue(flavor, async ({ h, sync, issue }) => {
      // The checker's account announced db-dump failing, then its edit failed.
      h.fail("updateIssue");
      await failure(sync([backupStale(minutes(15)), dbFailed(minutes(15))], minutes(15)));
      // The checker now runs under another account, whose comment said something else since.
      h.fake!.person.comment(issue.number, "**db-dump** is now ok.\n\n<!-- lastbeat:said 0123456789abcdef -->", "lastbeat-app[bot]");
      const r = await sync([backupStale(minutes(30)), dbFailed(minutes(30))], minutes(30));
      expect(r.applied).toEqual([{ kind: "comment", issue: issue.number, key: "rollup" }, { kind: "update", issue: issue.number, key: "rollup" }]);
      expect((await h.open())[0]!.comments.filter((c) => c.includes("started alerting"))).toHaveLength(2);
    });
  });
});

describe("the latest comments of a long issue", () => {
  it.each(HTTP_FORGES)("%s: found past 100 comments, in one request or, on GitHub with a short last page, two", async (flavor) => {
    await withOpenIssue(flavor, async ({ h, sync, issue }) => {
      for (let n = 1; n <= 199; n++) await h.personComments(issue.number, `note ${n}`);
      h.fail("updateIssue");
      await failure(sync([backupStale(minutes(15)), dbFailed(minutes(15))], minutes(15)));
      // Ours is the 200th; a person's the 201st, alone on GitHub's last page.
      await h.personComments(issue.number, "on it");
      const from = h.fake!.requests.length;
      const r = await sync([backupStale(minutes(30)), dbFailed(minutes(30))], minutes(30));
      expect(r.applied.map((a) => [a.kind, a.recovered])).toEqual([["comment", true], ["update", undefined]]);
      expect((await h.open())[0]!.comments).toHaveLength(201);
      const reads = h.fake!.requests.slice(from).filter((q) => q.method === "GET" && /\/(comments|notes)$/.test(q.path)).map((q) => q.query);
      expect(reads).toEqual(
        {
          github: [{ per_page: "100", page: "3" }, { per_page: "100", page: "2" }],
          gitea: [{}],
          gitlab: [{ sort: "desc", order_by: "created_at", per_page: "100" }],
        }[flavor],
      );
    });
  });
});
