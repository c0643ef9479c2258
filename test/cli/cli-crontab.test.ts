import { readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, utimes, writeFile } from "node:fs/promises";
import { tmpdir, uptime } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Validator, type Schema } from "@cfworker/json-schema";
import { runCli } from "@lastbeat/cli";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeIo } from "../support/fake-io.js";

const fixtureRoot = fileURLToPath(new URL("./fixtures/cron-root", import.meta.url));

let dir: string;
let root: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lastbeat-crontab-"));
  root = join(dir, "root");
  await cp(fixtureRoot, root, { recursive: true });
  // Crontabs put in long before the tests look (a crontab's time dates its jobs' first run).
  const installed = new Date("2025-01-01T00:00:00Z");
  for (const file of ["etc/crontab", "etc/cron.d/shop", "etc/cron.d/php", "etc/cron.d/e2scrub_all", "var/spool/cron/crontabs/app"]) {
    await utimes(join(root, file), installed, installed);
  }
  // The fixture host runs on UTC: its /etc/localtime says so (this machine's own zone never counts).
  await symlink("/usr/share/zoneinfo/Etc/UTC", join(root, "etc", "localtime"));
  await mkdir(join(dir, "hb"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const NOW = "2025-01-31T06:00:00Z";
const schema = JSON.parse(readFileSync(new URL("../../docs/status.schema.json", import.meta.url), "utf8")) as Schema;

async function cli(args: string[], env: Record<string, string> = {}) {
  // TZ: the reader's own zone (the brief's dates), not the crontab host's (its etc/localtime).
  const io = fakeIo({ env: { LASTBEAT_DIR: join(dir, "hb"), LASTBEAT_CRON_ROOT: root, TZ: "UTC", ...env }, cwd: dir });
  const code = await runCli(args, io);
  return { code, stdout: io.out().replaceAll(root, "<root>"), stderr: io.err().replaceAll(root, "<root>") };
}

interface StatusJson {
  jobs: { job: string; status: string; alerting: boolean; reason: string; interval_s: number | null; due_at: string | null }[];
  unmonitored?: { source: string; line: number; user: string | null; schedule: string; command: string }[];
}

describe("status --crontabs", () => {
  it("every lastbeat line declares its job: never beat is missing, and alerts", async () => {
    const result = await cli(["status", "--crontabs", "--json", "--now", NOW]);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as StatusJson;
    expect(new Validator(schema, "2020-12", false).validate(json).errors).toEqual([]);
    expect(json.jobs.map((j) => `${j.job} ${j.status} ${j.interval_s}: ${j.reason}`)).toMatchInlineSnapshot(`
      [
        "crontab:<root>/etc/cron.d/shop:11 invalid null: cron line not understood: minute "61": 61 is outside 0-59",
        "backup missing 86400: declared by <root>/etc/cron.d/shop:4 but no heartbeat file was found",
        "standup-mail missing 86400: declared by <root>/var/spool/cron/crontabs/app:5 but no heartbeat file was found",
        "sync-orders missing 900: declared by <root>/etc/cron.d/shop:5 but no heartbeat file was found",
        "warm-cache missing null: declared by <root>/etc/cron.d/shop:8 but no heartbeat file was found",
        "winter-report missing 86400: declared by <root>/etc/cron.d/shop:6 but no heartbeat file was found",
      ]
    `);
    expect(json.unmonitored?.map((u) => `${u.source}:${u.line}`)).toEqual([
      "<root>/etc/crontab:19",
      "<root>/etc/crontab:20",
      "<root>/etc/crontab:21",
      "<root>/etc/crontab:22",
      "<root>/etc/cron.d/e2scrub_all:1",
      "<root>/etc/cron.d/e2scrub_all:2",
      "<root>/etc/cron.d/php:9",
      "<root>/etc/cron.d/shop:7",
      "<root>/etc/cron.d/shop:10",
      "<root>/var/spool/cron/crontabs/app:6",
    ]);
  });

  it("a line put in today waits for its first run: ok, then late, then missing from the end of its grace, the line named", async () => {
    // The shop's crontab changed on Thursday 30 January at 10:00 UTC.
    const changed = new Date("2025-01-30T10:00:00Z");
    await utimes(join(root, "etc/cron.d/shop"), changed, changed);
    const status = async (now: string) => {
      const result = await cli(["status", "--crontab", join(root, "etc/cron.d/shop"), "--json", "--now", now]);
      const jobs = (JSON.parse(result.stdout) as StatusJson).jobs.filter((j) => !j.job.startsWith("crontab:"));
      return { code: result.code, jobs: jobs.map((j) => `${j.job} ${j.status}${j.alerting ? " alerting" : ""}: ${j.reason}`) };
    };
    // Set up at 10:00, looked at five minutes later: nothing has had its first run, nothing alerts.
    expect(await status("2025-01-30T10:05:00Z")).toEqual({
      code: 1,
      jobs: [
        // @reboot declares no rhythm: there is no first run to wait for (see docs/crontab.md).
        "warm-cache missing alerting: declared by <root>/etc/cron.d/shop:8 but no heartbeat file was found",
        "backup ok: no heartbeat yet (declared by <root>/etc/cron.d/shop:4); its first run is due 2025-01-31T01:00:00.000Z",
        "sync-orders ok: no heartbeat yet (declared by <root>/etc/cron.d/shop:5); its first run is due 2025-01-30T10:15:00.000Z",
        "winter-report ok: no heartbeat yet (declared by <root>/etc/cron.d/shop:6); its first run is due 2025-01-31T05:30:00.000Z",
      ],
    });
    // The next morning: the quarter-hourly sync never beat (its grace ended at 10:30), the
    // nightly backup's first run (02:00 Berlin) is overdue but within its grace.
    const morning = await status(NOW);
    expect(morning.code).toBe(1);
    expect(morning.jobs).toContain("sync-orders missing alerting: declared by <root>/etc/cron.d/shop:5 but no heartbeat file was found");
    expect(morning.jobs).toContain(
      "backup late: no heartbeat yet (declared by <root>/etc/cron.d/shop:4); its first run was due 2025-01-31T01:00:00.000Z; alerting after 2025-02-01T10:00:00.000Z",
    );
    expect((await status("2025-02-01T10:00:00.001Z")).jobs).toContain("backup missing alerting: declared by <root>/etc/cron.d/shop:4 but no heartbeat file was found");
  });

  it("an @reboot line put in since the host booted waits for the next boot; one older than the boot alerts", async () => {
    const file = join(dir, "jobs");
    await writeFile(file, "@reboot lastbeat run warm-cache -- /srv/warm\n");
    const warmCache = async () => {
      const result = await cli(["status", "--crontab", file, "--json"]);
      const job = (JSON.parse(result.stdout) as StatusJson).jobs[0]!;
      return { code: result.code, row: `${job.status}: ${job.reason}` };
    };
    // Written just now: this machine booted before it.
    expect(await warmCache()).toEqual({ code: 0, row: `ok: no heartbeat yet (declared by ${file}:1); it runs at the next boot` });
    const before = new Date(Date.now() - (uptime() + 60) * 1000);
    await utimes(file, before, before);
    expect(await warmCache()).toEqual({ code: 1, row: `missing: declared by ${file}:1 but no heartbeat file was found` });
  });

  const setTimeOf = (path: string, iso: string) => utimes(path, new Date(iso), new Date(iso));

  it("a line's own --max-runtime and --grace are part of what it declares: a hung run is overrun after 2 hours, not the grace of a day's job", async () => {
    const file = join(dir, "jobs");
    await writeFile(file, "0 2 * * * lastbeat run backup --every 1d --max-runtime 2h -- /srv/backup\n*/15 * * * * lastbeat run fetch --grace=4h --every 15m --alert-after 3 -- /srv/fetch\n");
    await setTimeOf(file, "2025-01-01T00:00:00Z");
    await cli(["beat", "backup", "--every", "1d", "--max-runtime", "2h", "--status", "start", "--now", "2025-01-30T02:00:00Z"]);
    await cli(["beat", "fetch", "--every", "15m", "--alert-after", "3", "--grace", "4h", "--status", "fail", "--exit-code", "1", "--now", "2025-01-30T02:00:00Z"]);
    const result = await cli(["status", "--crontab", file, "--json", "--now", "2025-01-30T04:00:00.001Z"]);
    const jobs = Object.fromEntries((JSON.parse(result.stdout) as StatusJson).jobs.map((j) => [j.job, `${j.status}: ${j.reason}`]));
    expect(jobs.backup).toBe("overrun: started 2025-01-30T02:00:00.000Z and still not finished after max runtime 120m");
    // One failure of three, silent for two hours: within its 4-hour grace, flaky, not stale.
    expect(jobs.fetch).toMatch(/^flaky: 1 of 3 failures before alerting/);
    // A grace the line gives that lastbeat cannot read makes the line a problem, named.
    await writeFile(file, "0 2 * * * lastbeat run backup --grace soon -- /srv/backup\n");
    const bad = await cli(["status", "--crontab", file, "--json", "--now", "2025-01-30T04:00:00Z"]);
    expect((JSON.parse(bad.stdout) as StatusJson).jobs.find((j) => j.job.startsWith("crontab:"))?.reason).toMatch(/^cron line not understood: /);
  });

  it("a job that beat is judged by its cron line's schedule and zone, not the file's", async () => {
    // The file claims every 1w; the cron line says 02:00 Europe/Berlin daily.
    expect((await cli(["beat", "backup", "--every", "1w", "--now", "2025-01-30T01:00:00Z"])).code).toBe(0);
    const result = await cli(["status", "--crontab", join(root, "etc/cron.d/shop"), "--json", "--now", NOW]);
    const backup = (JSON.parse(result.stdout) as StatusJson).jobs.find((j) => j.job === "backup");
    expect(backup).toMatchObject({ status: "late", interval_s: 86400, due_at: "2025-01-31T01:00:00.000Z" });
  });

  it("a TZ= line is not the schedule's zone: the host's is (its etc/localtime), as cron reads it", async () => {
    const file = join(dir, "jobs");
    await writeFile(file, "TZ=Pacific/Chatham\n30 2 * * * lastbeat run nightly -- true\nCRON_TZ=Europe/Berlin\n30 2 * * * lastbeat run berlin -- true\n");
    await cli(["beat", "nightly", "--every", "1d", "--now", "2025-01-30T02:31:00Z"]);
    await cli(["beat", "berlin", "--every", "1d", "--now", "2025-01-30T01:31:00Z"]);
    const dueAt = async () => {
      const result = await cli(["status", "--crontab", file, "--json", "--now", NOW]);
      return Object.fromEntries((JSON.parse(result.stdout) as StatusJson).jobs.map((j) => [j.job, j.due_at]));
    };
    // The fixture host's /etc/localtime says UTC; this process's $TZ never counts.
    expect(await dueAt()).toEqual({ nightly: "2025-01-31T02:30:00.000Z", berlin: "2025-01-31T01:30:00.000Z" });
    await rm(join(root, "etc", "localtime"));
    await symlink("/usr/share/zoneinfo/America/New_York", join(root, "etc", "localtime"));
    expect(await dueAt()).toEqual({ nightly: "2025-01-30T07:30:00.000Z", berlin: "2025-01-31T01:30:00.000Z" });
  });

  it("the manifest wins where both declare; the manifest can ask for crontabs itself", async () => {
    await writeFile(join(dir, "lastbeat.json"), JSON.stringify({ crontabs: ["root/etc/cron.d/shop"], jobs: { backup: { every: "1h" } } }));
    const result = await cli(["status", "--manifest", "lastbeat.json", "--json", "--now", NOW]);
    const jobs = (JSON.parse(result.stdout) as StatusJson).jobs;
    expect(jobs.find((j) => j.job === "backup")).toMatchObject({ status: "missing", interval_s: 3600, reason: "declared in the manifest but no heartbeat file was found" });
    expect(jobs.find((j) => j.job === "sync-orders")).toMatchObject({ status: "missing", interval_s: 900 });
  });

  it("a declared schedule that never comes or an unknown zone is one invalid line, not a failed scan", async () => {
    const file = join(dir, "jobs");
    await writeFile(file, "0 0 30 2 * lastbeat run never -- true\nCRON_TZ=Mars/Olympus\n0 1 * * * lastbeat run marsian -- true\n");
    const result = await cli(["status", "--crontab", file, "--json", "--now", NOW]);
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as StatusJson).jobs.map((j) => `${j.job}: ${j.reason}`).map((t) => t.replace(dir, "<dir>"))).toEqual([
      `crontab:<dir>/jobs:1: cron line not understood: schedule "0 0 30 2 *" does not repeat; declare "every"`,
      `crontab:<dir>/jobs:3: cron line not understood: unknown time zone "Mars/Olympus" (use an IANA name like Europe/Berlin)`,
    ]);
  });

  it("a lastbeat behind sudo, nice, timeout, flock or a shell declares its job; another command behind them stays unmonitored, as written", async () => {
    const file = join(dir, "jobs");
    await writeFile(
      file,
      [
        "0 1 * * * sudo -u app lastbeat run c6 --every 1h -- /usr/bin/x",
        "0 2 * * * nice -n 10 lastbeat beat c2 --every 1d",
        "0 3 * * * timeout 1h lastbeat run c8 --every 1d -- backup.sh",
        "0 4 * * * flock -n /tmp/x lastbeat run c11 --every 1h -- sync.sh",
        "0 5 * * * su app -c 'cd /srv && lastbeat run report -- ./report.sh'",
        "0 6 * * * sudo -u app /usr/bin/x",
        "0 7 * * * flock -n /tmp/x sync.sh",
        "0 8 * * * sudo --frobnicate lastbeat run guessed -- x",
        "",
      ].join("\n"),
    );
    const result = await cli(["status", "--crontab", file, "--json", "--now", NOW]);
    const json = JSON.parse(result.stdout) as StatusJson;
    expect(json.jobs.map((j) => `${j.job} ${j.status} ${j.interval_s}`)).toEqual(["c11 missing 86400", "c2 missing 86400", "c6 missing 86400", "c8 missing 86400", "report missing 86400"]);
    // An option lastbeat does not know could take the next word: no job is guessed from such a line.
    expect(json.unmonitored?.map((u) => `${u.line}: ${u.command}`)).toEqual([
      "6: sudo -u app /usr/bin/x",
      "7: flock -n /tmp/x sync.sh",
      "8: sudo --frobnicate lastbeat run guessed -- x",
    ]);
  });

  it("the checker's own lines (lastbeat check, report, …) are neither jobs nor unmonitored, listed or alerting; grep lastbeat is unmonitored", async () => {
    // /etc/cron.d/lastbeat as the README's "Set up a host" writes it, and lines of that kind.
    const file = join(root, "etc/cron.d/lastbeat");
    await writeFile(
      file,
      [
        "*/15 * * * *  root  lastbeat check --quiet --crontabs --forge file --repo /var/lib/lastbeat/issues",
        `0 7 * * *  root  lastbeat report --crontabs --format text | mail -s "morning brief" ops@example.com`,
        "* * * * *  root  sudo -u prom /usr/local/bin/lastbeat metrics --crontabs > /var/lib/node_exporter/lastbeat.prom",
        "0 8 * * *  root  grep lastbeat /var/log/syslog > /tmp/lastbeat.log",
        "",
      ].join("\n"),
    );
    const listed = await cli(["status", "--crontab", file, "--now", NOW]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatchInlineSnapshot(`
      "No heartbeat files found.

      Unmonitored cron lines: 1 (not alerting; wrap them in \`lastbeat run <job> --\`)
        <root>/etc/cron.d/lastbeat:4  0 8 * * *  root: grep lastbeat /var/log/syslog > /tmp/lastbeat.log
      "
    `);
    const alerting = await cli(["status", "--crontab", file, "--unmonitored", "alert", "--json", "--now", NOW]);
    const json = JSON.parse(alerting.stdout) as StatusJson;
    expect(json.jobs.map((j) => `${j.job} ${j.status}`)).toEqual(["cron:<root>/etc/cron.d/lastbeat:4 missing"]);
    expect(json.unmonitored?.map((u) => u.line)).toEqual([4]);
    const report = await cli(["report", "--crontab", file, "--format", "text", "--no-checker", "--now", NOW]);
    expect(report.stdout.slice(report.stdout.indexOf("Unmonitored"))).toMatchInlineSnapshot(`
      "Unmonitored cron lines (1)
      Not watched: nothing alerts when they fail. Wrap them in \`lastbeat run <job> --\`.

        <root>/etc/cron.d/lastbeat:4 · 0 8 * * * · root: grep lastbeat /var/log/syslog > /tmp/lastbeat.log
      "
    `);
  });

  it("a manifest's crontabs must be true, false or a list of files", async () => {
    await writeFile(join(dir, "lastbeat.json"), JSON.stringify({ crontabs: "yes", jobs: {} }));
    const result = await cli(["status", "--manifest", "lastbeat.json", "--now", NOW]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`error: ${join(dir, "lastbeat.json")}: "crontabs" must be true, false or a list of crontab files\n`);
  });

  it("prints unmonitored lines under the table; --unmonitored alert makes them alert", async () => {
    const listed = await cli(["status", "--crontab", join(root, "etc/cron.d/php"), "--now", NOW]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatchInlineSnapshot(`
      "No heartbeat files found.

      Unmonitored cron lines: 1 (not alerting; wrap them in \`lastbeat run <job> --\`)
        <root>/etc/cron.d/php:9  09,39 * * * *  root: [ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean…
      "
    `);
    const alerting = await cli(["status", "--crontab", join(root, "etc/cron.d/php"), "--unmonitored", "alert", "--json", "--now", NOW]);
    expect(alerting.code).toBe(1);
    expect((JSON.parse(alerting.stdout) as StatusJson).jobs.map((j) => [j.job, j.status, j.alerting])).toEqual([
      ["cron:<root>/etc/cron.d/php:9", "missing", true],
    ]);
  });

  it("a named crontab that cannot be read is a usage error naming it; the ignore marker silences a line", async () => {
    const missing = await cli(["status", "--crontab", "nope/crontab", "--now", NOW]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(`error: cannot read crontab ${join(dir, "nope/crontab")}: no such file or directory (ENOENT)\n`);
    const status = await cli(["status", "--crontab", join(root, "etc/cron.d/shop"), "--json", "--now", NOW]);
    expect((JSON.parse(status.stdout) as StatusJson).unmonitored?.map((u) => u.command)).not.toContain("/usr/local/sbin/vacuum.sh # lastbeat: ignore");
    expect((JSON.parse(status.stdout) as StatusJson).unmonitored?.map((u) => u.line)).toEqual([7, 10]);
  });

  it("the brief lists unmonitored lines in a short section; metrics count declared jobs", async () => {
    const report = await cli(["report", "--crontab", join(root, "etc/cron.d/e2scrub_all"), "--format", "text", "--no-checker", "--now", NOW]);
    expect(report.stdout.slice(report.stdout.indexOf("Unmonitored"))).toMatchInlineSnapshot(`
      "Unmonitored cron lines (2)
      Not watched: nothing alerts when they fail. Wrap them in \`lastbeat run <job> --\`.

        <root>/etc/cron.d/e2scrub_all:1 · 30 3 * * 0 · root: test -e /run/systemd/system || SERVICE_MODE=1 /usr/lib/x86_64-linux-gnu/e2fsprogs/e2scrub_all_cron
        <root>/etc/cron.d/e2scrub_all:2 · 10 3 * * * · root: test -e /run/systemd/system || SERVICE_MODE=1 /sbin/e2scrub_all -A -r
      "
    `);
    const metrics = await cli(["metrics", "--crontab", join(root, "etc/cron.d/shop"), "--now", NOW]);
    expect(metrics.stdout).toContain('job="sync-orders"');
  });
});

describe("since when a declared job is declared: the checker's memory, not the crontab's last edit", () => {
  const jobsFile = () => join(dir, "jobs");
  const setTime = (path: string, iso: string) => utimes(path, new Date(iso), new Date(iso));
  const check = (now: string) => cli(["check", "--crontab", jobsFile(), "--forge", "file", "--repo", join(dir, "issues"), "--scope", "h1", "--now", now]);
  const statusOf = async (job: string, now: string) => {
    const result = await cli(["status", "--crontab", jobsFile(), "--json", "--now", now]);
    const state = (JSON.parse(result.stdout) as StatusJson).jobs.find((j) => j.job === job);
    return `${state?.status}: ${state?.reason}`;
  };
  const memoryPath = () => join(dir, "hb", "heartbeat-checker.declared");
  const openIssues = async () => (await readdir(join(dir, "issues")).catch(() => [] as string[])).filter((f) => f.endsWith(".md")).length;

  it("an edit of the crontab does not restart the wait of a job that never beat: it alerts when its first run is overdue", async () => {
    await writeFile(jobsFile(), "0 2 * * * lastbeat run nightly -- /srv/nightly\n");
    await setTime(jobsFile(), "2025-01-30T10:00:00Z");
    expect((await check("2025-01-30T10:15:00Z")).code).toBe(0);
    expect(JSON.parse(await readFile(memoryPath(), "utf8"))).toEqual({
      format: "lastbeat-declared/1",
      checked_at: "2025-01-30T10:15:00.000Z",
      read: [jobsFile()],
      jobs: { nightly: { since: "2025-01-30T10:00:00.000Z", by: jobsFile() } },
    });
    // Someone adds a line the next evening: the crontab is newer, the nightly job's wait is not.
    await writeFile(jobsFile(), "0 2 * * * lastbeat run nightly -- /srv/nightly\n*/5 * * * * /srv/poll\n");
    await setTime(jobsFile(), "2025-01-31T00:00:00Z");
    // Two days after the line went in (2× the day), its first run (02:00 on the 31st) never came.
    const overdue = "2025-02-01T10:00:00.001Z";
    expect(await statusOf("nightly", overdue)).toBe(`missing: declared by ${jobsFile()}:1 but no heartbeat file was found`);
    expect((await check(overdue)).code).toBe(1);
    expect(await openIssues()).toBe(1);
    // Counted from the edit, as without the memory, it would still be waiting.
    await rm(memoryPath());
    expect(await statusOf("nightly", overdue)).toMatch(/^late: no heartbeat yet .*alerting after 2025-02-02T00:00:00\.000Z$/);
  });

  it("two checkers sharing a folder keep each other's jobs: a broken job of one still alerts however its crontab is edited", async () => {
    const tabA = join(dir, "tabA");
    const tabB = join(dir, "tabB");
    await writeFile(tabA, "0 2 * * * lastbeat run a -- /bin/true\n");
    await writeFile(tabB, "0 3 * * * lastbeat run b -- /bin/true\n");
    await setTime(tabA, "2025-01-28T10:00:00Z");
    await setTime(tabB, "2025-01-28T10:00:00Z");
    const checkWith = (tab: string, now: string) => cli(["check", "--crontab", tab, "--forge", "none", "--now", now]);
    await checkWith(tabA, "2025-01-28T10:00:00Z");
    // The other checker runs on another host, which has no tabA at all (an HA pair, one folder).
    await rename(tabA, `${tabA}.elsewhere`);
    await checkWith(tabB, "2025-01-28T10:05:00Z");
    await rename(`${tabA}.elsewhere`, tabA);
    // A check reading no crontab at all forgets nothing either.
    await cli(["check", "--forge", "none", "--now", "2025-01-28T10:10:00Z"]);
    expect(Object.keys((JSON.parse(await readFile(memoryPath(), "utf8")) as { jobs: object }).jobs)).toEqual(["a", "b"]);
    await setTime(tabA, "2025-01-30T09:00:00Z");
    const a = await checkWith(tabA, "2025-01-30T12:00:00Z");
    expect(a.code).toBe(1);
    expect(a.stdout).toMatch(/\ba\b.*missing/);
  });

  it("an alert kept open after the memory was lost is no recovery in the journal or the brief", async () => {
    await writeFile(jobsFile(), "0 2 * * * lastbeat run a -- /bin/true\n");
    await setTime(jobsFile(), "2025-01-28T10:00:00Z");
    await check("2025-01-28T10:00:00Z");
    expect((await check("2025-01-30T11:00:00Z")).code).toBe(1); // missing since the 30th, 10:00
    await rm(memoryPath());
    await setTime(jobsFile(), "2025-01-30T11:30:00Z");
    // A run whose forge cannot be reached, and one with none: the journal is their memory.
    const unreachable = await cli(["check", "--crontab", jobsFile(), "--forge", "gitea", "--url", "http://127.0.0.1:9", "--repo", "acme/ops", "--scope", "h1", "--now", "2025-01-30T11:45:00Z"], { LASTBEAT_TOKEN: "t0ken-for-the-test" });
    expect(unreachable.code).toBe(3);
    expect((await cli(["check", "--crontab", jobsFile(), "--forge", "none", "--now", "2025-01-30T11:50:00Z"])).code).toBe(0);
    expect((await check("2025-01-30T12:00:00Z")).code).toBe(1);
    const journal = (await readFile(join(dir, "hb", "heartbeat-checker.journal"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { job: string; to: string });
    expect(journal.filter((e) => e.job === "a").map((e) => e.to)).toEqual(["ok", "missing"]);
    const brief = await cli(["report", "--crontab", jobsFile(), "--format", "text", "--no-checker", "--now", "2025-01-30T12:05:00Z"]);
    expect(brief.stdout).not.toMatch(/Needs attention: nothing/);
    expect(brief.stdout).toMatch(/\ba\b.*missing/);
  });

  it("a line added since the last check waits for its first run, though its file keeps an old time (dpkg, cp -p, rsync -a)", async () => {
    await writeFile(jobsFile(), "0 3 * * * lastbeat run other -- /srv/other\n");
    await setTime(jobsFile(), "2025-01-01T00:00:00Z");
    await check("2025-01-30T10:00:00Z");
    await writeFile(jobsFile(), "0 3 * * * lastbeat run other -- /srv/other\n0 2 * * * lastbeat run nightly -- /srv/nightly\n");
    await setTime(jobsFile(), "2025-01-01T00:00:00Z");
    expect(await statusOf("nightly", "2025-01-30T10:30:00Z")).toBe(`ok: no heartbeat yet (declared by ${jobsFile()}:2); its first run is due 2025-01-31T02:00:00.000Z`);
    // The job the memory holds is judged from its own time: never beaten since New Year, missing.
    expect(await statusOf("other", "2025-01-30T10:30:00Z")).toBe(`missing: declared by ${jobsFile()}:1 but no heartbeat file was found`);
  });

  it("a memory that cannot be written, or a crontab the checker does not read, never keeps a job from alerting", async () => {
    // A folder planted where the memory goes: every check warns, and the job counts from its file's time.
    await mkdir(memoryPath());
    await writeFile(jobsFile(), "*/30 * * * * lastbeat run halfhourly -- /srv/x\n");
    await setTime(jobsFile(), "2025-01-01T00:00:00Z");
    const planted = await check("2025-01-30T10:00:00Z");
    expect(planted.code).toBe(1);
    expect(planted.stderr).toMatch(/^warning: the checker's memory of declared jobs .* not used$/m);
    await rm(memoryPath(), { recursive: true });
    // The checker reads only a manifest; status reads a crontab besides: its job is judged by its file's time.
    await writeFile(join(dir, "m.json"), JSON.stringify({ jobs: { other: { every: "1d" } } }));
    await setTime(join(dir, "m.json"), "2025-01-01T00:00:00Z");
    expect((await cli(["check", "--manifest", join(dir, "m.json"), "--forge", "none", "--now", "2025-02-05T10:00:00Z"])).code).toBe(1);
    expect(await statusOf("halfhourly", "2025-02-05T10:05:00Z")).toBe(`missing: declared by ${jobsFile()}:1 but no heartbeat file was found`);
  });

  it("a line added between two checks to a file that keeps an old time counts from the last check, however long the memory went unchanged", async () => {
    await writeFile(jobsFile(), "0 2 * * * lastbeat run alpha -- /srv/alpha\n");
    await setTime(jobsFile(), "2025-01-01T00:00:00Z");
    await check("2025-01-20T12:00:00Z");
    await check("2025-01-30T12:00:00Z");
    expect((JSON.parse(await readFile(memoryPath(), "utf8")) as { checked_at: string }).checked_at).toBe("2025-01-30T12:00:00.000Z");
    await writeFile(jobsFile(), "0 2 * * * lastbeat run alpha -- /srv/alpha\n0 3 * * * lastbeat run beta -- /srv/beta\n");
    await setTime(jobsFile(), "2025-01-28T00:00:00Z");
    expect(await statusOf("beta", "2025-01-30T12:15:00Z")).toBe(`ok: no heartbeat yet (declared by ${jobsFile()}:2); its first run is due 2025-01-31T03:00:00.000Z`);
  });

  it("forgets a job whose line is gone, so a line put back waits for its first run again", async () => {
    await writeFile(jobsFile(), "0 2 * * * lastbeat run nightly -- /srv/nightly\n0 3 * * * lastbeat run other -- /srv/other\n");
    await setTime(jobsFile(), "2025-01-01T00:00:00Z");
    await check("2025-01-30T10:00:00Z");
    await writeFile(jobsFile(), "0 3 * * * lastbeat run other -- /srv/other\n");
    await setTime(jobsFile(), "2025-01-30T11:00:00Z");
    await check("2025-01-30T11:15:00Z");
    expect(Object.keys((JSON.parse(await readFile(memoryPath(), "utf8")) as { jobs: object }).jobs)).toEqual(["other"]);
    await writeFile(jobsFile(), "0 2 * * * lastbeat run nightly -- /srv/nightly\n0 3 * * * lastbeat run other -- /srv/other\n");
    await setTime(jobsFile(), "2025-01-30T12:00:00Z");
    expect(await statusOf("nightly", "2025-01-30T12:15:00Z")).toBe(`ok: no heartbeat yet (declared by ${jobsFile()}:1); its first run is due 2025-01-31T02:00:00.000Z`);
  });

  it("a job that alerted keeps its issue open when its crontab is edited and its heartbeat file vanishes: never 'recovered'", async () => {
    await writeFile(jobsFile(), "0 2 * * * lastbeat run backup -- /srv/backup\n");
    await setTime(jobsFile(), "2025-01-01T00:00:00Z");
    await cli(["beat", "backup", "--schedule", "0 2 * * *", "--tz", "UTC", "--now", "2025-01-27T02:00:05Z"]);
    expect((await check("2025-01-30T10:00:00Z")).code).toBe(1); // stale since the 29th
    expect(await openIssues()).toBe(1);
    // The admin edits the line (perhaps the fix), and the folder is emptied.
    await setTime(jobsFile(), "2025-01-30T10:30:00Z");
    await rm(join(dir, "hb", "backup.last"));
    const after = await check("2025-01-30T10:45:00Z");
    expect(after.code).toBe(1);
    expect(after.stdout).not.toMatch(/close/i);
    expect(await statusOf("backup", "2025-01-30T10:45:00Z")).toBe(`missing: declared by ${jobsFile()}:1 but no heartbeat file was found`);
    const [issue] = (await readdir(join(dir, "issues"))).filter((f) => f.endsWith(".md"));
    expect(await readFile(join(dir, "issues", issue!), "utf8")).toMatch(/^state: open$/m);
  });

  it("after a reboot that emptied the folder (no memory), every job waits for its first run since cron started; @reboot lines ran then", async () => {
    // cron ran its @reboot lines at 05:00 (Debian's marker); the crontabs are from New Year.
    await mkdir(join(root, "run"));
    await writeFile(join(root, "run", "crond.reboot"), "");
    await setTime(join(root, "run", "crond.reboot"), "2025-01-31T05:00:00Z");
    const shop = join(root, "etc/cron.d/shop");
    const at = async (now: string) => {
      const result = await cli(["status", "--crontab", shop, "--json", "--now", now]);
      return Object.fromEntries((JSON.parse(result.stdout) as StatusJson).jobs.map((j) => [j.job, j.status]));
    };
    // The nightly backup's first run since the boot is tonight; the quarter-hourly sync should
    // have run by 05:30 and never did; the @reboot line ran at 05:00 and never beat.
    expect(await at("2025-01-31T06:00:00Z")).toMatchObject({ backup: "ok", "sync-orders": "missing", "warm-cache": "missing" });
    // A line put in after cron started waits for the next start.
    await setTime(shop, "2025-01-31T05:30:00Z");
    expect(await at("2025-01-31T06:00:00Z")).toMatchObject({ backup: "ok", "sync-orders": "late", "warm-cache": "ok" });
  });
});
