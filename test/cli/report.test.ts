import { spawn } from "node:child_process";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runCli } from "@lastbeat/cli";
import { writeHeartbeat } from "lastbeat";
import { beforeEach, describe, expect, it } from "vitest";
import { lastbeatArgs, repoRoot, runLastbeat } from "../support/cli.js";
import { testdir } from "../support/testdir.js";
import { fakeIo } from "../support/fake-io.js";

const NOW = "2026-04-08T07:00:00Z";
const minutesAgo = (m: number) => new Date(Date.parse(NOW) - m * 60_000);

let dir: string;

beforeEach(async () => {
  dir = await testdir("lastbeat-report-");
});

async function writeSamples(): Promise<void> {
  const common = { dir, strict: true } as const;
  await writeHeartbeat("heartbeat-checker", { ...common, every: "15m", now: minutesAgo(4) });
  await writeHeartbeat("backup", {
    ...common,
    every: "1d",
    status: "fail",
    exitCode: 3,
    message: "disk full",
    durationMs: 183_000,
    outputTail: "rsync: write failed: No space left on device (28)\n",
    now: minutesAgo(300),
  });
  await writeHeartbeat("thumbnails", { ...common, every: "5m", durationMs: 48_000, now: minutesAgo(7) });
}

async function report(args: string[], env: Record<string, string> = {}) {
  const io = fakeIo({ env: { NO_COLOR: "1", ...env }, cwd: dir, now: new Date("2000-01-01T00:00:00Z") });
  const code = await runCli(["report", "--dir", dir, "--now", NOW, ...args], io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe("lastbeat report", () => {
  it("prints the brief as text and exits 1 while a job is alerting", async () => {
    await writeSamples();
    const run = await report(["--format", "text", "--tz", "Europe/Berlin"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(1);
    expect(run.stdout.replaceAll(dir, "<dir>")).toMatchInlineSnapshot(`
      "Morning brief — Wednesday 8 April 2026, 09:00 Europe/Berlin
      ===========================================================

      3 jobs: 1 ok, 1 late, 1 failed
      Checker: ✓ ok — last ran 4 minutes ago (every 15 minutes)

      Needs attention (1)

      ✗ failed: backup
        last run failed with exit code 3: disk full
        last beat today 04:00 (5 hours ago) · every 1 day · alerting since today 04:00 · file <dir>/backup.last
        Output (end):
          │ rsync: write failed: No space left on device (28)

      Since the last brief
      Since yesterday 09:00 (1 day), from the checker's journal.
      No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.

      Heartbeat panel

      JOB                STATUS    LAST BEAT    AGE            INTERVAL    RATIO  LAST DURATION        LAST RUNS  AVAILABILITY  NOTE
      backup             ✗ failed  today 04:00  5 hours ago    1 day        0.2×  3 minutes 3 seconds  ✗                     —  last run failed with exit code 3: disk full
      thumbnails         ◷ late    today 08:53  7 minutes ago  5 minutes    1.4×  48 seconds           ✓                     —  beat was due 2 minutes ago; alerts in 3 minutes
      heartbeat-checker  ✓ ok      today 08:56  4 minutes ago  15 minutes   0.3×  —                    ✓                     —  next beat due in 11 minutes

      Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).
      Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).
      "
    `);
  });

  it("prints the panel alone with --panel (markdown by default) and exits 0 when all is well", async () => {
    await writeHeartbeat("heartbeat-checker", { dir, strict: true, every: "15m", now: minutesAgo(4) });
    const run = await report(["--panel", "--tz", "UTC"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatchInlineSnapshot(`
      "## Heartbeat panel

      | Job               | Status | Last beat   | Age           | Interval   | Ratio | Last duration | Last runs | Availability | Note                        |
      | ----------------- | ------ | ----------- | ------------- | ---------- | ----: | ------------- | --------- | -----------: | --------------------------- |
      | heartbeat-checker | ✓ ok   | today 06:56 | 4 minutes ago | 15 minutes |  0.3× | —             | ✓         |            — | next beat due in 11 minutes |

      Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).
      Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).
      No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.
      "
    `);
  });

  it("takes the zone from $TZ when --tz is not given", async () => {
    await writeSamples();
    const run = await report(["--format", "json"], { TZ: "Asia/Tokyo" });
    expect(JSON.parse(run.stdout)).toMatchObject({ tz: "Asia/Tokyo", title: "Morning brief — Wednesday 8 April 2026" });
  });

  it("--json is --format json", async () => {
    await writeSamples();
    const run = await report(["--json", "--tz", "UTC"]);
    expect(JSON.parse(run.stdout).summary).toBe("3 jobs: 1 ok, 1 late, 1 failed");
  });

  it("--out writes the file atomically and prints nothing", async () => {
    await writeSamples();
    await writeFile(join(dir, "brief.html"), "old brief");
    const run = await report(["--format", "html", "--out", "brief.html", "--tz", "UTC"]);
    expect(run).toMatchObject({ code: 1, stdout: "", stderr: "" });
    const html = await readFile(join(dir, "brief.html"), "utf8");
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain("3 jobs: 1 ok, 1 late, 1 failed");
    // No temp file left behind next to it.
    expect((await readdir(dir)).filter((name) => !name.endsWith(".last"))).toEqual(["brief.html"]);
  });

  it("--out into a folder that does not exist is one clear line and exit 2", async () => {
    const run = await report(["--out", "no/such/folder/brief.md"]);
    expect(run.code).toBe(2);
    expect(run.stderr.replaceAll(dir, "<dir>")).toMatchInlineSnapshot(`
      "error: cannot write --out <dir>/no/such/folder/brief.md: no such file or directory (ENOENT)
      "
    `);
  });

  it.each([
    [["--tz", "Mars/Olympus_Mons"]],
    [["--format", "pdf"]],
    [["--json", "--format", "text"]],
    [["--now", "yesterday"]],
  ])("rejects bad flags %j with exit 2 and one line", async (args) => {
    const run = await report(args);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("a missing heartbeat folder is an alert, not an empty all-clear", async () => {
    const run = await runCli(["report", "--dir", join(dir, "typo"), "--now", NOW, "--format", "text", "--no-checker"], fakeIo({ cwd: dir, now: new Date(NOW) }));
    expect(run).toBe(1);
  });
});

describe("lastbeat report: the checker's journal", () => {
  // The 06:30 brief in Berlin (04:30 UTC): backup failed at 02:00 and recovered at 03:10.
  const BRIEF_AT = "2026-04-08T04:30:00Z";
  const JOURNAL = [
    { at: "2026-03-01T00:00:00Z", job: "backup", from: null, to: "ok", reason: "next beat due" },
    { at: "2026-04-08T00:00:00Z", job: "backup", from: "ok", to: "failed", reason: "last run failed: exit code 3: disk full" },
    { at: "2026-04-08T01:10:00Z", job: "backup", from: "failed", to: "ok", reason: "next beat due" },
  ]
    .map((entry) => JSON.stringify(entry))
    .join("\n");

  async function setUp(journal: string | null = JOURNAL): Promise<void> {
    const at = (iso: string) => new Date(iso);
    await writeHeartbeat("heartbeat-checker", { dir, strict: true, every: "15m", now: at("2026-04-08T04:25:00Z") });
    await writeHeartbeat("backup", { dir, strict: true, every: "1d", durationMs: 1000, now: at("2026-04-08T01:10:00Z") });
    if (journal !== null) await writeFile(join(dir, "heartbeat-checker.journal"), `${journal}\n`);
  }

  const brief = (args: string[], env: Record<string, string> = {}) =>
    report(["--now", BRIEF_AT, "--tz", "Europe/Berlin", ...args], env);

  it("reads the journal beside the checker's heartbeat: what happened overnight, and availability", async () => {
    await setUp();
    const run = await brief(["--format", "text"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const section = run.stdout.slice(run.stdout.indexOf("Since the last brief"), run.stdout.indexOf("Heartbeat panel"));
    expect(section).toMatchInlineSnapshot(`
      "Since the last brief
      Since yesterday 06:30 (1 day), from the checker's journal.

        backup: failed at 02:00, recovered at 03:10 — down 1h 10m (last run failed: exit code 3: disk full)

      "
    `);
    // 1 h 10 m down in 30 days: 1 − 4200 / 2 592 000 = 0.99838 → 99.8%.
    expect(run.stdout).toMatch(/^backup .* 99\.8% {2}next beat due/m);
  });

  it("--since sets the window", async () => {
    await setUp();
    const run = await brief(["--since", "2h", "--format", "md"]);
    expect(run.stdout).toContain("Since today 04:30 (2 hours), from the checker's journal.\n\nNothing happened");
    const json = JSON.parse((await brief(["--since", "90m", "--json"])).stdout);
    expect(json.since_last_brief).toMatchObject({ from: "2026-04-08T03:00:00.000Z", to: "2026-04-08T04:30:00.000Z", events: [] });
  });

  it.each([
    [["--since", "yesterday"], "error: option '--since <duration>' argument 'yesterday' is invalid. Use a duration like 300, 90s, 5m, 1h, 1d or 1w."],
    [["--since", "0"], "error: option '--since <duration>' argument '0' is invalid. Use a duration like 300, 90s, 5m, 1h, 1d or 1w."],
    [["--since", "1d", "--panel"], `error: --since applies to the full brief's "Since the last brief" section; --panel has none`],
  ])("rejects %j with exit 2 and one line naming the flag", async (args, line) => {
    await setUp();
    const run = await brief(args);
    expect(run).toMatchObject({ code: 2, stdout: "", stderr: `${line}\n` });
  });

  it("--panel alone shows the last runs and the availability", async () => {
    await setUp();
    const run = await brief(["--panel", "--format", "text"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatchInlineSnapshot(`
      "JOB                STATUS  LAST BEAT    AGE            INTERVAL    RATIO  LAST DURATION  LAST RUNS  AVAILABILITY  NOTE
      heartbeat-checker  ✓ ok    today 06:25  5 minutes ago  15 minutes   0.3×  —              ✓                     —  next beat due in 10 minutes
      backup             ✓ ok    today 03:10  3 hours ago    1 day        0.1×  1 second       ✓                 99.8%  next beat due in 21 hours

      Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).
      Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).
      "
    `);
  });

  it("says in one line that there is no journal yet", async () => {
    await setUp(null);
    const run = await brief(["--format", "text"]);
    expect(run.stdout).toContain(
      "Since yesterday 06:30 (1 day), from the checker's journal.\nNo journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.\n",
    );
    expect(run.stdout).not.toContain("Nothing happened");
  });

  it("says how many lines it skipped, and still shows the rest", async () => {
    await setUp(`${JOURNAL}\nnot json\n{"at":"2026-04-08T02:00:00Z","job":"backup","to":"bogus"}`);
    const run = await brief(["--format", "md"]);
    expect(run.stdout).toContain("2 lines of the journal could not be read and were skipped.");
    expect(run.stdout).toContain("- **backup** failed at 02:00, recovered at 03:10 — down 1h 10m");
  });

  it("a journal it may not read is one line in the brief, and the brief is still printed", async () => {
    await setUp(null);
    await writeFile(join(dir, "elsewhere"), `${JOURNAL}\n`);
    await symlink(join(dir, "elsewhere"), join(dir, "heartbeat-checker.journal"));
    const run = await brief(["--format", "text"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout.replaceAll(dir, "<dir>")).toContain(
      "refusing to read the journal <dir>/heartbeat-checker.journal: it is a symbolic link: what happened before now is unknown.",
    );
    expect(run.stdout).not.toContain("down 1h 10m");
  });

  it("cuts token values out of the journal's text", async () => {
    const token = "lbtok_s3cr3t_value_42";
    await setUp(JOURNAL.replace("disk full", `disk full, token ${token}`));
    const run = await brief(["--format", "md"], { LASTBEAT_TOKEN: token });
    expect(run.stdout).toContain("disk full, token \\*\\*\\*)");
    expect(run.stdout).not.toContain(token);
  });

  it("reads each folder's journal when several folders hold a checker", async () => {
    await setUp();
    const other = join(dir, "host-b");
    await mkdir(other);
    await writeHeartbeat("heartbeat-checker", { dir: other, strict: true, every: "15m", now: new Date("2026-04-08T04:25:00Z") });
    await writeFile(
      join(other, "heartbeat-checker.journal"),
      `${JSON.stringify({ at: "2026-04-08T02:00:00Z", job: "sync", from: "ok", to: "stale", reason: "no beat" })}\n`,
    );
    const io = fakeIo({ env: { NO_COLOR: "1" }, cwd: dir, now: new Date(BRIEF_AT) });
    await runCli(["report", "--dir", dir, "--dir", other, "--tz", "UTC", "--format", "text"], io);
    expect(io.out()).toContain("  backup: failed at 00:00, recovered at 01:10 — down 1h 10m");
    expect(io.out()).toContain("  sync: went stale at 02:00 — down since 02:00, 2h 30m so far (no beat)");
  });

  it("reads what lastbeat check journaled: failed at 02:00, back at 03:10, in the 06:30 brief across midnight", async () => {
    // Berlin times: the job ran ok yesterday at 02:00, failed today at 02:00, was rerun at 03:10;
    // the checker ran at 23:00 yesterday and after each beat (each run pinned with --now).
    const cli = async (args: string[], at: string) => {
      const io = fakeIo({ env: { NO_COLOR: "1" }, cwd: dir, now: new Date(at) });
      await runCli([...args, "--dir", dir, "--now", at], io);
      return io;
    };
    await cli(["beat", "backup", "--every", "1d"], "2026-04-07T00:00:00Z");
    await cli(["check", "--forge", "none"], "2026-04-07T21:00:00Z");
    await cli(["beat", "backup", "--every", "1d", "--status", "fail", "--exit-code", "3", "--message", "disk full"], "2026-04-08T00:00:00Z");
    await cli(["check", "--forge", "none"], "2026-04-08T00:05:00Z");
    await cli(["beat", "backup", "--every", "1d"], "2026-04-08T01:10:00Z");
    await cli(["check", "--forge", "none"], "2026-04-08T01:15:00Z");
    await cli(["check", "--forge", "none"], "2026-04-08T04:25:00Z");
    const run = await brief(["--format", "text"]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    expect(run.stdout).toContain("  backup: failed at 02:00, recovered at 03:10 — down 1h 10m (last run failed: disk full)\n");
    // Known since its first beat yesterday at 02:00 (28 h 30 m ago), down 1 h 10 m of it: 95.9%.
    expect(run.stdout).toMatch(/^backup .* ✓✗✓ +95\.9% since 7 Apr {2}next beat due/m);
  });

  it("works the same from the installed command (a real child process)", async () => {
    await setUp();
    const run = await runLastbeat(["report", "--dir", dir, "--now", BRIEF_AT, "--tz", "Europe/Berlin", "--since", "12h"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Since yesterday 18:30 (12 hours), from the checker's journal.");
    expect(run.stdout).toContain("- **backup** failed at 02:00, recovered at 03:10 — down 1h 10m");
  });
});

/** Node module-resolution hook that reports every date-fns module a process loads. */
async function dateFnsProbe(): Promise<string> {
  const hook = join(dir, "hook.mjs");
  const register = join(dir, "register.mjs");
  await writeFile(
    hook,
    `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.includes("/node_modules/date-fns/")) console.error("date-fns loaded: " + result.url);
  return result;
}\n`,
  );
  await writeFile(register, `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`);
  return register;
}

function node(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("startup cost", () => {
  it("`lastbeat beat` never loads date-fns; `lastbeat report` does", async () => {
    const probe = await dateFnsProbe();
    const beat = await node(["--import", probe, ...lastbeatArgs(["beat", "nightly", "--every", "1d", "--dir", dir])]);
    expect(beat).toEqual({ code: 0, stderr: "" });
    const run = await node(["--import", probe, ...lastbeatArgs(["report", "--dir", dir, "--no-checker"])]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("date-fns loaded");
  });
});
