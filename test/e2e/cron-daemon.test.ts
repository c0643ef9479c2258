import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
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
  // A daemon already running picks the file up within a minute; otherwise start one for this test.
  if (spawnSync("pgrep", ["-x", "cron"]).status !== 0) {
    daemon = spawn(cronBinary, ["-f"], { stdio: "ignore" });
  }
});

afterAll(async () => {
  await rm(cronFile, { force: true });
  await rm(discoveredFile, { force: true });
  daemon?.kill("SIGTERM");
});

async function waitForFile(path: string, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (await stat(path).then(() => true, () => false)) return true;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  return false;
}

describe.skipIf(support !== "")(`a real cron daemon ${support ? `(skipped: ${support})` : ""}`, () => {
  it("a wrapped job beats; a line whose wrapper has a typo is missing in status --crontabs", async () => {
    expect(await waitForFile(join(heartbeats, `e2e-good-${id}.last`), 150_000)).toBe(true);
    const result = await runCommand(bin, ["status", "--crontabs", "--json"], { env: { LASTBEAT_DIR: heartbeats } });
    expect(result.stderr).toBe("");
    expect(result.code).toBe(1);
    const jobs = (JSON.parse(result.stdout) as { jobs: { job: string; status: string; reason: string }[] }).jobs;
    const mine = jobs
      .filter((j) => j.job === `e2e-good-${id}` || j.job === `e2e-typo-${id}`)
      .map((j) => `${j.job.replace(id, "<id>")} ${j.status}${j.status === "ok" ? "" : `: ${j.reason.replace(id, "<id>")}`}`);
    expect(mine.sort()).toEqual([
      "e2e-good-<id> ok",
      `e2e-typo-<id> missing: declared by /etc/cron.d/lastbeat-e2e-<id>:4 but no heartbeat file was found`,
    ]);
  });

  it("a line wrapped by discover, in a file without PATH, runs lastbeat by its full path and beats", async () => {
    expect(discoveredText).toMatch(new RegExp(`^\\* \\* \\* \\* \\* root /\\S+/npm-bin/lastbeat run e2e-discovered-${id} --schedule '\\* \\* \\* \\* \\*' -- sh -c '/\\S+\\.sh'$`, "m"));
    expect(await waitForFile(join(heartbeats, `e2e-discovered-${id}.last`), 150_000)).toBe(true);
    const result = await runCommand(bin, ["status", "--crontab", discoveredFile, "--json"], { env: { LASTBEAT_DIR: heartbeats } });
    const jobs = (JSON.parse(result.stdout) as { jobs: { job: string; status: string }[] }).jobs;
    expect(jobs.filter((j) => j.job === `e2e-discovered-${id}`).map((j) => j.status)).toEqual(["ok"]);
  });
});
