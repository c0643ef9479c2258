import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { markerFor, renderRollupIssue, syncAlerts, type Forge } from "@lastbeat/forge";
import { startFakeForge, type FakeForge } from "../support/fake-forge.js";
import { NOW, at, fileForge, forgeFor, state, SCOPE } from "./helpers.js";
import { testdir } from "../support/testdir.js";

/* What people (and other checkers) do to the forge between two runs. */

const LABEL = "heartbeat";
const backupStale = state("backup", { at: at(-5) });
const dbFailed = state("db-dump", { at: at(-0.2), status: "fail", exit_code: 1 });

describe.each(["github", "gitea", "gitlab"] as const)("on %s", (flavor) => {
  let fake: FakeForge;
  let forge: Forge;
  beforeEach(async () => {
    fake = await startFakeForge({ flavor });
    forge = await forgeFor(fake);
  });
  afterEach(() => fake.close());
  const sync = (states = [backupStale]) => syncAlerts(forge, { scope: SCOPE, mode: "rollup", label: LABEL, states, now: NOW });

  it("opens a new issue when a person closed it while jobs still alert", async () => {
    const first = (await sync()).applied[0]!.issue!;
    fake.person.close(first);
    const r = await sync();
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    expect(fake.openIssues(LABEL).map((i) => i.number)).toEqual([r.applied[0]!.issue]);
    expect(fake.issue(first).state).toBe("closed");
  });

  it("restores a body a person edited, without a comment", async () => {
    const first = (await sync()).applied[0]!.issue!;
    const original = fake.issue(first).body;
    fake.person.editBody(first, `${markerFor("rollup", SCOPE)}\nI looked into this, ignore.\n`);
    let r = await sync();
    expect(r.applied.map((a) => a.kind)).toEqual(["update"]);
    expect(fake.issue(first).body).toBe(original);
    expect(fake.issue(first).comments).toEqual([]);
    // A person's edit that kept the state line but changed the table: restored too.
    fake.person.editBody(first, original.replace("**stale**", "**fine**"));
    r = await sync();
    expect(r.applied.map((a) => a.kind)).toEqual(["update"]);
    expect(fake.issue(first).body).toBe(original);
  });

  it("recreates the label when a person deleted it", async () => {
    const first = (await sync()).applied[0]!.issue!;
    fake.person.deleteLabel(LABEL);
    expect(fake.labels.map((l) => l.name)).not.toContain(LABEL);
    const r = await sync();
    // The old issue lost its label with it, so it is no longer ours: a new, labelled one is opened.
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    expect(fake.labels.map((l) => l.name)).toContain(LABEL);
    expect(fake.openIssues(LABEL).map((i) => i.number)).toEqual([r.applied[0]!.issue]);
    expect(r.applied[0]!.issue).not.toBe(first);
  });

  it("finds its issue behind more than 100 labelled issues (every page)", async () => {
    for (let n = 0; n < 120; n++) fake.person.open({ title: `chore ${n}`, body: "not ours", labels: [LABEL] });
    // Pull requests carrying the label are in GitHub's issue list too: never ours.
    fake.person.open({ title: "PR", body: renderRollupIssue([backupStale], SCOPE).body, labels: [LABEL], pull: true });
    const { body, title } = renderRollupIssue([backupStale], SCOPE);
    const ours = fake.person.open({ title, body, labels: [LABEL] });
    fake.resetLog();
    const r = await sync();
    expect(r.applied).toEqual([{ kind: "none", issue: ours.number, key: "rollup" }]);
    const pages = fake.requests.slice(-fake.counts().total);
    expect(pages.every((p) => p.method === "GET")).toBe(true);
    // Gitea caps a page at 50 (`limit`); GitHub and GitLab at 100 (`per_page`).
    const [param, pageSize] = flavor === "gitea" ? ["limit", 50] : ["per_page", 100];
    expect(pages.map((p) => Number(p.query[param]))).toEqual(pages.map(() => pageSize));
    expect(pages).toHaveLength(flavor === "gitea" ? 3 : 2);
  });

  it("keeps the oldest of two issues with our marker and closes the newer with a link", async () => {
    const { body, title } = renderRollupIssue([backupStale], SCOPE);
    const older = fake.person.open({ title, body, labels: [LABEL] });
    const newer = fake.person.open({ title, body, labels: [LABEL] });
    const r = await sync([backupStale, dbFailed]);
    expect(r.applied.map((a) => [a.kind, a.issue])).toEqual([
      ["comment", older.number],
      ["update", older.number],
      ["close", newer.number],
    ]);
    expect(r.applied[2]!.duplicate_of).toBe(older.number);
    expect(fake.issue(newer.number).state).toBe("closed");
    expect(fake.issue(newer.number).comments[0]!.body).toContain(`duplicate of #${older.number}`);
    expect(fake.openIssues(LABEL).map((i) => i.number)).toEqual([older.number]);
  });

  it("ignores issues with the label but without our marker, and PRs with our marker", async () => {
    fake.person.open({ title: "something else", body: "hello", labels: [LABEL] });
    fake.person.open({ title: "PR", body: renderRollupIssue([backupStale], SCOPE).body, labels: [LABEL], pull: true });
    const r = await sync();
    expect(r.applied.map((a) => a.kind)).toEqual(["create"]);
    expect(fake.openIssues(LABEL)).toHaveLength(2);
  });
});

describe("on the file forge", () => {
  it("handles a person closing, editing and two duplicate issue files", async () => {
    const dir = await testdir();
    const forge = fileForge(dir);
    const sync = () => syncAlerts(forge, { scope: SCOPE, mode: "rollup", label: LABEL, states: [backupStale], now: NOW });
    const first = (await sync()).applied[0]!.issue!;
    await forge.updateIssue(first, { title: "edited", body: `${markerFor("rollup", SCOPE)}\nedited by hand\n` });
    expect((await sync()).applied.map((a) => a.kind)).toEqual(["update"]);
    expect((await sync()).applied.map((a) => a.kind)).toEqual(["none"]);
    await forge.closeIssue(first);
    const second = (await sync()).applied[0]!;
    expect(second.kind).toBe("create");
    // Another checker (on another host sharing the folder) created one too.
    const { title, body } = renderRollupIssue([backupStale], SCOPE);
    await forge.createIssue({ title, body, label: LABEL });
    const r = await sync();
    expect(r.applied.map((a) => a.kind)).toEqual(["close", "none"]);
    expect((await forge.listOpenIssues(LABEL)).map((i) => i.number)).toEqual([second.issue]);
  });
});
