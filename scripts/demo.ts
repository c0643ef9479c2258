/**
 * `npm run demo` (README, "Quick start"): shows in under a minute what lastbeat does, with no account and no
 * network. Writes sample heartbeats (ok, late, stale, failed, running, one corrupt file) into a
 * fresh temporary folder, then runs `lastbeat status`, `lastbeat check --forge file` and
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

const samples: Array<[job: string, what: string, write: () => Promise<unknown>]> = [
  ["metrics-push", "ok      every minute, beat 30 s ago", () =>
    writeHeartbeat("metrics-push", { dir: heartbeats, every: "1m", durationMs: 412, now: new Date(now.getTime() - 30_000), strict: true })],
  ["nightly-report", "ok      daily, beat 7 hours ago", () =>
    writeHeartbeat("nightly-report", { dir: heartbeats, every: "1d", durationMs: 95_000, message: "sent 12 reports", now: ago(420), strict: true })],
  ["db-vacuum", "running started 2 minutes ago (max runtime 1 h)", () =>
    writeHeartbeat("db-vacuum", { dir: heartbeats, every: "1d", status: "start", maxRuntime: "1h", now: ago(2), strict: true })],
  ["thumbnails", "late    every 5 minutes, silent for 7", () =>
    writeHeartbeat("thumbnails", { dir: heartbeats, every: "5m", durationMs: 48_000, now: ago(7), strict: true })],
  ["invoice-sync", "stale   hourly, silent for 3½ hours", () =>
    writeHeartbeat("invoice-sync", { dir: heartbeats, every: "1h", durationMs: 7_300, now: ago(210), strict: true })],
  ["backup", "failed  exit code 3 five hours ago", () =>
    writeHeartbeat("backup", {
      dir: heartbeats,
      every: "1d",
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
      now: ago(300),
      strict: true,
    })],
  ["cleanup", "invalid a torn, half-written file from a broken writer", () =>
    writeFile(join(heartbeats, "cleanup.last"), '{"format":"lastbeat/1","job":"cleanup","status":"o')],
];
for (const [job, what, write] of samples) {
  await write();
  out.write(`  ${job.padEnd(16)} ${what}\n`);
}

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
