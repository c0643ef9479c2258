import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastbeatArgs, repoRoot, runLastbeat } from "../../support/cli.js";
import { startFakeForge, type FakeForge } from "../../support/fake-forge.js";
import { sharedTempDir } from "../../support/tmpfs.js";
import { startOutageProxy, type OutageProxy } from "./outage-proxy.js";

/*
 * Drill: the forge goes down (503 from every request, then nothing listening at all) while the
 * alerting set changes. Each checker run during the outage exits 3 with one clear line; after
 * the forge returns, one run brings the issue to the right state, with no duplicate.
 */

const NOW = "2025-03-10T12:00:00.000Z";
const LATER = "2025-03-10T12:15:00.000Z";
const LAST = "2025-03-10T12:30:00.000Z";

function beat(dir: string, job: string, fields: Record<string, unknown>) {
  writeFileSync(join(dir, `${job}.last`), JSON.stringify({ format: "lastbeat/1", job, status: "ok", interval_s: 3600, ...fields }));
}

describe.each(["github", "gitea", "gitlab"] as const)("drill: forge outage (%s)", (flavor) => {
  let fake: FakeForge;
  let proxy: OutageProxy;
  let tmp: { dir: string; cleanup: () => void };
  let hb: string;

  beforeEach(async () => {
    fake = await startFakeForge({ flavor });
    proxy = await startOutageProxy(fake.url);
    tmp = sharedTempDir();
    hb = join(tmp.dir, "hb");
    mkdirSync(hb);
  });
  afterEach(async () => {
    await proxy.close();
    await fake.close();
    tmp.cleanup();
  });

  const check = (now: string) =>
    runLastbeat(["check", "--forge", flavor, "--repo", fake.repo, "--url", proxy.url, "--dir", hb, "--now", now], {
      env: { LASTBEAT_TOKEN: fake.token, GITHUB_TOKEN: undefined, GITEA_TOKEN: undefined, GITLAB_TOKEN: undefined },
    });
  const openIssues = () => fake.openIssues("heartbeat");
  const expectOutageRun = (result: { code: number | null; stdout: string; stderr: string }) => {
    expect(result.code).toBe(3);
    const lines = result.stderr.trimEnd().split("\n");
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(lines[0]).toContain(fake.repo);
    expect(lines[0]).not.toMatch(/^\s+at /m);
  };

  it("runs during the outage exit 3 with one clear line; after it, one run restores the issue with no duplicate", async () => {
    beat(hb, "backup", { at: "2025-03-10T07:00:00Z" }); // stale
    beat(hb, "web", { at: "2025-03-10T11:55:00Z" }); // ok
    const first = await check(NOW);
    expect(first.code).toBe(1);
    expect(openIssues()).toHaveLength(1);
    const number = openIssues()[0]!.number;

    // The outage: a second job fails meanwhile.
    beat(hb, "web", { at: "2025-03-10T12:10:00Z", status: "fail", message: "upstream down" });
    await proxy.set("down");
    const down = await check(LATER);
    expectOutageRun(down);
    expect(down.stderr).toMatch(/503/);
    expect(proxy.seen.down).toBeGreaterThan(0);
    await proxy.set("refused");
    const refused = await check(LATER);
    expectOutageRun(refused);
    expect(refused.stderr).toMatch(/ECONNREFUSED|refused|connect/i);

    // The checker's own heartbeat says what happened, so the brief shows the forge trouble.
    const own = JSON.parse(readFileSync(join(hb, "heartbeat-checker.last"), "utf8"));
    expect(own).toMatchObject({ status: "fail", message: expect.stringContaining("forge not synced") });

    // The forge is back: one run brings it up to date, with no duplicate.
    await proxy.set("up");
    fake.resetLog();
    const back = await check(LATER);
    expect(back.stderr).toBe("");
    expect(back.code).toBe(1);
    expect(openIssues()).toHaveLength(1);
    expect(fake.issues.filter((i) => !i.pull)).toHaveLength(1);
    const issue = fake.issue(number);
    expect(issue.state).toBe("open");
    expect(issue.body).toContain("backup");
    expect(issue.body).toContain("web");
    expect(issue.comments).toHaveLength(1);

    // …and the run after that is steady: one read, no write.
    fake.resetLog();
    const steady = await check(LATER);
    expect(steady.code).toBe(1);
    expect(fake.counts().writes).toBe(0);
  });

  it("jobs that recover during the outage: the issue is closed by the first run after it, and no new one is opened", async () => {
    beat(hb, "backup", { at: "2025-03-10T07:00:00Z" });
    expect((await check(NOW)).code).toBe(1);
    expect(openIssues()).toHaveLength(1);

    beat(hb, "backup", { at: "2025-03-10T12:20:00Z" });
    await proxy.set("refused");
    expectOutageRun(await check(LAST));

    await proxy.set("up");
    const back = await check(LAST);
    expect(back.stderr).toBe("");
    expect(back.code).toBe(0);
    expect(openIssues()).toHaveLength(0);
    expect(fake.issues.filter((i) => !i.pull)).toHaveLength(1);
    expect(fake.issues[0]!.comments.at(-1)?.body).toMatch(/recover/i);
  });

  it("an outage that starts mid-create (the issue was made, the answer lost): the next run finds it, never a second one", async () => {
    beat(hb, "backup", { at: "2025-03-10T07:00:00Z" });
    fake.fault({ method: "POST", path: /\/issues$/, afterHandling: true, drop: true });
    await proxy.set("up");
    const lost = await check(NOW);
    // Either the checker found its issue by listing again at once (exit 1), or it gave up (exit 3).
    expect([1, 3]).toContain(lost.code);
    const next = await check(LATER);
    expect(next.code).toBe(1);
    expect(openIssues()).toHaveLength(1);
    expect(fake.requests.filter((r) => r.method === "POST" && r.path.endsWith("/issues"))).toHaveLength(1);
  });

  it("an outage that starts mid-sync in per-job mode (one issue opened, then 503s): the next run opens the rest, no duplicate", async () => {
    for (const job of ["alpha", "beta", "gamma"]) beat(hb, job, { at: "2025-03-10T07:00:00Z" });
    const perJob = (now: string) =>
      runLastbeat(["check", "--forge", flavor, "--mode", "per-job", "--repo", fake.repo, "--url", proxy.url, "--dir", hb, "--now", now], {
        env: { LASTBEAT_TOKEN: fake.token, GITHUB_TOKEN: undefined, GITEA_TOKEN: undefined, GITLAB_TOKEN: undefined },
      });
    // The first create reaches the forge; from the next request on, the forge answers 503.
    proxy.downAfter((method, path) => method === "POST" && /\/issues$/.test(path));
    const partial = await perJob(NOW);
    expectOutageRun(partial);
    expect(openIssues()).toHaveLength(1);

    await proxy.set("up");
    const back = await perJob(LATER);
    expect(back.stderr).toBe("");
    expect(back.code).toBe(1);
    expect(openIssues()).toHaveLength(3);
    const markers = openIssues().map((i) => /<!-- lastbeat:job:([^ ]+) scope=\S+ -->/.exec(i.body)?.[1]).sort();
    expect(markers).toEqual(["alpha", "beta", "gamma"]);
    expect(fake.requests.filter((r) => r.method === "POST" && /\/issues$/.test(r.path))).toHaveLength(3);
  });

  it("a checker killed with SIGKILL while the forge hangs leaves no lock that blocks the next run, and no duplicate", async () => {
    beat(hb, "backup", { at: "2025-03-10T07:00:00Z" });
    const arrived = proxy.holdNext();
    const child = spawn(
      process.execPath,
      lastbeatArgs(["check", "--forge", flavor, "--repo", fake.repo, "--url", proxy.url, "--dir", hb, "--now", NOW]),
      { cwd: repoRoot, env: { ...process.env, LASTBEAT_TOKEN: fake.token }, stdio: "ignore" },
    );
    const closed = new Promise<NodeJS.Signals | null>((resolve) => child.on("close", (_code, signal) => resolve(signal)));
    await arrived;
    child.kill("SIGKILL");
    expect(await closed).toBe("SIGKILL");
    expect(readdirSync(hb)).toContain(".lastbeat-check.lock");

    const next = await check(NOW);
    expect(next.stderr).toMatch(/^lastbeat: replaced a stale lock .*\.lastbeat-check\.lock \(pid \d+ on .*\): its process \(pid \d+\) is gone\n$/);
    expect(next.code).toBe(1);
    expect(openIssues()).toHaveLength(1);
    expect(readdirSync(hb).filter((f) => f.startsWith(".lastbeat-check.lock"))).toEqual([]);
  });
});
