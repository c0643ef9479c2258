import { mkdir, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "@lastbeat/cli";
import { writeHeartbeat } from "lastbeat";
import { startFakeForge, type FakeForge } from "../support/fake-forge.js";
import { runLastbeat } from "../support/cli.js";
import { NOW } from "../forge/helpers.js";
import { testdir } from "../support/testdir.js";
import { findLeaks } from "../support/leaks.js";
import { fakeIo } from "../support/fake-io.js";

/* `lastbeat check` end to end: flags, tokens, exit codes, --json, --dry-run, the lock. */

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function check(args: string[], env: Record<string, string | undefined>, now = NOW): Promise<Captured> {
  const io = fakeIo({ env, now });
  const code = await runCli(["check", ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

async function beatFile(dir: string, job: string, beat: Record<string, unknown>): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `${job}.last`), JSON.stringify({ format: "lastbeat/1", job, status: "ok", interval_s: 3600, ...beat }));
}

describe("lastbeat check", () => {
  let dir: string;
  let hb: string;
  beforeEach(async () => {
    dir = await testdir("lastbeat-check-");
    hb = join(dir, "hb");
    await beatFile(hb, "backup", { at: "2025-03-10T07:00:00Z" });
    await beatFile(hb, "web", { at: "2025-03-10T11:55:00Z" });
  });

  it("refuses a real forge without a token (exit 2, one clear line)", async () => {
    const r = await check(["--forge", "github", "--repo", "acme/ops", "--dir", hb], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toMatchInlineSnapshot(`
      "error: --forge github needs a token: set LASTBEAT_TOKEN or GITHUB_TOKEN (one that can read and write issues of acme/ops)
      "
    `);
    const g = await check(["--forge", "gitea", "--repo", "acme/ops", "--url", "https://git.example.com", "--dir", hb], {});
    expect(g.stderr).toContain("set LASTBEAT_TOKEN or GITEA_TOKEN");
  });

  it("rejects bad flags with exit 2", async () => {
    expect((await check(["--dir", hb], {})).stderr).toContain("check needs --forge github|gitea|gitlab|file|none");
    expect((await check(["--forge", "github", "--repo", "nope", "--dir", hb], { GITHUB_TOKEN: "x" })).stderr).toContain("needs --repo owner/name");
    expect((await check(["--forge", "gitea", "--repo", "a/b", "--dir", hb], { GITEA_TOKEN: "x" })).stderr).toContain("needs --url");
    expect((await check(["--forge", "file", "--dir", hb], {})).stderr).toContain("--forge file needs --repo <folder>");
    expect(await check(["--forge", "none", "--quiet", "--dir", hb], {})).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: --quiet prints only when the forge changed, and --forge none changes none: drop --quiet\n",
    });
    const notFolder = await check(["--forge", "file", "--repo", join(hb, "backup.last"), "--dir", hb], {});
    expect(notFolder).toMatchObject({ code: 2, stderr: `error: --forge file --repo ${join(hb, "backup.last")} is not a folder: give the folder the issue files go into\n` });
    expect((await check(["--forge", "gitlab", "--dir", hb], {})).code).toBe(2);
    expect((await check(["--forge", "gitlab", "--repo", "nope", "--dir", hb], { GITLAB_TOKEN: "x" })).stderr).toContain(
      'needs --repo group/project (or group/subgroup/project), got "nope"',
    );
    expect((await check(["--forge", "gitlab", "--repo", "acme/../ops", "--dir", hb], { GITLAB_TOKEN: "x" })).code).toBe(2);
    expect((await check(["--forge", "gitlab", "--repo", "acme/infra/ops", "--dir", hb], {})).stderr).toContain("set LASTBEAT_TOKEN or GITLAB_TOKEN");
  });

  it("syncs the file forge, exit 1 while alerting and 0 when healthy, and beats for itself", async () => {
    const issues = join(dir, "issues");
    const r = await check(["--forge", "file", "--repo", issues, "--dir", hb], {});
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`file ${issues}: open #1`);
    const checker = JSON.parse(await readFile(join(hb, "heartbeat-checker.last"), "utf8"));
    expect(checker).toMatchObject({ job: "heartbeat-checker", status: "ok", interval_s: 900 });

    const again = await check(["--forge", "file", "--repo", issues, "--dir", hb, "--json"], {});
    expect(again.code).toBe(1);
    const json = JSON.parse(again.stdout);
    expect(json.actions).toEqual([{ kind: "none", issue: 1 }]);
    expect(json.jobs.map((j: { job: string; status: string }) => `${j.job}:${j.status}`)).toEqual(["backup:stale", "heartbeat-checker:running", "web:ok"]);

    await beatFile(hb, "backup", { at: "2025-03-10T11:59:00Z" });
    const healed = await check(["--forge", "file", "--repo", issues, "--dir", hb, "--json"], {});
    expect(healed.code).toBe(0);
    expect(JSON.parse(healed.stdout).actions).toEqual([{ kind: "close", issue: 1 }]);
    expect(await readFile(join(issues, "issue-1.md"), "utf8")).toMatch(/state: closed[\s\S]*\*\*backup\*\* is now ok after alerting for 2h 59m/);
  });

  it("--quiet prints only when the forge changed: a steady run is silent, so cron mails once per change", async () => {
    const issues = join(dir, "issues");
    const args = ["--forge", "file", "--repo", issues, "--dir", hb, "--quiet"];
    const opened = await check(args, {});
    expect(opened.code).toBe(1);
    expect(opened.stdout).toBe(`1 of 3 jobs alerting:\n  backup: stale (last beat 5h ago): no beat since 2025-03-10T07:00:00.000Z; expected by 2025-03-10T08:00:00.000Z\nfile ${issues}: open #1\n`);
    expect(await check(args, {})).toEqual({ code: 1, stdout: "", stderr: "" });
    await beatFile(hb, "backup", { at: "2025-03-10T11:59:00Z" });
    const closed = await check(args, {});
    expect(closed).toMatchObject({ code: 0, stderr: "" });
    expect(closed.stdout).toBe(`3 jobs, none alerting.\nfile ${issues}: close #1\n`);
    expect(await check(args, {})).toEqual({ code: 0, stdout: "", stderr: "" });
    // A forge that cannot be synced is always said, on stderr.
    await mkdir(join(issues, "issue-9.md"));
    const failed = await check(args, {});
    expect(failed).toMatchObject({ code: 3, stdout: "" });
    expect(failed.stderr).toBe(`error: file forge: ${join(issues, "issue-9.md")} is not a regular file; move it out of the issue folder\n`);
  });

  it("--dry-run prints the plan and changes nothing", async () => {
    const issues = join(dir, "issues");
    const r = await check(["--forge", "file", "--repo", issues, "--dir", hb, "--dry-run"], {});
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("would open a new issue");
    await expect(readdir(issues)).rejects.toThrow();
    await expect(readFile(join(hb, "heartbeat-checker.last"))).rejects.toThrow();
    const json = JSON.parse((await check(["--forge", "file", "--repo", issues, "--dir", hb, "--dry-run", "--json"], {})).stdout);
    expect(json).toMatchObject({ actions: [{ kind: "create", issue: null }], dry_run: true });
  });

  it("--forge none only evaluates: exit 1 when alerting, no actions", async () => {
    const r = await check(["--forge", "none", "--dir", hb, "--json"], {});
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).actions).toEqual([]);
  });

  it("never creates a heartbeat folder it scans: a missing one is an alert, and stays missing", async () => {
    const typo = join(dir, "hb-typo");
    const r = await check(["--forge", "file", "--repo", join(dir, "issues"), "--dir", typo], {});
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`folder:${typo}: invalid: heartbeat folder does not exist`);
    await expect(readdir(typo)).rejects.toMatchObject({ code: "ENOENT" });
    const issues = await readdir(join(dir, "issues"));
    expect(issues.filter((name) => name.endsWith(".md"))).toHaveLength(1);
    // The same with no --dir: the default folder (LASTBEAT_DIR) is scanned, so it is not created either.
    const unset = await check(["--forge", "none"], { LASTBEAT_DIR: typo });
    expect(unset.code).toBe(1);
    await expect(readdir(typo)).rejects.toMatchObject({ code: "ENOENT" });
    // A folder that is there gets the checker's beat as before.
    expect((await check(["--forge", "none", "--dir", hb], {})).code).toBe(1);
    expect(await readdir(hb)).toContain("heartbeat-checker.last");
  });

  it("a failing job's next run in progress keeps its one issue: no close, no reopen, no comment", async () => {
    // A daily backup failing every night, with the checker landing during each run.
    const jobs = join(dir, "nightly");
    const issues = join(dir, "issues");
    const day = (h: number, m = 0) => new Date(Date.UTC(2025, 2, 10, h, m));
    const run = (now: Date, status: "fail" | "start") =>
      writeHeartbeat("backup", { dir: jobs, every: "1d", maxRuntime: "2h", now, status, strict: true, ...(status === "fail" ? { exitCode: 1, message: "disk full" } : { startedAt: now }) });
    const sync = async (now: Date) => {
      const r = await check(["--forge", "file", "--repo", issues, "--dir", jobs, "--json"], {}, now);
      const json = JSON.parse(r.stdout) as { actions: unknown[]; jobs: { job: string; status: string; reason: string }[] };
      const backup = json.jobs.find((j) => j.job === "backup");
      // The alerting-since instant is kept in the issue's snapshot: an unchanged issue file shows it held.
      return { code: r.code, actions: json.actions, backup: { status: backup?.status, reason: backup?.reason } };
    };
    const issueText = () => readFile(join(issues, "issue-1.md"), "utf8");

    await run(day(2), "fail");
    const opened = await sync(day(2, 5));
    expect(opened.actions).toEqual([{ kind: "create", issue: 1 }]);
    expect(opened.backup).toMatchObject({ status: "failed", reason: "last run failed: disk full" });
    const body = await issueText();

    await run(new Date(day(2).getTime() + 86_400_000), "start");
    const during = await sync(new Date(day(2, 15).getTime() + 86_400_000));
    expect(during.code).toBe(1);
    expect(during.backup).toEqual(opened.backup);
    expect(during.actions).toEqual([{ kind: "none", issue: 1 }]);

    await run(new Date(day(3).getTime() + 86_400_000), "fail");
    const after = await sync(new Date(day(3, 5).getTime() + 86_400_000));
    expect(after.backup).toEqual(opened.backup);
    expect(after.actions).toEqual([{ kind: "none", issue: 1 }]);

    // One issue, still open, never edited or commented on.
    expect((await readdir(issues)).filter((f) => f.startsWith("issue-"))).toEqual(["issue-1.md"]);
    expect(await issueText()).toBe(body);
    expect(body).toMatch(/state: open/);
    expect(body).toMatch(/<!-- lastbeat-file:comments -->\n$/);
  });

  describe("scopes", () => {
    it("defaults to the host name, takes LASTBEAT_SCOPE and --scope, and shows it in the title", async () => {
      const issues = join(dir, "issues");
      await check(["--forge", "file", "--repo", issues, "--dir", hb], {});
      expect(await readFile(join(issues, "issue-1.md"), "utf8")).toContain(`title: "[heartbeat-checker] ${hostname()}: 1 job alerting: backup"`);
      const other = join(dir, "other");
      await check(["--forge", "file", "--repo", other, "--dir", hb], { LASTBEAT_SCOPE: "nightly" });
      expect(await readFile(join(other, "issue-1.md"), "utf8")).toContain("<!-- lastbeat:rollup scope=nightly -->");
      const flag = await check(["--forge", "file", "--repo", other, "--dir", hb, "--scope", "batch-2", "--json"], { LASTBEAT_SCOPE: "nightly" });
      // Another scope: its own issue; "nightly"'s #1 is left alone.
      expect(JSON.parse(flag.stdout).actions).toEqual([{ kind: "create", issue: 2 }]);
    });

    it("an issue from before scopes is never closed by a host where its jobs are healthy: that host names it on stderr every run; the host still failing adopts it", async () => {
      const issues = join(dir, "issues");
      // Host A's backup fails (beforeEach); its issue as an earlier lastbeat wrote it: no scope.
      expect((await check(["--forge", "file", "--repo", issues, "--dir", hb, "--scope", "host-a"], {})).code).toBe(1);
      const file = join(issues, "issue-1.md");
      await writeFile(file, (await readFile(file, "utf8")).replace("<!-- lastbeat:rollup scope=host-a -->", "<!-- lastbeat:rollup -->"));
      const unscoped = await readFile(file, "utf8");
      // Host B runs a healthy backup.
      const b = join(dir, "host-b");
      await beatFile(b, "backup", { at: "2025-03-10T11:30:00Z" });
      for (const run of [1, 2]) {
        const r = await check(["--forge", "file", "--repo", issues, "--dir", b, "--json"], { LASTBEAT_SCOPE: "host-b" });
        expect(r.code, `run ${run}`).toBe(0);
        expect(JSON.parse(r.stdout).actions).toEqual([{ kind: "none", issue: null }]);
        expect(r.stderr).toBe(
          `warning: issue #1 (${file}) is from before scopes and names backup; this checker (scope host-b) leaves it open, as that job does not alert here and which host it was opened for cannot be told: close it by hand once that job alerts on no host\n`,
        );
      }
      // --quiet (from cron): said once a day, by the first check after midnight UTC, not by every
      // run (fifty hosts mailing it every 15 minutes during an upgrade).
      const quiet = async (now: string) => {
        await beatFile(b, "backup", { at: new Date(Date.parse(now) - 10 * 60_000).toISOString() });
        return check(["--forge", "file", "--repo", issues, "--dir", b, "--quiet", "--now", now], { LASTBEAT_SCOPE: "host-b" }, new Date(now));
      };
      expect(await quiet("2025-03-10T12:00:00Z")).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(await quiet("2025-03-11T00:14:59Z")).toMatchObject({ code: 0, stdout: "", stderr: expect.stringMatching(/^warning: issue #1 .* is from before scopes and names backup; .*\n$/) });
      expect(await quiet("2025-03-11T00:15:00Z")).toEqual({ code: 0, stdout: "", stderr: "" });
      expect(await readFile(file, "utf8")).toBe(unscoped);
      // Host A, still failing, takes it over: no new issue, and nothing more to say.
      const a = await check(["--forge", "file", "--repo", issues, "--dir", hb, "--scope", "host-a", "--json"], {});
      expect(a).toMatchObject({ code: 1, stderr: "" });
      expect(JSON.parse(a.stdout).actions).toEqual([{ kind: "update", issue: 1 }]);
      expect(await readdir(issues)).toEqual(["issue-1.md"]);
    });

    it("in Kubernetes, a missing --scope is a configuration error naming the flag", async () => {
      const r = await check(["--forge", "file", "--repo", join(dir, "issues"), "--dir", hb], { KUBERNETES_SERVICE_HOST: "10.0.0.1" });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatchInlineSnapshot(`
        "error: check needs --scope <name> (or LASTBEAT_SCOPE) in Kubernetes: a pod's host name changes every run, so the default scope would never find its own issues again
        "
      `);
      const given = await check(["--forge", "file", "--repo", join(dir, "issues"), "--dir", hb, "--scope", "reports"], { KUBERNETES_SERVICE_HOST: "10.0.0.1" });
      expect(given.code).toBe(1);
      // --forge none syncs nothing, so it needs no scope.
      expect((await check(["--forge", "none", "--dir", hb], { KUBERNETES_SERVICE_HOST: "10.0.0.1" })).code).toBe(1);
    });

    it("refuses a scope that could not go into a marker, and a bad --max-new-issues", async () => {
      const r = await check(["--forge", "file", "--repo", join(dir, "issues"), "--dir", hb, "--scope", "web 1 -->"], {});
      expect(r.code).toBe(2);
      expect(r.stderr).toMatchInlineSnapshot(`
        "error: --scope must be letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit); --scope gives "web 1 -->"
        "
      `);
      const n = await check(["--forge", "file", "--repo", join(dir, "issues"), "--dir", hb, "--max-new-issues", "ten"], {});
      expect(n.code).toBe(2);
      expect(n.stderr).toContain("--max-new-issues");
    });
  });

  it("keeps a job whose heartbeat vanished alerting as missing, until it is retired", async () => {
    const issues = join(dir, "issues");
    const args = ["--forge", "file", "--repo", issues, "--dir", hb, "--scope", "web-1", "--json"];
    expect((await check(args, {})).code).toBe(1);
    await rm(join(hb, "backup.last"));
    const gone = await check(args, {});
    expect(gone.code).toBe(1);
    expect(JSON.parse(gone.stdout).jobs.find((j: { job: string }) => j.job === "backup")).toMatchObject({ status: "missing", alerting: true, reason: "heartbeat file removed" });
    // `lastbeat retire backup` leaves backup.retired in the heartbeat folder.
    await writeFile(join(hb, "backup.retired"), "{}");
    const retired = await check(args, {});
    expect(retired.code).toBe(0);
    expect(JSON.parse(retired.stdout).actions).toEqual([{ kind: "close", issue: 1 }]);
    expect(await readFile(join(issues, "issue-1.md"), "utf8")).toContain("**backup** was retired on purpose (`lastbeat retire`)");
  });

  it("a folder named with glob characters that exists as written is the checker's folder too", async () => {
    const literal = join(dir, "app[1]", "hb");
    await beatFile(literal, "backup", { at: "2025-03-10T11:55:00Z" });
    const r = await check(["--forge", "none", "--dir", literal, "--json"], {});
    expect(JSON.parse(r.stdout).jobs.map((j: { job: string }) => j.job).sort()).toEqual(["backup", "heartbeat-checker"]);
    expect(await readdir(literal)).toContain("heartbeat-checker.last");
  });

  it("with several folders, a job left in one of them keeps its alert's file: closed when healthy, retired by either name", async () => {
    const issues = join(dir, "issues");
    const [a, b] = [join(dir, "hosts", "a"), join(dir, "hosts", "b")];
    await beatFile(a, "backup", { at: "2025-03-10T07:00:00Z" });
    await beatFile(b, "backup", { at: "2025-03-10T11:30:00Z" });
    const args = ["--forge", "file", "--repo", issues, "--dir", join(dir, "hosts", "*"), "--json"];
    // With only a glob to scan, the checker keeps its own heartbeat, journal and folder memory in
    // the default folder: LASTBEAT_DIR here, not the machine's /var/run/lastbeat/heartbeats (or
    // a home folder), which would also carry the memory of one run into the next.
    const checker = join(dir, "checker");
    const env = { LASTBEAT_DIR: checker };
    const jobsOf = (r: Captured) => JSON.parse(r.stdout).jobs.map((j: { job: string; status: string }) => `${j.job}:${j.status}`);
    const first = await check(args, env);
    expect(jobsOf(first)).toEqual([`backup@${a}:stale`, `backup@${b}:ok`]);
    // b's copy goes (its folder stays: a folder the glob matched is watched until retired): the
    // job in a is plain `backup` again, and healthy: the alert closes.
    await rm(join(b, "backup.last"));
    await beatFile(a, "backup", { at: "2025-03-10T11:50:00Z" });
    const healed = await check(args, env);
    expect(jobsOf(healed)).toEqual(["backup:ok"]);
    expect(JSON.parse(healed.stdout).actions).toEqual([{ kind: "close", issue: 1 }]);
    expect(healed.code).toBe(0);

    // Stale in two folders again, then retired by the name status gave it.
    await beatFile(b, "backup", { at: "2025-03-10T07:00:00Z" });
    await beatFile(a, "backup", { at: "2025-03-10T11:50:00Z" });
    expect((await check(args, env)).code).toBe(1);
    const io = fakeIo({ env, now: NOW });
    expect(await runCli(["retire", `backup@${b}`], io)).toBe(0);
    expect(await readdir(b)).toEqual(["backup.retired"]);
    const retired = await check(args, env);
    expect(jobsOf(retired)).toEqual(["backup:ok"]);
    expect(retired.code).toBe(0);
    expect(JSON.parse(retired.stdout).actions).toEqual([{ kind: "close", issue: 2 }]);
    expect(await runCli(["retire", "backup@relative/hb"], io)).toBe(2);
    expect(await runCli(["retire", `backup@${b}`, "--dir", a], io)).toBe(2);
    expect((await readdir(checker)).filter((name) => name.startsWith("heartbeat-checker")).sort()).toEqual([
      "heartbeat-checker.folders",
      "heartbeat-checker.journal",
      "heartbeat-checker.last",
    ]);
  });

  describe("against a forge server", () => {
    let fake: FakeForge;
    beforeEach(async () => {
      fake = await startFakeForge({ flavor: "gitea" });
    });
    afterEach(() => fake.close());

    it("syncs Gitea, then runs steady with one read", async () => {
      const args = ["--forge", "gitea", "--url", fake.url, "--repo", fake.repo, "--dir", hb, "--json"];
      const first = await check(args, { GITEA_TOKEN: fake.token });
      expect(first.code).toBe(1);
      expect(JSON.parse(first.stdout).actions).toEqual([{ kind: "create", issue: 1 }]);
      fake.resetLog();
      const second = await check(args, { GITEA_TOKEN: fake.token });
      expect(JSON.parse(second.stdout).actions).toEqual([{ kind: "none", issue: 1 }]);
      expect(fake.counts()).toEqual({ reads: 1, writes: 0, total: 1 });
    });

    it("says a closing comment the last run posted is not sent twice, when its close failed", async () => {
      const args = ["--forge", "gitea", "--url", fake.url, "--repo", fake.repo, "--dir", hb];
      expect((await check(args, { GITEA_TOKEN: fake.token })).code).toBe(1);
      await beatFile(hb, "backup", { at: "2025-03-10T11:50:00Z" });
      // The close answers 502 to the first try and its three retries.
      fake.fault({ method: "PATCH", path: /\/issues\/1$/, status: 502, times: 4 });
      const failed = await check(args, { GITEA_TOKEN: fake.token });
      expect(failed.code).toBe(3);
      expect(failed.stderr).toMatch(/^error: gitea acme\/ops: closing issue #1 failed with HTTP 502/);
      const again = await check(args, { GITEA_TOKEN: fake.token });
      expect(again.code).toBe(0);
      expect(again.stdout).toContain("gitea acme/ops: close #1 (its closing comment was posted by the last run, not sent twice)\n");
      expect(fake.issue(1).comments).toHaveLength(1);
    });

    it("exits 3 with a clear, token-free line when the forge cannot be synced, and beats fail", async () => {
      fake.fault({ method: "GET", status: 401, times: 1 });
      const token = "s3cr3t-token-value-123";
      const r = await check(["--forge", "gitea", "--url", fake.url, "--repo", fake.repo, "--dir", hb], { LASTBEAT_TOKEN: token });
      expect(r.code).toBe(3);
      expect(r.stderr).toMatch(/^error: gitea acme\/ops: listing open issues failed with HTTP 401/);
      expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      // The fake's 401 answer echoes the presented credentials, so this can fail.
      expect(JSON.stringify(fake.requests.at(-1)?.response)).toContain(token);
      expect(findLeaks(r.stdout, token)).toEqual([]);
      expect(findLeaks(r.stderr, token)).toEqual([]);
      const checker = JSON.parse(await readFile(join(hb, "heartbeat-checker.last"), "utf8"));
      expect(checker.status).toBe("fail");
      expect(checker.message).toContain("forge not synced");
      expect(findLeaks(JSON.stringify(checker), token)).toEqual([]);
    });
  });
});

describe("lastbeat check --forge gitlab", () => {
  let dir: string;
  let hb: string;
  let fake: FakeForge;
  beforeEach(async () => {
    dir = await testdir("lastbeat-check-gitlab-");
    hb = join(dir, "hb");
    await beatFile(hb, "backup", { at: "2025-03-10T07:00:00Z" });
    // A project in a subgroup: its path goes to the API URL-encoded, as one segment.
    fake = await startFakeForge({ flavor: "gitlab", owner: "acme/infra", repo: "ops" });
  });
  afterEach(() => fake.close());
  const site = () => fake.url.replace(/\/api\/v4$/, "");

  it("syncs a project in a subgroup with GITLAB_TOKEN at the site URL, then runs steady with one read at the API URL", async () => {
    const first = await check(["--forge", "gitlab", "--url", site(), "--repo", "acme/infra/ops", "--dir", hb, "--json"], { GITLAB_TOKEN: fake.token });
    expect(first.stderr).toBe("");
    expect(first.code).toBe(1);
    expect(JSON.parse(first.stdout).actions).toEqual([{ kind: "create", issue: 1 }]);
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      "GET /projects/acme%2Finfra%2Fops/issues",
      "GET /projects/acme%2Finfra%2Fops/labels/heartbeat",
      "POST /projects/acme%2Finfra%2Fops/labels",
      "POST /projects/acme%2Finfra%2Fops/issues",
      "GET /projects/acme%2Finfra%2Fops/issues",
    ]);
    fake.resetLog();
    const second = await check(["--forge", "gitlab", "--url", fake.url, "--repo", "acme/infra/ops", "--dir", hb], { LASTBEAT_TOKEN: fake.token });
    expect(second.stdout).toContain("gitlab acme/infra/ops: #1 is up to date");
    expect(fake.counts()).toEqual({ reads: 1, writes: 0, total: 1 });
  });

  it.each([
    [401, "a wrong token", "acme/infra/ops", /^error: gitlab acme\/infra\/ops: listing open issues failed with HTTP 401 \(401 Unauthorized/],
    [403, "a role that may not read issues", "acme/infra/ops", /^error: gitlab acme\/infra\/ops: listing open issues failed with HTTP 403/],
    [404, "a project the token cannot see", "acme/infra/other", /^error: gitlab acme\/infra\/other: listing open issues failed with HTTP 404 \(404 Project Not Found\)/],
  ])("exits 3 with one token-free line on %i (%s), and beats fail", async (status, _what, repo, line) => {
    const token = status === 401 ? "lbtok_gitlab-wrong-0123456789" : fake.token;
    if (status === 403) fake.fault({ method: "GET", status: 403 });
    const r = await check(["--forge", "gitlab", "--url", fake.url, "--repo", repo, "--dir", hb], { GITLAB_TOKEN: token });
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(line);
    expect(r.stderr.split("\n").filter(Boolean)).toHaveLength(1);
    if (status === 401) expect(JSON.stringify(fake.requests.at(-1)?.response)).toContain(token);
    expect(findLeaks(r.stdout + r.stderr, token)).toEqual([]);
    expect(fake.requests).toHaveLength(1);
    const checker = JSON.parse(await readFile(join(hb, "heartbeat-checker.last"), "utf8"));
    expect(checker.status).toBe("fail");
    expect(findLeaks(JSON.stringify(checker), token)).toEqual([]);
  });

  it("waits between retries through io.sleep, never for real", async () => {
    fake.fault({ method: "GET", status: 503, times: 2 });
    const io = fakeIo({ env: { GITLAB_TOKEN: fake.token }, now: NOW });
    const code = await runCli(["check", "--forge", "gitlab", "--url", fake.url, "--repo", "acme/infra/ops", "--dir", hb], io);
    expect(io.err()).toBe("");
    expect(code).toBe(1);
    expect(io.sleeps()).toEqual([1000, 4000]);
  });
});

describe("eight checkers at once", () => {
  it("end with exactly one open issue", async () => {
    const dir = await testdir("lastbeat-race-");
    const fake = await startFakeForge({ flavor: "github" });
    try {
      const hb = join(dir, "hb");
      await beatFile(hb, "backup", { at: "2025-03-10T07:00:00Z" });
      const args = ["check", "--forge", "github", "--url", fake.url, "--repo", fake.repo, "--dir", hb, "--now", NOW.toISOString()];
      const runs = await Promise.all(Array.from({ length: 8 }, () => runLastbeat(args, { env: { LASTBEAT_TOKEN: fake.token } })));
      for (const r of runs) expect(r, r.stderr).toMatchObject({ code: 1 });
      expect(fake.openIssues("heartbeat")).toHaveLength(1);
      expect(fake.requests.filter((q) => q.method === "POST" && q.path.endsWith("/issues"))).toHaveLength(1);
      expect(runs.filter((r) => r.stdout.includes("open #1"))).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });
});
