import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Heartbeat } from "lastbeat";
import { systemTimeZone } from "lastbeat/internal";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runCommand } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

/*
 * Debian's cron daemon (the `cron` package, .ci/run installs it) really runs two lines of a file
 * in /etc/cron.d: one wraps its job correctly, the other has a typo in the wrapper's path, so
 * nothing ever runs and nothing ever beats. `lastbeat status --crontabs` reads the real system
 * crontabs and must show the second as `missing`. Cron fires at the top of each minute, so the
 * test waits for the first run (up to ~2 minutes); it needs root to write /etc/cron.d.
 *
 * A third line is what `lastbeat discover` made of a plain cron line, in a file that sets no PATH:
 * cron runs it with /usr/bin:/bin, where a lastbeat installed elsewhere is not found unless
 * discover wrote its full path.
 *
 * A fourth file sets TZ=Pacific/Chatham (45 minutes off every whole-hour zone) above a line that
 * fires at the next three minutes of the daemon's clock, the daemon itself started with
 * TZ=Asia/Kolkata (half an hour off UTC): cron runs the line then, on its own clock, and both the
 * beat it writes and `status --crontab` must read its schedule that way.
 */

const cronBinary = "/usr/sbin/cron";
const support =
  process.getuid?.() !== 0
    ? "needs root to write /etc/cron.d"
    : !existsSync(cronBinary)
      ? "needs Debian's cron (apt-get install cron; .ci/run does)"
      : "";

const bin = join(repoRoot, "bin", "lastbeat");
const id = randomBytes(4).toString("hex");
const cronFile = `/etc/cron.d/lastbeat-e2e-${id}`; // cron reads only names of [A-Za-z0-9_-]
const discoveredFile = `/etc/cron.d/lastbeat-e2e-discovered-${id}`;
const zonedFile = `/etc/cron.d/lastbeat-e2e-zoned-${id}`;
let zonedMinutes: number[] = [];
let daemonZone = "UTC";
let daemon: ChildProcess | null = null;
let heartbeats: string;
let discoveredText = "";

beforeAll(async () => {
  if (support) return;
  if (!existsSync(join(repoRoot, "packages", "lastbeat", "dist", "cli", "lastbeat.mjs"))) {
    execFileSync("npm", ["run", "build"], { cwd: repoRoot, stdio: "ignore" });
  }
  heartbeats = await testdir("lastbeat-cron-e2e-");
  await chmod(heartbeats, 0o755);
  // cron's own PATH is /usr/bin:/bin; node may live elsewhere.
  const path = `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`;
  await writeFile(
    cronFile,
    [
      `PATH=${path}`,
      `LASTBEAT_DIR=${heartbeats}`,
      `* * * * * root ${bin} run e2e-good-${id} --every 1m -- true`,
      `* * * * * root /opt/lastbeta/bin/lastbeat run e2e-typo-${id} --every 1m -- true`,
      "",
    ].join("\n"),
    { mode: 0o644 },
  );
  // `lastbeat` where npm would put it, on the caller's PATH but not on cron's default one.
  const work = await testdir("lastbeat-cron-e2e-work-");
  await chmod(work, 0o755);
  const npmBin = join(work, "npm-bin");
  await mkdir(npmBin);
  await symlink(bin, join(npmBin, "lastbeat"));
  const script = join(work, `e2e-discovered-${id}.sh`);
  await writeFile(script, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  await mkdir(join(work, "cron.d"));
  const plain = join(work, "cron.d", "plain");
  await writeFile(plain, `LASTBEAT_DIR=${heartbeats}\n* * * * * root ${script}\n`);
  const discovered = await runCommand(bin, ["discover", "--crontab", plain, "--json"], { env: { PATH: `${npmBin}:${process.env.PATH}` } });
  if (discovered.code !== 0) throw new Error(`discover failed: ${discovered.stderr}`);
  discoveredText = (JSON.parse(discovered.stdout) as { crontabs: { text: string }[] }).crontabs[0]!.text;
  await writeFile(discoveredFile, discoveredText, { mode: 0o644 });
  // The next three minutes on the daemon's clock: a running daemon's (its TZ, if lastbeat sees
  // one), else that of the daemon started below with a TZ of its own, half an hour off UTC.
  const running = spawnSync("pgrep", ["-x", "cron"]).status === 0;
  daemonZone = running ? systemTimeZone() : "Asia/Kolkata";
  const soon = Date.now();
  zonedMinutes = [1, 2, 3].map((k) => minuteOf(new Date(soon + k * 60_000)));
  const minutes = zonedMinutes.join(",");
  await writeFile(
    zonedFile,
    [`PATH=${path}`, `LASTBEAT_DIR=${heartbeats}`, "TZ=Pacific/Chatham", `${minutes} * * * * root ${bin} run e2e-zoned-${id} --schedule '${minutes} * * * *' -- true`, ""].join("\n"),
    { mode: 0o644 },
  );
  // A daemon already running picks the files up within a minute; otherwise start one for this test
  // after they are written (cron notices a change by the folder's mtime, to the second).
  if (!running) daemon = spawn(cronBinary, ["-f"], { stdio: "ignore", env: { ...process.env, TZ: daemonZone } });
});

/** The minute of the hour of `at` on the cron daemon's clock. */
function minuteOf(at: Date): number {
  return Number(new Intl.DateTimeFormat("en-US", { timeZone: daemonZone, minute: "numeric" }).format(at));
}

afterAll(async () => {
  await rm(cronFile, { force: true });
  await rm(discoveredFile, { force: true });
  await rm(zonedFile, { force: true });
  daemon?.kill("SIGTERM");
});

/** The first whole minute after `at` whose minute of the hour, on the daemon's clock, is one of `minutes`. */
function nextMinuteOf(minutes: readonly number[], at: Date): Date {
  const next = new Date(at);
  next.setUTCSeconds(0, 0);
  do next.setTime(next.getTime() + 60_000);
  while (!minutes.includes(minuteOf(next)));
  return next;
}

async function waitForFile(path: string, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await stat(path).then(() => true, () => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

describe.skipIf(support !== "")(`a real cron daemon ${support ? `(skipped: ${support})` : ""}`, () => {
  it("a wrapped job beats; a line whose wrapper has a typo waits for its first run, then is missing in status --crontabs", async () => {
    expect(await waitForFile(join(heartbeats, `e2e-good-${id}.last`), 150_000)).toBe(true);
    const result = await runCommand(bin, ["status", "--crontabs", "--json"], { env: { LASTBEAT_DIR: heartbeats } });
    expect(result.stderr).toBe("");
    const jobs = (JSON.parse(result.stdout) as { jobs: { job: string; status: string; reason: string }[] }).jobs;
    const mine = jobs
      .filter((j) => j.job === `e2e-good-${id}` || j.job === `e2e-typo-${id}`)
      .map((j) => `${j.job.replace(id, "<id>")} ${j.status}${j.status === "ok" ? "" : `: ${j.reason.replace(id, "<id>")}`}`);
    expect(mine.sort()).toEqual(["e2e-good-<id> ok", expect.stringMatching(/^e2e-typo-<id> (?:ok|late|missing): /)]);
    // The typo's line went in when the file was written: it waits for its first run (every
    // minute), then, its grace (2 minutes) over, it is missing, naming its line.
    const written = (await stat(cronFile)).mtime.getTime();
    const typoAt = async (afterMs: number) => {
      const at = new Date(written + afterMs).toISOString();
      const json = await runCommand(bin, ["status", "--crontabs", "--json", "--now", at], { env: { LASTBEAT_DIR: heartbeats } });
      const typo = (JSON.parse(json.stdout) as { jobs: { job: string; status: string; reason: string; alerting: boolean }[] }).jobs.find((j) => j.job === `e2e-typo-${id}`);
      // Exit 1 when it alerts (other crontabs of this machine may hold alerting jobs too: only then is 1 not the typo's).
      if (typo?.alerting) expect(json.code).toBe(1);
      return `${typo?.status}: ${typo?.reason.replace(id, "<id>")}`;
    };
    expect(await typoAt(0)).toMatch(/^ok: no heartbeat yet \(declared by \/etc\/cron\.d\/lastbeat-e2e-<id>:4\); its first run is due /);
    expect(await typoAt(5 * 60_000)).toBe(`missing: declared by /etc/cron.d/lastbeat-e2e-<id>:4 but no heartbeat file was found`);
  });

  it("a line wrapped by discover, in a file without PATH, runs lastbeat by its full path and beats", async () => {
    expect(discoveredText).toMatch(new RegExp(`^\\* \\* \\* \\* \\* root /\\S+/npm-bin/lastbeat run e2e-discovered-${id} --schedule '\\* \\* \\* \\* \\*' -- sh -c '/\\S+\\.sh'$`, "m"));
    expect(await waitForFile(join(heartbeats, `e2e-discovered-${id}.last`), 150_000)).toBe(true);
    const result = await runCommand(bin, ["status", "--crontab", discoveredFile, "--json"], { env: { LASTBEAT_DIR: heartbeats } });
    const jobs = (JSON.parse(result.stdout) as { jobs: { job: string; status: string }[] }).jobs;
    expect(jobs.filter((j) => j.job === `e2e-discovered-${id}`).map((j) => j.status)).toEqual(["ok"]);
  });

  it("a TZ= line is passed to the job, not the schedule's zone: cron, the beat and status --crontab read it in the host's", async () => {
    const file = join(heartbeats, `e2e-zoned-${id}.last`);
    expect(await waitForFile(file, 200_000)).toBe(true);
    let beat: Heartbeat = JSON.parse(await readFile(file, "utf8")) as Heartbeat;
    for (let i = 0; beat.status === "start" && i < 30; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      beat = JSON.parse(await readFile(file, "utf8")) as Heartbeat;
    }
    // Cron ran it at one of the host's minutes (Chatham's clock shows other minutes then).
    expect(zonedMinutes).toContain(minuteOf(new Date(beat.at)));
    // The job reads the zone from the cron process above it; the checker below, from the daemon.
    expect(beat).toMatchObject({ status: "ok", schedule: `${zonedMinutes.join(",")} * * * *`, tz: daemonZone });
    const result = await runCommand(bin, ["status", "--crontab", zonedFile, "--json", "--now", beat.at], { env: { LASTBEAT_DIR: heartbeats } });
    const jobs = (JSON.parse(result.stdout) as { jobs: { job: string; status: string; due_at: string }[] }).jobs;
    expect(jobs.filter((j) => j.job === `e2e-zoned-${id}`)).toEqual([
      expect.objectContaining({ status: "ok", due_at: nextMinuteOf(zonedMinutes, new Date(beat.at)).toISOString() }),
    ]);
  });
});
