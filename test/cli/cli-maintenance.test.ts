import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { runLastbeat } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

// `lastbeat status` as a real process, in a real folder, with a manifest carrying maintenance
// windows: for all jobs (Sundays 03:00–05:00 Berlin, 02:00Z–04:00Z in November) and for one job.
let dir: string;
let hb: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-maintenance-cli-");
  hb = join(dir, "hb");
  await mkdir(hb);
  const beat = (job: string, over: object = {}) =>
    writeFile(join(hb, `${job}.last`), JSON.stringify({ format: "lastbeat/1", job, status: "ok", at: "2026-11-22T01:30:00.000Z", interval_s: 3600, ...over }));
  await beat("from-file"); // known only from its file
  await beat("db-dump", { status: "fail", exit_code: 3 });
  await beat("cron-only", { interval_s: 86_400, at: "2026-11-21T01:30:00.000Z" });
  await writeFile(join(dir, "app.crontab"), "30 1 * * * lastbeat run cron-only -- /usr/local/bin/report\n");
  // The crontab's host runs on UTC (its /etc/localtime), whatever this machine's zone.
  await mkdir(join(dir, "host", "etc"), { recursive: true });
  await symlink("/usr/share/zoneinfo/Etc/UTC", join(dir, "host", "etc", "localtime"));
  await writeFile(
    join(dir, "m.json"),
    JSON.stringify({
      crontabs: ["app.crontab"],
      maintenance: [{ schedule: "0 3 * * 0", duration: "2h", tz: "Europe/Berlin" }],
      jobs: { "db-dump": { every: "1h", maintenance: [{ schedule: "0 12 * * *", duration: "30m" }] }, "never-ran": { every: "1d" } },
    }),
  );
});

interface StatusJson {
  jobs: { job: string; status: string; alerting: boolean; reason: string; due_at: string | null }[];
}

async function status(now: string) {
  const result = await runLastbeat(["status", "--manifest", join(dir, "m.json"), "--dir", hb, "--json", "--now", now], { env: { LASTBEAT_CRON_ROOT: join(dir, "host") } });
  const jobs = (JSON.parse(result.stdout) as StatusJson).jobs;
  return { code: result.code, stderr: result.stderr, lines: jobs.map((j) => `${j.job} ${j.status}: ${j.reason}`) };
}

describe("lastbeat status --manifest with maintenance windows", () => {
  it("inside the global window every job is paused, whatever its file says, and nothing alerts", async () => {
    const result = await status("2026-11-22T03:00:00Z");
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.lines).toEqual([
      "db-dump paused: in maintenance until 2026-11-22T04:00:00.000Z",
      "from-file paused: in maintenance until 2026-11-22T04:00:00.000Z",
      "cron-only paused: in maintenance until 2026-11-22T04:00:00.000Z",
      "never-ran paused: in maintenance until 2026-11-22T04:00:00.000Z",
    ]);
  });

  it("when it ends, jobs due during it are judged from its end; the others as usual", async () => {
    const result = await status("2026-11-22T04:00:00Z");
    expect(result).toMatchObject({ code: 1, stderr: "" });
    expect(result.lines).toEqual([
      "db-dump failed: last run failed: exit code 3",
      "never-ran missing: declared in the manifest but no heartbeat file was found",
      // Its run at 01:30 (the crontab's line, in the host's zone) was due before the window: not excused.
      "cron-only late: beat was due 2026-11-22T01:30:00.000Z; alerting after 2026-11-23T01:30:00.000Z",
      // Due 02:30 and stale after 03:30 without the window: now due an hour after it.
      "from-file ok: next beat due 2026-11-22T05:00:00.000Z (maintenance ended 2026-11-22T04:00:00.000Z)",
    ]);
  });

  it("a job's own window adds to the global ones", async () => {
    const result = await status("2026-11-23T12:15:00Z");
    expect(result.lines.find((line) => line.startsWith("db-dump"))).toBe("db-dump paused: in maintenance until 2026-11-23T12:30:00.000Z");
    expect(result.lines.find((line) => line.startsWith("from-file"))).toMatch(/^from-file stale/);
  });

  it("a bad window is one error line naming the file, job, index and key, and exit code 2", async () => {
    await writeFile(join(dir, "m.json"), JSON.stringify({ jobs: { "db-dump": { every: "1h", maintenance: [{ schedule: "0 3 * * 0", duration: "2h", tz: "Berlin" }] } } }));
    const result = await runLastbeat(["status", "--manifest", join(dir, "m.json"), "--dir", hb, "--now", "2026-11-22T03:00:00Z"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^error: .*m\.json: job db-dump: maintenance\[0\]\.tz: unknown time zone "Berlin" \(use an IANA name like Europe\/Berlin\)\n$/);
  });
});
