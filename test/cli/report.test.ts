import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { runCli } from "@lastbeat/cli";
import { writeHeartbeat } from "lastbeat";
import { beforeEach, describe, expect, it } from "vitest";
import { lastbeatArgs, repoRoot } from "../support/cli.js";
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

      Heartbeat panel

      JOB                STATUS    LAST BEAT    AGE            INTERVAL    RATIO  LAST DURATION        NOTE
      backup             ✗ failed  today 04:00  5 hours ago    1 day        0.2×  3 minutes 3 seconds  last run failed with exit code 3: disk full
      thumbnails         ◷ late    today 08:53  7 minutes ago  5 minutes    1.4×  48 seconds           beat was due 2 minutes ago; alerts in 3 minutes
      heartbeat-checker  ✓ ok      today 08:56  4 minutes ago  15 minutes   0.3×  —                    next beat due in 11 minutes
      "
    `);
  });

  it("prints the panel alone with --panel (markdown by default) and exits 0 when all is well", async () => {
    await writeHeartbeat("heartbeat-checker", { dir, strict: true, every: "15m", now: minutesAgo(4) });
    const run = await report(["--panel", "--tz", "UTC"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatchInlineSnapshot(`
      "## Heartbeat panel

      | Job               | Status | Last beat   | Age           | Interval   | Ratio | Last duration | Note                        |
      | ----------------- | ------ | ----------- | ------------- | ---------- | ----: | ------------- | --------------------------- |
      | heartbeat-checker | ✓ ok   | today 06:56 | 4 minutes ago | 15 minutes |  0.3× | —             | next beat due in 11 minutes |
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
