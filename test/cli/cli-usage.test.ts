import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "@lastbeat/cli";
import type { Heartbeat } from "lastbeat";
import { describe, expect, it } from "vitest";
import { fakeIo } from "../support/fake-io.js";
import { testdirSync } from "../support/testdir.js";

const dir = testdirSync("lastbeat-usage-");

async function cli(args: string[], env: Record<string, string> = {}) {
  const io = fakeIo({ env: { LASTBEAT_DIR: dir, ...env } });
  const code = await runCli(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe("usage errors: one clear line, exit 2", () => {
  it.each([
    [["beat", "backup", "--evry", "1d"], "error: unknown option '--evry' (Did you mean --every?)\n"],
    [["beat", "backup"], "error: required option '--every <duration> (or --schedule <cron>)' not specified\n"],
    [
      ["beat", "backup", "--every", "5x"],
      "error: option '--every <duration>' argument '5x' is invalid. Use a duration like 300, 90s, 5m, 1h, 1d or 1w.\n",
    ],
    [
      ["beat", "backup", "--every", "1d", "--status", "done"],
      "error: option '--status <status>' argument 'done' is invalid. Allowed choices are ok, fail, start.\n",
    ],
    [
      ["beat", "../etc/passwd", "--every", "1d"],
      'error: invalid job name "../etc/passwd": use 1-128 characters from A-Z a-z 0-9 . _ -, starting with a letter or digit\n',
    ],
    [
      ["status", "--now", "2025-01-31 06:00"],
      "error: option '--now <iso>' argument '2025-01-31 06:00' is invalid. Use an ISO-8601 time with a zone, like 2025-01-31T06:00:00Z.\n",
    ],
    [
      // Good cron syntax, no real date (April 31st): the job would be invalid from its first beat.
      ["beat", "report", "--every", "1d", "--schedule", "0 0 31 4 *"],
      'error: schedule "0 0 31 4 *" never fires: no date matches its day and month\n',
    ],
    [
      // Said in the user's terms, not the cron library's ("CronPattern: …").
      ["beat", "report", "--every", "1d", "--schedule", "61 * * * *"],
      'error: invalid schedule "61 * * * *": Invalid value for minute: 61\n',
    ],
    [
      // `new Date` would roll it over to March 2.
      ["beat", "backup", "--every", "1d", "--now", "2026-02-30T00:00:00Z"],
      "error: option '--now <iso>' argument '2026-02-30T00:00:00Z' is invalid. No such time: a field is out of range (a 30th of February, an hour 24, …).\n",
    ],
    [["status", "--now", "2025-02-29"], "error: option '--now <iso>' argument '2025-02-29' is invalid. No such time: a field is out of range (a 30th of February, an hour 24, …).\n"],
    [["status", "--now", "2025-01-31 24:00Z"], "error: option '--now <iso>' argument '2025-01-31 24:00Z' is invalid. No such time: a field is out of range (a 30th of February, an hour 24, …).\n"],
    [
      // The library rejects a grace below 1x; the CLI used to accept it with its own parser.
      ["beat", "backup", "--every", "1d", "--grace", "0.5x"],
      "error: option '--grace <2x|duration>' argument '0.5x' is invalid. Use a multiple of the interval of at least 1x, like 2x, or a duration like 30m.\n",
    ],
    [["run", "backup", "--every", "1d"], "error: missing the command: lastbeat run <job> --every <duration>|--schedule <cron> -- <command> [args…]\n"],
    [["stauts"], "error: unknown command 'stauts' (Did you mean status?)\n"],
    [["metrics", "--job-label", "bad-label"], "error: option '--job-label <name>' argument 'bad-label' is invalid. Use a Prometheus label name like job or lastbeat_job.\n"],
  ])("lastbeat %j", async (args, stderr) => {
    const result = await cli(args);
    expect(result).toEqual({ code: 2, stdout: "", stderr });
  });

  it("prints a stack trace only with LASTBEAT_DEBUG=1", async () => {
    const quiet = await cli(["beat", "x", "--every", "1d", "--tz", "Mars/Olympus"]);
    expect(quiet.stderr.trim().split("\n")).toHaveLength(1);
    const debug = await cli(["beat", "x", "--every", "1d", "--tz", "Mars/Olympus"], { LASTBEAT_DEBUG: "1" });
    expect(debug.stderr).toContain("    at ");
  });

  it("never prints a token", async () => {
    const token = "fake_secret/secretsecret123";
    const result = await cli(["beat", token, "--every", "1d"], { GITHUB_TOKEN: token });
    expect(result.code).toBe(2);
    expect(result.stderr).not.toContain(token);
    expect(result.stderr).toContain("***");
  });
});

describe("help", () => {
  it("lastbeat --help lists every command with examples", async () => {
    const result = await cli(["--help"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatchInlineSnapshot(`
      "Usage: lastbeat [options] [command]

      Make silent cron failures impossible to miss: heartbeat files, alerts, a morning
      brief.

      Options:
        -V, --version                     print the version
        -h, --help                        show help

      Commands:
        beat [options] <job>              write one heartbeat for a job (at the end of
                                          a shell or cron job)
        run [options] <job> [command...]  run a command between a start beat and an
                                          ok/fail beat (exit code, duration, output
                                          tail)
        status [options]                  show every job and its status; exit 1 when a
                                          job is alerting
        check [options]                   open, update or close the alert issue on a
                                          forge; exit 1 when a job is alerting
        report [options]                  render the morning brief: summary, alerting
                                          jobs with their output, what happened since
                                          the last brief, the heartbeat panel
        metrics [options]                 print Prometheus metrics of every job (for
                                          node_exporter's textfile collector)
        init [options]                    create the shared heartbeat folder (mode
                                          1777, or group-writable) and its tmpfiles.d
                                          line
        retire [options] <job>            remove a job on purpose: delete its
                                          heartbeat and leave <job>.retired so it is
                                          not missed
        discover [options]                wrap every cron line that runs no lastbeat
                                          in \`lastbeat run\`, and print the matching
                                          manifest
        help [command]                    show help for a command

      Examples:
        $ lastbeat beat backup --every 1d                  # at the end of a job
        $ lastbeat run backup --every 1d -- /usr/local/bin/backup.sh
        $ lastbeat status                                  # every job and its status
        $ lastbeat check --forge github --repo acme/ops    # open/close the alert issue

      Exit codes: 0 all healthy, 1 a job is alerting, 2 usage or configuration error, 3 forge not synced,
      70 a bug in lastbeat (please report it).

      "
    `);
  });

  it("lastbeat beat --help", async () => {
    expect((await cli(["beat", "--help"])).stdout).toMatchInlineSnapshot(`
      "Usage: lastbeat beat [options] <job>

      write one heartbeat for a job (at the end of a shell or cron job)

      Arguments:
        job                       job name: letters, digits, . _ - (the file is
                                  <dir>/<job>.last)

      Options:
        --every <duration>        how often the job runs: 300, 90s, 5m, 1h, 1d, 1w
                                  (required without --schedule)
        --schedule <cron>         5-field cron expression of the expected run times
        --tz <zone>               IANA time zone of --schedule (default: cron's:
                                  $CRON_TZ, else the cron daemon's; never $TZ)
        --grace <2x|duration>     alert after this multiple of the interval, or this
                                  long past due
        --max-runtime <duration>  a run still going after this is overrun (alerts)
        --alert-after <n>         alert only after n failed runs in a row (1-20,
                                  default 1); fewer show as flaky
        --recover-after <n>       an alerting job recovers after n ok runs in a row
                                  (1-20, default 1)
        --status <status>         what this beat reports (default ok) (choices: "ok",
                                  "fail", "start")
        --exit-code <code>        the job's exit code: 0 is ok, anything else fail
                                  (e.g. --exit-code $?)
        --message <text>          one line for humans (shown in status, the alert
                                  issue and the report)
        --dir <path>              heartbeat folder (default: $LASTBEAT_DIR,
                                  /var/run/lastbeat/heartbeats,
                                  ~/.lastbeat/heartbeats)
        --now <iso>               write the beat as of this time (demos and tests)
        --json                    print the heartbeat written
        -h, --help                show help

      Examples:
        $ lastbeat beat backup --every 1d
        $ /usr/local/bin/backup.sh; lastbeat beat backup --every 1d --exit-code $?
        $ lastbeat beat report --every 1h --status fail --message "upstream API down"
        $ flaky-sync.sh; lastbeat beat sync --every 15m --alert-after 3 --exit-code $?

      --alert-after 3: the first two failures in a row show as flaky (not alerting); the third alerts.
      --recover-after 2: once alerting, the job needs two ok runs in a row to recover.
      "
    `);
  });

  it("lastbeat run --help", async () => {
    expect((await cli(["run", "--help"])).stdout).toMatchInlineSnapshot(`
      "Usage: lastbeat run [options] <job> -- <command> [args...]

      run a command between a start beat and an ok/fail beat (exit code, duration,
      output tail)

      Arguments:
        job                       job name: letters, digits, . _ - (the file is
                                  <dir>/<job>.last)
        command                   the command and its arguments, after --

      Options:
        --every <duration>        how often the job runs: 300, 90s, 5m, 1h, 1d, 1w
                                  (required without --schedule)
        --schedule <cron>         5-field cron expression of the expected run times
        --tz <zone>               IANA time zone of --schedule (default: cron's:
                                  $CRON_TZ, else the cron daemon's; never $TZ)
        --grace <2x|duration>     alert after this multiple of the interval, or this
                                  long past due
        --max-runtime <duration>  a run still going after this is overrun (alerts)
        --alert-after <n>         alert only after n failed runs in a row (1-20,
                                  default 1); fewer show as flaky
        --recover-after <n>       an alerting job recovers after n ok runs in a row
                                  (1-20, default 1)
        --no-overlap              skip (exit 0) while the previous run of this job on
                                  this host is still alive
        --dir <path>              heartbeat folder (default: $LASTBEAT_DIR,
                                  /var/run/lastbeat/heartbeats,
                                  ~/.lastbeat/heartbeats)
        -h, --help                show help

      The command's stdout and stderr pass through; the last 4 KiB are kept in the heartbeat.
      lastbeat exits with the command's exit code (127 not found, 126 not executable, 128+n killed by signal n).
      A mistake in lastbeat's own flags never stops the command after --: it is reported on stderr,
      the command runs, and the job shows as invalid (alerting) until the flags are fixed.

      Examples:
        $ lastbeat run backup --every 1d --max-runtime 2h -- /usr/local/bin/backup.sh --full
        $ lastbeat run sync --every 5m --no-overlap -- rsync -a /srv/ backup:/srv/
        $ lastbeat run fetch --every 15m --alert-after 3 --recover-after 2 -- ./fetch-rates.sh

      --alert-after 3: the first two failures in a row show as flaky (not alerting); the third alerts.
      --recover-after 2: once alerting, the job needs two ok runs in a row to recover.
      "
    `);
  });

  it("lastbeat status --help", async () => {
    expect((await cli(["status", "--help"])).stdout).toMatchInlineSnapshot(`
      "Usage: lastbeat status [options]

      show every job and its status; exit 1 when a job is alerting

      Options:
        --dir <path>          heartbeat folder; repeatable, globs allowed (default:
                              $LASTBEAT_DIR)
        --manifest <file>     lastbeat.json declaring the jobs that must exist
                              (default: $LASTBEAT_MANIFEST)
        --now <iso>           evaluate as of this time instead of the clock
        --crontab <file>      a crontab whose \`lastbeat run/beat\` lines declare jobs;
                              repeatable
        --crontabs            read the system's crontabs: /etc/crontab, /etc/cron.d/*,
                              the user spool
        --unmonitored <mode>  cron lines that run no lastbeat: list them (default) or
                              alert on them (choices: "list", "alert")
        --json                print one JSON object { now, jobs: [...] }
                              (docs/status.schema.json)
        -h, --help            show help

      Statuses: ok, late, flaky, running, paused (no alert); stale, failed, overrun, missing, invalid (alerting).

      Examples:
        $ lastbeat status
        $ lastbeat status --dir '/mnt/fleet/*/heartbeats' --manifest /etc/lastbeat.json --json
        $ lastbeat status --crontabs          # jobs the system's crontabs declare, and unmonitored lines
      "
    `);
  });

  it("lastbeat metrics --help", async () => {
    expect((await cli(["metrics", "--help"])).stdout).toMatchInlineSnapshot(`
      "Usage: lastbeat metrics [options]

      print Prometheus metrics of every job (for node_exporter's textfile collector)

      Options:
        --dir <path>          heartbeat folder; repeatable, globs allowed (default:
                              $LASTBEAT_DIR)
        --manifest <file>     lastbeat.json declaring the jobs that must exist
                              (default: $LASTBEAT_MANIFEST)
        --now <iso>           evaluate as of this time instead of the clock
        --crontab <file>      a crontab whose \`lastbeat run/beat\` lines declare jobs;
                              repeatable
        --crontabs            read the system's crontabs: /etc/crontab, /etc/cron.d/*,
                              the user spool
        --unmonitored <mode>  cron lines that run no lastbeat: list them (default) or
                              alert on them (choices: "list", "alert")
        --out <file.prom>     write the metrics to this file atomically instead of
                              stdout
        --job-label <name>    label name carrying the job (default job; Prometheus
                              renames it exported_job on scrape)
        -h, --help            show help

      Exits 0 once the metrics are written, whatever the jobs' status: Prometheus does the alerting.

      Examples:
        $ lastbeat metrics
        $ lastbeat metrics --out /var/lib/prometheus/node-exporter/lastbeat.prom
        $ lastbeat metrics --job-label lastbeat_job --out /var/lib/prometheus/node-exporter/lastbeat.prom
            (for a fleet: keeps the cron job's name out of Prometheus' own job label, as the
             example alert rules expect)
      "
    `);
  });

  it("every command's help has an example", async () => {
    for (const command of ["beat", "run", "status", "check", "report", "metrics"]) {
      const { stdout, code } = await cli([command, "--help"]);
      expect(code, command).toBe(0);
      expect(stdout, command).toMatch(new RegExp(`\nExamples?:\n[^]*lastbeat ${command} `));
    }
  });

  it("lastbeat alone prints the help on stderr and exits 2", async () => {
    const result = await cli([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^Usage: lastbeat \[options\] \[command\]/);
  });

  it("lastbeat --version", async () => {
    expect(await cli(["--version"])).toEqual({ code: 0, stdout: "0.1.0\n", stderr: "" });
  });
});

describe("beat and run share one definition of a job's flags", () => {
  it("lists --every, --schedule, --tz, --grace and --max-runtime alike in both helps", async () => {
    const declaration = async (command: string) => {
      const lines = (await cli([command, "--help"])).stdout.split("\n");
      const from = lines.findIndex((line) => line.startsWith("  --every"));
      const to = lines.findIndex((line, i) => i > from && /^ {2}--(?!schedule|tz|grace|max-runtime)/.test(line));
      return lines.slice(from, to);
    };
    const beat = await declaration("beat");
    expect(beat.filter((line) => line.startsWith("  --"))).toHaveLength(5);
    expect(await declaration("run")).toEqual(beat);
  });

  it("reads them the same way: run takes --grace 3X as beat does", async () => {
    const result = await cli(["run", "nightly", "--every", "1h", "--grace", "3X", "--max-runtime", "30m", "--", process.execPath, "-e", ""]);
    expect(result).toEqual({ code: 0, stdout: "", stderr: "" });
    const heartbeat = JSON.parse(readFileSync(join(dir, "nightly.last"), "utf8")) as Heartbeat;
    expect(heartbeat).toMatchObject({ status: "ok", interval_s: 3600, grace: "3X", max_runtime_s: 1800 });
  });
});
