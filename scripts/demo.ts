/**
 * `npm run demo` (README, "Quick start"): shows in under a minute what lastbeat does, with no account and no
 * network. Writes sample heartbeats (ok, late, stale, failed, flaky, running, one corrupt file) into
 * a fresh temporary folder as a night of cron runs would, with `lastbeat check` journaling the
 * changes as they happen, then runs `lastbeat status`, `lastbeat check --forge file` and
 * `lastbeat report` in-process and prints their output and where the issue file and brief are.
 *
 *   npm run demo                 # a new folder under the system temp dir
 *   npm run demo -- <folder>     # or this (empty or new) folder
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "@lastbeat/cli";
import type { CliIo } from "@lastbeat/cli";
import type { WriteHeartbeatOptions } from "lastbeat";
import { writeHeartbeat } from "lastbeat";

const out = process.stdout;
const color = out.isTTY === true && !process.env.NO_COLOR;
const bold = (text: string) => (color ? `\u001b[1m${text}\u001b[22m` : text);
const dim = (text: string) => (color ? `\u001b[2m${text}\u001b[22m` : text);

// One clock for the whole demo: every sample beat is written relative to it and every command
// evaluates at it, so the statuses below are exactly what the comments say they are.
const now = new Date();
const ago = (minutes: number) => new Date(now.getTime() - minutes * 60_000);

const root = process.argv[2] !== undefined ? resolve(process.argv[2]) : await mkdtemp(join(tmpdir(), "lastbeat-demo-"));
const heartbeats = join(root, "heartbeats");
const issues = join(root, "issues");
await mkdir(heartbeats, { recursive: true });

function section(title: string): void {
  out.write(`\n${bold(`── ${title} `)}${bold("─".repeat(Math.max(0, 76 - title.length)))}\n\n`);
}

/** Runs one `lastbeat` command in-process, echoing it like a shell session. */
async function lastbeat(args: string[]): Promise<number> {
  const shown = args.map((arg) => arg.replace(root, "$DEMO")).join(" ");
  out.write(`${dim("$")} ${bold(`lastbeat ${shown}`)}\n`);
  const io: CliIo = {
    stdout: { write: (chunk: string) => out.write(chunk), isTTY: false },
    stderr: { write: (chunk: string) => process.stderr.write(chunk), isTTY: false },
    env: { ...process.env, NO_COLOR: "1", LASTBEAT_DIR: heartbeats },
    cwd: root,
    now: () => now,
  };
  const code = await runCli(args, io);
  out.write(dim(`(exit ${code})\n`));
  return code;
}

section("1. Jobs write heartbeats");
out.write(`Sample jobs write ${bold("$DEMO/heartbeats/<job>.last")}, as a cron job would with\n`);
out.write(`  await writeHeartbeat("backup", { every: "1d" })   or   lastbeat beat backup --every 1d\n\n`);
out.write(`DEMO=${root}\n\n`);

/** A job's beats, oldest first: each `[minutes ago, fields]`, written in time order with the others'. */
type Beats = Array<[minutesAgo: number, fields: Pick<WriteHeartbeatOptions, "status" | "exitCode" | "message" | "durationMs" | "outputTail">]>;

const hourly = (from: number, to: number) => Array.from({ length: Math.floor((from - to) / 60) + 1 }, (_, i): Beats[number] => [from - i * 60, { durationMs: 7_300 }]);

const samples: Array<{ job: string; what: string; every: string; beats: Beats; options?: Partial<WriteHeartbeatOptions> }> = [
  { job: "metrics-push", what: "ok      every minute, beat 30 s ago", every: "1m", beats: [[0.5, { durationMs: 412 }]] },
  { job: "nightly-report", what: "ok      daily, beat 7 hours ago", every: "1d", beats: [[1860, { durationMs: 95_000, message: "sent 11 reports" }], [420, { durationMs: 95_000, message: "sent 12 reports" }]] },
  { job: "db-vacuum", what: "running started 2 minutes ago (max runtime 1 h)", every: "1d", beats: [[2, { status: "start" }]], options: { maxRuntime: "1h" } },
  { job: "thumbnails", what: "late    every 5 minutes, silent for 7", every: "5m", beats: [[7, { durationMs: 48_000 }]] },
  { job: "invoice-sync", what: "stale   hourly, silent for 3½ hours", every: "1h", beats: hourly(450, 210) },
  {
    job: "mail-queue",
    what: "ok      hourly; failed 4 hours ago, fixed and rerun 70 minutes later",
    every: "1h",
    beats: [
      ...hourly(480, 300),
      [240, { status: "fail", exitCode: 75, durationMs: 30_000, message: "SMTP connection refused" }],
      ...hourly(170, 50),
    ],
  },
  {
    job: "api-sync",
    what: "flaky   hourly, alerts after 3 failures in a row: failed once, 30 minutes ago",
    every: "1h",
    beats: [...hourly(450, 90), [30, { status: "fail", exitCode: 1, durationMs: 2_100, message: "HTTP 503 from upstream" }]],
    options: { alertAfter: 3 },
  },
  {
    job: "backup",
    what: "failed  exit code 3 five hours ago",
    every: "1d",
    beats: [
      [1740, { durationMs: 171_000 }],
      [300, {
        status: "fail",
        exitCode: 3,
        durationMs: 183_000,
        message: "disk full",
        outputTail: [
          "dumping database... done (2.1 GB)",
          "compressing... done",
          'rsync: write failed on "/mnt/backup/db.tar.zst": No space left on device (28)',
          "rsync error: error in file IO (code 11) at receiver.c(378)",
          "",
        ].join("\n"),
      }],
    ],
  },
];

/**
 * The night before: every sample beat in time order, and `lastbeat check` now and then (quietly,
 * at that time) so its journal records each change of a job's status as it happened. Checks need
 * not run every 15 minutes for that: the journal dates a change by the files, not by the check.
 */
const CHECKS_AT = [480, 235, 165, 85, 25, 10];
async function quietCheck(minutesAgo: number): Promise<void> {
  const sink = { write: () => true, isTTY: false };
  const at = ago(minutesAgo);
  const io: CliIo = { stdout: sink, stderr: { write: (chunk: string) => process.stderr.write(chunk), isTTY: false }, env: { ...process.env, NO_COLOR: "1", LASTBEAT_DIR: heartbeats }, cwd: root, now: () => at };
  await runCli(["check", "--forge", "none"], io);
}
async function beat(sample: (typeof samples)[number], minutes: number, fields: Beats[number][1]): Promise<void> {
  await writeHeartbeat(sample.job, { dir: heartbeats, every: sample.every, ...sample.options, ...fields, now: ago(minutes), strict: true });
}
// A half-written file from a broken writer, there all night.
await writeFile(join(heartbeats, "cleanup.last"), '{"format":"lastbeat/1","job":"cleanup","status":"o');
const timeline = [
  ...samples.flatMap((sample) => sample.beats.map(([minutes, fields]) => ({ minutes, run: () => beat(sample, minutes, fields) }))),
  ...CHECKS_AT.map((minutes) => ({ minutes, run: () => quietCheck(minutes) })),
].sort((a, b) => b.minutes - a.minutes);
for (const step of timeline) await step.run();

for (const { job, what } of samples) out.write(`  ${job.padEnd(16)} ${what}\n`);
out.write(`  ${"cleanup".padEnd(16)} invalid a torn, half-written file from a broken writer\n`);
out.write(`\nOvernight, lastbeat check ran and kept ${bold("$DEMO/heartbeats/heartbeat-checker.journal")}: one line per\n`);
out.write("change of a job's status. The brief reads it to say what happened since the last brief.\n");

section("2. lastbeat status: every job and its status");
await lastbeat(["status"]);

section("3. lastbeat check: the alert issue (file forge: no account needed)");
const checkCode = await lastbeat(["check", "--forge", "file", "--repo", issues, "--scope", "web-1"]);
const issueFiles = (await readdir(issues).catch(() => [] as string[])).filter((name) => name.endsWith(".md")).sort();
if (issueFiles.length > 0) {
  for (const name of issueFiles) {
    const path = join(issues, name);
    out.write(`\n${dim(`${path}:`)}\n\n${await readFile(path, "utf8")}`);
  }
} else if (checkCode === 2) {
  out.write("\n(lastbeat check is not available in this checkout yet: no issue file was written.)\n");
}

section("4. lastbeat report: the morning brief");
await lastbeat(["report"]);
const briefMd = join(root, "brief.md");
const briefHtml = join(root, "brief.html");
out.write("\n");
await lastbeat(["report", "--out", briefMd]);
await lastbeat(["report", "--format", "html", "--out", briefHtml]);

section("Where everything is");
out.write(`  heartbeats   ${heartbeats}/\n`);
out.write(`  journal      ${join(heartbeats, "heartbeat-checker.journal")}\n`);
if (issueFiles.length > 0) for (const name of issueFiles) out.write(`  alert issue  ${join(issues, name)}\n`);
out.write(`  brief        ${briefMd}\n`);
out.write(`  brief, HTML  ${briefHtml}   (open it in a browser)\n\n`);
const bin = fileURLToPath(new URL("../bin/lastbeat", import.meta.url));
if (existsSync(bin)) {
  out.write("Fix a job and check again: the issue gets one comment per change, and closes once all recover.\n");
  out.write(`  ${bin} beat backup --every 1d --dir ${heartbeats}\n`);
  out.write(`  ${bin} check --forge file --repo ${issues} --scope web-1 --dir ${heartbeats}\n`);
}
out.write(`Clean up: rm -r ${root}\n`);
