import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "@lastbeat/cli";
import { JOURNAL_FILE } from "lastbeat/internal";
import { runLastbeat } from "../support/cli.js";
import { fakeIo } from "../support/fake-io.js";
import { testdir } from "../support/testdir.js";

/*
 * The morning brief judges a job whose heartbeat file vanished while it alerted as `check` does:
 * `missing`, "heartbeat file removed", alerting (exit 1) until it beats again or is retired
 * (docs/spec.md, "Morning brief" and "Alert issues").
 */

async function night(): Promise<{ hb: string; env: Record<string, string>; lb: (args: string[]) => ReturnType<typeof runLastbeat> }> {
  const dir = await testdir("lastbeat-vanished-");
  const hb = join(dir, "hb");
  const env = { LASTBEAT_DIR: hb, HOME: join(dir, "home"), LASTBEAT_SYSTEM_DIR: join(dir, "system"), TZ: "UTC" };
  const lb = (args: string[]) => runLastbeat(args, { env });
  const issues = join(dir, "issues");
  expect((await lb(["beat", "backup", "--every", "1d", "--exit-code", "3", "--message", "disk full", "--now", "2026-01-10T02:00:00Z"])).code).toBe(0);
  expect((await lb(["check", "--forge", "file", "--repo", issues, "--now", "2026-01-10T02:15:00Z"])).code).toBe(1);
  await rm(join(hb, "backup.last"));
  const gone = await lb(["check", "--forge", "file", "--repo", issues, "--now", "2026-01-10T02:30:00Z"]);
  expect(gone.code).toBe(1);
  expect(gone.stdout).toContain("backup: missing: heartbeat file removed");
  expect((await lb(["check", "--forge", "file", "--repo", issues, "--now", "2026-01-10T06:30:00Z"])).code).toBe(1);
  return { hb, env, lb };
}

async function report(env: Record<string, string>, args: string[]) {
  const io = fakeIo({ env });
  const code = await runCli(["report", "--now", "2026-01-10T06:31:00Z", "--tz", "UTC", ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe("the brief and a job whose file vanished while it alerted", () => {
  it("shows it missing, 'heartbeat file removed', and exits 1, as check does (the child-process repro)", async () => {
    const { lb } = await night();
    const brief = await lb(["report", "--now", "2026-01-10T06:31:00Z", "--format", "text"]);
    expect(brief.code).toBe(1);
    expect(brief.stdout).toContain("2 jobs: 1 ok, 1 missing");
    expect(brief.stdout).toContain("Needs attention (1)");
    expect(brief.stdout).toContain("✗ missing: backup\n  heartbeat file removed\n  never beat · alerting since today 02:00");
    // The journal dates the change when the check noticed, not when the incident began.
    expect(brief.stdout).toContain("backup: failed at 02:00, then went missing at 02:30 — down since 02:00, 4h 31m so far");
  }, 60_000);

  it("in every format and in --panel", async () => {
    const { env } = await night();
    const json = await report(env, ["--format", "json"]);
    expect(json.code).toBe(1);
    const brief = JSON.parse(json.stdout) as { alerting: number; jobs: { job: string; status: string; alerting: boolean; reason: string }[] };
    expect(brief.alerting).toBe(1);
    expect(brief.jobs.find((j) => j.job === "backup")).toMatchObject({ status: "missing", alerting: true, reason: "heartbeat file removed" });
    for (const format of ["md", "html", "text"]) {
      const out = await report(env, ["--format", format]);
      expect(out.code).toBe(1);
      expect(out.stdout).toContain("heartbeat file removed");
      const panel = await report(env, ["--panel", "--format", format]);
      expect(panel.code).toBe(1);
      expect(panel.stdout).toContain("heartbeat file removed");
    }
  }, 60_000);

  it("not once it is retired, nor once it beats again", async () => {
    const { env, hb } = await night();
    expect((await report(env, ["--format", "json"])).code).toBe(1);
    expect(await runCli(["retire", "backup"], fakeIo({ env }))).toBe(0);
    const retired = await report(env, ["--format", "json"]);
    expect(retired.code).toBe(0);
    expect(retired.stdout).not.toContain("heartbeat file removed");
    await rm(join(hb, "backup.retired"));
    const io = fakeIo({ env, now: new Date("2026-01-10T06:00:00Z") });
    expect(await runCli(["beat", "backup", "--every", "1d", "--now", "2026-01-10T06:00:00Z"], io), io.err()).toBe(0);
    const back = await report(env, ["--format", "json"]);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout).jobs.find((j: { job: string }) => j.job === "backup")).toMatchObject({ status: "ok" });
  }, 60_000);

  it("the journal dates a vanished file when the check noticed it", async () => {
    const { hb } = await night();
    const lines = (await readFile(join(hb, JOURNAL_FILE), "utf8")).trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.at, l.job, l.from, l.to])).toEqual([
      ["2026-01-10T02:00:00.000Z", "backup", null, "failed"],
      ["2026-01-10T02:30:00.000Z", "backup", "failed", "missing"],
    ]);
  }, 60_000);
});

describe("a file whose name is no job's", () => {
  it("is fixed by deleting it: neither check nor the brief keeps it 'heartbeat file removed' (no beat or retire could clear it)", async () => {
    const dir = await testdir("lastbeat-vanished-");
    const hb = join(dir, "hb");
    const env = { LASTBEAT_DIR: hb, HOME: join(dir, "home"), LASTBEAT_SYSTEM_DIR: join(dir, "system"), TZ: "UTC" };
    const run = async (args: string[]) => {
      const io = fakeIo({ env, now: new Date("2026-01-10T03:00:00Z") });
      const code = await runCli(args, io);
      return { code, stdout: io.out(), stderr: io.err() };
    };
    const check = (now: string) => run(["check", "--forge", "file", "--repo", join(dir, "issues"), "--now", now]);
    expect(await run(["beat", "fine", "--every", "1h", "--now", "2026-01-10T02:00:00Z"])).toMatchObject({ code: 0, stderr: "" });
    // A space, and a control character the journal stores as U+FFFD.
    for (const name of ["backup copy", "bad\u0001name"]) await writeFile(join(hb, `${name}.last`), "{}");
    const first = await check("2026-01-10T02:15:00Z");
    expect(first.code).toBe(1);
    expect(first.stdout).toContain("file name is not a valid job name");
    // While the files are there, the brief shows each once (no phantom from the journal's spelling).
    const before = JSON.parse((await run(["report", "--format", "json", "--now", "2026-01-10T02:16:00Z"])).stdout) as { jobs: { job: string; status: string }[] };
    expect(before.jobs.map((j) => [j.job, j.status]).sort()).toEqual([["backup copy", "invalid"], ["bad\u0001name", "invalid"], ["fine", "ok"], ["heartbeat-checker", "ok"]]);
    for (const name of ["backup copy", "bad\u0001name"]) await rm(join(hb, `${name}.last`));
    const after = await check("2026-01-10T02:30:00Z");
    expect(after.stdout).not.toContain("heartbeat file removed");
    expect(after.code).toBe(0);
    const brief = await run(["report", "--format", "json", "--now", "2026-01-10T02:31:00Z"]);
    expect(brief.stdout).not.toContain("heartbeat file removed");
    expect(brief.code).toBe(0);
  }, 30_000);
});
