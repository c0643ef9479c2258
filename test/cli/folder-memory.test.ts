import { lstat, mkdir, readFile, readdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "@lastbeat/cli";
import { FOLDERS_FILE, JOURNAL_FILE } from "lastbeat/internal";
import { runLastbeat } from "../support/cli.js";
import { fakeIo } from "../support/fake-io.js";
import { FIFO_TIMEOUT_MS, fifoAt, noMkfifo } from "../support/fifo.js";
import { testdir } from "../support/testdir.js";

/*
 * The checker remembers the folders its --dir patterns matched (heartbeat-checker.folders): a
 * host's folder that disappears from the glob is an alert, never a host whose jobs silently stop
 * being counted (README, Guarantees; docs/spec.md, "Folders").
 */

interface Job {
  job: string;
  status: string;
  alerting: boolean;
  reason: string;
}

async function fleet(): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = await testdir("lastbeat-folders-");
  await mkdir(join(dir, "own"));
  for (const host of ["a", "b", "c"]) {
    const hb = join(dir, "hosts", host, "hb");
    await mkdir(hb, { recursive: true });
    await writeFile(join(hb, `sync-${host}.last`), JSON.stringify({ format: "lastbeat/1", job: `sync-${host}`, status: "ok", at: "2026-01-10T11:30:00Z", interval_s: 3600 }));
  }
  return { dir, env: { HOME: join(dir, "home"), LASTBEAT_SYSTEM_DIR: join(dir, "system") } };
}

async function cli(dir: string, env: Record<string, string>, args: string[]) {
  const io = fakeIo({ env, cwd: dir });
  const code = await runCli(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

const DIRS = ["--dir", "own", "--dir", "hosts/*/hb"];
const check = (dir: string, env: Record<string, string>, now: string, extra: string[] = []) =>
  cli(dir, env, ["check", ...DIRS, "--forge", "file", "--repo", "issues", "--json", "--now", now, ...extra]);
const jobs = (out: { stdout: string }): Job[] => (JSON.parse(out.stdout) as { jobs: Job[] }).jobs;

describe("the checker's folder memory", () => {
  it("alerts on a host folder that no longer matches the glob (the child-process repro), and scans it again when it is back", async () => {
    const { dir, env } = await fleet();
    // Child processes run from the repository (tsx), so every path is absolute.
    const lb = (args: string[]) => runLastbeat(args, { env });
    const dirs = ["--dir", join(dir, "own"), "--dir", join(dir, "hosts/*/hb")];
    const run = (now: string) => lb(["check", ...dirs, "--forge", "file", "--repo", join(dir, "issues"), "--now", now]);
    const first = await run("2026-01-10T12:00:00Z");
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(JSON.parse(await readFile(join(dir, "own", FOLDERS_FILE), "utf8"))).toEqual({
      format: "lastbeat-folders/1",
      patterns: { [join(dir, "hosts/*/hb")]: ["a", "b", "c"].map((h) => join(dir, "hosts", h, "hb")) },
    });
    // A share gone: autofs without browsing lists only the hosts that are mounted.
    await rename(join(dir, "hosts", "c"), join(dir, "elsewhere"));
    const gone = await run("2026-01-10T12:20:00Z");
    expect(gone.code).toBe(1);
    const folder = join(dir, "hosts", "c", "hb");
    expect(gone.stdout).toContain(
      `folder:${folder}: invalid: heartbeat folder does not exist; it matched ${join(dir, "hosts/*/hb")} before (gone for good? lastbeat retire 'folder:${folder}' with the checker's --dir flags)`,
    );
    // status, report and metrics judge the same folders (reading the memory, never writing it).
    const status = await lb(["status", ...dirs, "--json", "--now", "2026-01-10T12:20:00Z"]);
    expect(status.code).toBe(1);
    expect((JSON.parse(status.stdout) as { jobs: Job[] }).jobs.find((j) => j.job === `folder:${folder}`)).toMatchObject({ status: "invalid", alerting: true });
    const report = await lb(["report", ...dirs, "--format", "json", "--now", "2026-01-10T12:21:00Z"]);
    expect(report.code).toBe(1);
    expect(report.stdout).toContain(`folder:${folder}`);
    const metrics = await lb(["metrics", ...dirs, "--now", "2026-01-10T12:21:00Z"]);
    expect(metrics.stdout).toContain(`lastbeat_alerting{job="folder:${folder}"} 1`);
    // Mounted again: scanned as before, the alert closes, and the journal says the folder recovered.
    await rename(join(dir, "elsewhere"), join(dir, "hosts", "c"));
    const back = await run("2026-01-10T12:40:00Z");
    expect(back.code).toBe(0);
    expect(back.stdout).toContain("close #1");
    const journal = (await readFile(join(dir, "own", JOURNAL_FILE), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(journal.filter((e) => e.job === `folder:${folder}`).map((e) => [e.at, e.from, e.to])).toEqual([
      ["2026-01-10T12:20:00.000Z", null, "invalid"],
      ["2026-01-10T12:40:00.000Z", "invalid", "ok"],
    ]);
  }, 60_000);

  it("forgets a folder only when retired on purpose: `lastbeat retire 'folder:<dir>'` with the checker's --dir flags", async () => {
    const { dir, env } = await fleet();
    expect((await check(dir, env, "2026-01-10T12:00:00Z")).code).toBe(0);
    await rm(join(dir, "hosts", "c"), { recursive: true });
    const folder = join(dir, "hosts", "c", "hb");
    // Run after run, it keeps alerting: nothing is forgotten by itself.
    for (const now of ["2026-01-10T12:05:00Z", "2026-01-10T12:10:00Z"]) {
      const r = await check(dir, env, now);
      expect(r.code).toBe(1);
      expect(jobs(r).find((j) => j.job === `folder:${folder}`)).toMatchObject({
        status: "invalid",
        reason: `heartbeat folder does not exist; it matched ${join(dir, "hosts/*/hb")} before (gone for good? lastbeat retire 'folder:${folder}' with the checker's --dir flags)`,
      });
    }
    // Not the checker's folder (no --dir): said, exit 2, nothing forgotten.
    const wrong = await cli(dir, env, ["retire", `folder:${folder}`]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("give retire the checker's --dir flags");
    const unknown = await cli(dir, env, ["retire", `folder:${join(dir, "nowhere")}`, ...DIRS]);
    expect(unknown.code).toBe(2);
    const retired = await cli(dir, env, ["retire", `folder:${folder}`, ...DIRS]);
    expect(retired).toMatchObject({ code: 0, stderr: "" });
    expect(retired.stdout).toContain(`retired folder:${folder}: forgotten by ${join(dir, "hosts/*/hb")}`);
    const after = await check(dir, env, "2026-01-10T12:15:00Z");
    expect(after.code).toBe(0);
    expect(jobs(after).map((j) => j.job).sort()).toEqual(["heartbeat-checker", "sync-a", "sync-b"]);
    expect(await readdir(join(dir, "issues"))).toHaveLength(1);
    expect(await readFile(join(dir, "issues", (await readdir(join(dir, "issues")))[0]!), "utf8")).toContain("state: closed");
  });

  it("retiring a folder takes its alerting jobs with it: a `job@<dir>` of a folder no longer scanned is never 'heartbeat file removed' for good", async () => {
    const { dir, env } = await fleet();
    // `backup` on two hosts is `backup@<folder>`; it fails on host c.
    const beat = (host: string, status: string) =>
      writeFile(join(dir, "hosts", host, "hb", "backup.last"), JSON.stringify({ format: "lastbeat/1", job: "backup", status, at: "2026-01-10T11:50:00Z", interval_s: 3600 }));
    await beat("a", "ok");
    await beat("c", "fail");
    const folder = join(dir, "hosts", "c", "hb");
    const first = await check(dir, env, "2026-01-10T12:00:00Z");
    expect(jobs(first).find((j) => j.job === `backup@${folder}`)).toMatchObject({ status: "failed", alerting: true });
    await rm(join(dir, "hosts", "c"), { recursive: true });
    // Gone: the folder alerts, and its failing job, whose file went with it, stays alerting.
    const gone = await check(dir, env, "2026-01-10T12:15:00Z");
    expect(jobs(gone).filter((j) => j.alerting).map((j) => [j.job, j.status])).toEqual(
      expect.arrayContaining([[`folder:${folder}`, "invalid"], [`backup@${folder}`, "missing"]]),
    );
    expect((await cli(dir, env, ["retire", `folder:${folder}`, ...DIRS])).code).toBe(0);
    // Retired on purpose: the folder and what it held leave the alert, and the issue closes.
    const after = await check(dir, env, "2026-01-10T12:30:00Z");
    expect(jobs(after).filter((j) => j.alerting)).toEqual([]);
    expect(after.code).toBe(0);
    const issue = await readFile(join(dir, "issues", (await readdir(join(dir, "issues")))[0]!), "utf8");
    expect(issue).toContain("state: closed");
    // The brief agrees: nothing alerting, nothing "heartbeat file removed".
    const brief = await cli(dir, env, ["report", ...DIRS, "--format", "json", "--now", "2026-01-10T12:31:00Z"]);
    expect(brief.code).toBe(0);
    expect(brief.stdout).not.toContain("heartbeat file removed");
  });

  it("a folder that comes back recovers its `folder:<dir>` alert: never 'heartbeat file removed'", async () => {
    const { dir, env } = await fleet();
    const args = ["check", "--dir", "own", "--dir", "late", "--forge", "file", "--repo", "issues", "--json", "--now"];
    const missing = await cli(dir, env, [...args, "2026-01-10T12:00:00Z"]);
    expect(jobs(missing).find((j) => j.job === `folder:${join(dir, "late")}`)).toMatchObject({ status: "invalid", reason: "heartbeat folder does not exist" });
    await mkdir(join(dir, "late"));
    const back = await cli(dir, env, [...args, "2026-01-10T12:15:00Z"]);
    expect(back.code).toBe(0);
    expect(jobs(back).map((j) => j.job)).toEqual(["heartbeat-checker"]);
  });

  it("is written by check when a pattern is scanned, never for plain folders, never by status", async () => {
    const { dir, env } = await fleet();
    await cli(dir, env, ["check", "--dir", "own", "--dir", "hosts/a/hb", "--forge", "file", "--repo", "issues", "--now", "2026-01-10T12:00:00Z"]);
    expect(await readdir(join(dir, "own"))).not.toContain(FOLDERS_FILE);
    await cli(dir, env, ["status", ...DIRS, "--now", "2026-01-10T12:00:00Z"]);
    expect(await readdir(join(dir, "own"))).not.toContain(FOLDERS_FILE);
    await cli(dir, env, ["check", ...DIRS, "--forge", "file", "--repo", "issues", "--dry-run", "--now", "2026-01-10T12:00:00Z"]);
    expect(await readdir(join(dir, "own"))).not.toContain(FOLDERS_FILE);
    await check(dir, env, "2026-01-10T12:00:00Z");
    expect(await readdir(join(dir, "own"))).toContain(FOLDERS_FILE);
  });

  it("a broken memory is a warning and the check carries on (and rewrites it); a symlink there is never followed", async () => {
    const { dir, env } = await fleet();
    const path = join(dir, "own", FOLDERS_FILE);
    await writeFile(path, "{ not json");
    const broken = await check(dir, env, "2026-01-10T12:00:00Z");
    expect(broken.code).toBe(0);
    expect(broken.stderr).toBe(`warning: the checker's folder memory ${path} is not lastbeat-folders/1 JSON: not used\n`);
    expect(JSON.parse(await readFile(path, "utf8")).patterns[join(dir, "hosts/*/hb")]).toHaveLength(3);

    // A planted link to a file that matters: not read through, and replaced, not written through.
    const target = join(dir, "precious");
    await writeFile(target, "keep me");
    await rm(path);
    await symlink(target, path);
    const linked = await check(dir, env, "2026-01-10T12:15:00Z");
    expect(linked.code).toBe(0);
    expect(linked.stderr).toContain(`warning: the checker's folder memory ${path} is a symbolic link (not followed): not used`);
    expect(await readFile(target, "utf8")).toBe("keep me");
    expect((await lstat(path)).isFile()).toBe(true);

    // Entries that are not absolute paths are left out, one warning; the rest is used.
    await writeFile(path, JSON.stringify({ format: "lastbeat-folders/1", patterns: { [join(dir, "hosts/*/hb")]: [join(dir, "hosts/x/hb"), "relative", 7] } }));
    const partly = await check(dir, env, "2026-01-10T12:30:00Z");
    expect(partly.code).toBe(1);
    expect(partly.stderr).toContain("had 2 entries that are not an absolute path: left out");
    expect(jobs(partly).find((j) => j.job === `folder:${join(dir, "hosts/x/hb")}`)).toMatchObject({ status: "invalid" });
  });

  it.skipIf(noMkfifo)(
    "a FIFO at the memory's path never blocks status or check",
    async () => {
      const { dir, env } = await fleet();
      fifoAt(join(dir, "own", FOLDERS_FILE));
      const status = await cli(dir, env, ["status", ...DIRS, "--now", "2026-01-10T12:00:00Z"]);
      expect(status.code).toBe(0);
      expect(status.stderr).toContain("is not a regular file: not used");
      expect((await check(dir, env, "2026-01-10T12:00:00Z")).code).toBe(0);
    },
    FIFO_TIMEOUT_MS,
  );

  it("keeps what is remembered when the memory would pass its cap", async () => {
    const { dir, env } = await fleet();
    const path = join(dir, "own", FOLDERS_FILE);
    // Another pattern's memory fills the file close to its 1 MiB cap.
    const filler = Array.from({ length: 4150 }, (_, i) => `/${"x".repeat(240)}/${i}`);
    await writeFile(path, JSON.stringify({ format: "lastbeat-folders/1", patterns: { "/elsewhere/*/hb": filler } }));
    const before = await readFile(path, "utf8");
    const r = await check(dir, env, "2026-01-10T12:00:00Z");
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("over its cap of 1048576: the folders matched for the first time are not remembered");
    expect(await readFile(path, "utf8")).toBe(before);
  });
});
