import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Cron } from "croner";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FIELDS, cronToCroner, parseCronField, parseCrontab } from "../../packages/cli/src/crontab.js";
import { lastbeatInvocation, lastbeatUse, runPartsFolder } from "../../packages/cli/src/cron-jobs.js";
import { jobNameFor } from "../../packages/cli/src/cron-wrap.js";

const fixture = (path: string) => fileURLToPath(new URL(`./fixtures/cron-root/${path}`, import.meta.url));
const read = (path: string) => readFileSync(fixture(path), "utf8");

/** Each entry as one line: where, user, schedule as written → as evaluated, zone, command. */
function summary(text: string, kind: "system" | "user", user?: string) {
  const parsed = parseCrontab(text, { source: "f", kind, ...(user !== undefined && { user }) });
  return {
    entries: parsed.entries.map(
      (e) => `${e.line} ${e.user} [${e.scheduleText}] → [${e.schedule}] tz=${e.tz ?? "-"}${e.ignored ? " ignored" : ""}: ${e.command}`,
    ),
    problems: parsed.problems.map((p) => `${p.line}: ${p.reason}`),
  };
}

describe("crontab files as Debian's cron reads them", () => {
  it("Debian's /etc/crontab: environment, comments, the user column, run-parts lines", () => {
    expect(summary(read("etc/crontab"), "system")).toMatchInlineSnapshot(`
      {
        "entries": [
          "19 root [17 * * * *] → [17 * * * *] tz=-: cd / && run-parts --report /etc/cron.hourly",
          "20 root [25 6 * * *] → [25 6 * * *] tz=-: test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }",
          "21 root [47 6 * * 7] → [47 6 * * 0] tz=-: test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.weekly; }",
          "22 root [52 6 1 * *] → [52 6 1 * *] tz=-: test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.monthly; }",
        ],
        "problems": [],
      }
    `);
  });

  it("a cron.d file: CRON_TZ, names, nicknames, % as stdin, \\% literal, ignore marker, a bad field reported", () => {
    expect(summary(read("etc/cron.d/shop"), "system")).toMatchInlineSnapshot(`
      {
        "entries": [
          "4 root [0 2 * * *] → [0 2 * * *] tz=Europe/Berlin: /usr/local/bin/lastbeat run backup --every 1d -- /usr/local/bin/backup.sh --full",
          "5 app [*/15 * * * *] → [*/15 * * * *] tz=Europe/Berlin: cd /srv/shop && LASTBEAT_DIR=/var/lib/lastbeat lastbeat run --max-runtime 10m sync-orders -- ./bin/sync",
          "6 app [30 6 * jan-mar mon-fri] → [30 6 * 1-3 1-5] tz=Europe/Berlin: /srv/shop/bin/report.sh; lastbeat beat winter-report --exit-code $? --every 1d",
          "7 app [@hourly] → [0 * * * *] tz=Europe/Berlin: /srv/shop/bin/rotate-logs",
          "8 app [@reboot] → [null] tz=Europe/Berlin: lastbeat run warm-cache -- /srv/shop/bin/warm",
          "9 root [5 4 * * sun] → [5 4 * * 0] tz=Europe/Berlin ignored: /usr/local/sbin/vacuum.sh # lastbeat: ignore",
          "10 root [0 0 * * *] → [0 0 * * *] tz=Europe/Berlin: date +%F > /tmp/today",
        ],
        "problems": [
          "11: minute "61": 61 is outside 0-59",
        ],
      }
    `);
  });

  it("a user spool file: no user column, the owner from the file name; TZ= is not the schedule's zone", () => {
    // Cron passes TZ on to the commands and reads every schedule in the host's zone (Debian's
    // cron ignores it; cronie reads only CRON_TZ).
    expect(summary(read("var/spool/cron/crontabs/app"), "user", "app")).toMatchInlineSnapshot(`
      {
        "entries": [
          "5 app [0 9 * * 1-5] → [0 9 * * 1-5] tz=-: lastbeat run standup-mail --every 1d -- /home/app/bin/standup.sh",
          "6 app [*/5 * * * *] → [*/5 * * * *] tz=-: /home/app/bin/poll-queue",
        ],
        "problems": [],
      }
    `);
  });

  it("reports every line cron would not run, naming the field", () => {
    const text = [
      "* * * *  root echo four fields",
      "5/10 * * * * root echo stepped number",
      "0 0 31-1 * * root echo backwards",
      "0 0 * foo * root echo bad month",
      "0 0 * * * root",
      "@sometimes root echo",
      "*/0 * * * * root echo zero step",
      "0 0 * * 8 root echo day 8",
      "0 0 * * * root echo last line without newline",
    ].join("\n");
    expect(summary(text, "system").problems).toMatchInlineSnapshot(`
      [
        "1: day of week "root": "root" is not a number or a name like mon",
        "2: minute "5/10": a step needs a range or * (cron reads 5/10 as 5 alone); write 5-59/10",
        "3: day of month "31-1": range 31-1 runs backwards",
        "4: month "foo": "foo" is not a number or a name like feb",
        "5: a user but no command",
        "6: unknown nickname @sometimes (cron knows @reboot, @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly)",
        "7: minute "*/0": a step must be at least 1",
        "8: day of week "8": 8 is outside 0-7",
        "9: no newline at the end of the file: cron does not run this last line",
      ]
    `);
  });

  it("environment lines: spaces around =, quotes; later assignments apply to later lines only", () => {
    const text = 'CRON_TZ = "Asia/Tokyo"\n0 1 * * * a\nTZ=UTC\n0 2 * * * b\nCRON_TZ=\nTZ=Asia/Tokyo\n0 3 * * * c\n';
    expect(summary(text, "user", "u").entries).toEqual([
      "2 u [0 1 * * *] → [0 1 * * *] tz=Asia/Tokyo: a",
      "4 u [0 2 * * *] → [0 2 * * *] tz=Asia/Tokyo: b",
      "7 u [0 3 * * *] → [0 3 * * *] tz=-: c",
    ]);
  });
});

describe("cron fields", () => {
  it("keeps the written form where croner reads it the same, rewrites where it would not", () => {
    expect(cronToCroner(["*/15", "9-17", "*", "*", "mon-fri"])).toBe("*/15 9-17 * * 1-5");
    expect(cronToCroner(["0", "0", "*/2", "*", "1"])).toBe("0 0 */2 * +1"); // a starred day field: both must match
    expect(cronToCroner(["0", "0", "1,15", "*", "fri"])).toBe("0 0 1,15 * 5"); // neither starred: either
    expect(cronToCroner(["0", "0", "1-31", "*", "1"])).toBe("0 0 * * *"); // every day OR Monday = every day
    expect(cronToCroner(["0-58/2", "*", "*", "*", "5-7"])).toBe("0-58/2 * * * 0,5-6");
    expect(cronToCroner(["1,2,3,10", "*", "*", "DEC", "*"])).toBe("1-3,10 * * 12 *");
  });
});

/** A random field as people write them: numbers, names, ranges, steps, lists. */
function fieldArb(index: number): fc.Arbitrary<string> {
  const spec = FIELDS[index] as (typeof FIELDS)[number];
  const value = fc.integer({ min: spec.low, max: spec.high });
  const named = spec.names
    ? fc.oneof(value.map(String), fc.integer({ min: 0, max: spec.names.length - 1 }).map((i) => (spec.names as readonly string[])[i] as string))
    : value.map(String);
  const range = fc.tuple(value, value).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`);
  const step = fc.integer({ min: 1, max: spec.high + 1 });
  const item = fc.oneof(
    named,
    range,
    fc.constant("*"),
    step.map((s) => `*/${s}`),
    fc.tuple(range, step).map(([r, s]) => `${r}/${s}`),
  );
  return fc.array(item, { minLength: 1, maxLength: 4 }).map((items) => items.join(","));
}

/** Every match of `expression` (croner) from `from` for `count` runs, as epoch minutes. */
function croner(expression: string, from: string, count: number): number[] {
  return new Cron(expression, { timezone: "UTC", paused: true }).nextRuns(count, new Date(from)).map((d) => d.getTime() / 60_000);
}

describe("property: croner fires exactly when cron would", () => {
  it("minute and hour fields", () => {
    fc.assert(
      fc.property(fieldArb(0), fieldArb(1), (minute, hour) => {
        const minutes = parseCronField(minute, FIELDS[0] as (typeof FIELDS)[number]).values;
        const hours = parseCronField(hour, FIELDS[1] as (typeof FIELDS)[number]).values;
        const expected: number[] = [];
        const start = Date.parse("2026-01-05T00:00:00Z") / 60_000;
        for (let m = 1; m < 24 * 60; m++) if (minutes.has(m % 60) && hours.has(Math.floor(m / 60))) expected.push(start + m);
        const got = croner(cronToCroner([minute, hour, "*", "*", "*"]), "2026-01-05T00:00:00Z", expected.length + 1);
        expect(got.slice(0, expected.length)).toEqual(expected);
        expect(got[expected.length]).toBeGreaterThanOrEqual(start + 24 * 60); // nothing else that day
      }),
      { numRuns: 100 },
    );
  });

  it("day of month, month and day of week, with cron's star rule", () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant("*"), fieldArb(2)), fieldArb(3), fc.oneof(fc.constant("*"), fieldArb(4)), (dom, month, dow) => {
        const days = parseCronField(dom, FIELDS[2] as (typeof FIELDS)[number]);
        const months = parseCronField(month, FIELDS[3] as (typeof FIELDS)[number]).values;
        const weekdays = parseCronField(dow, FIELDS[4] as (typeof FIELDS)[number]);
        const expected: number[] = [];
        // Two years from a Monday: every weekday of every day of month, leap day included.
        const start = Date.parse("2027-01-01T00:00:00Z");
        for (let d = 1; d <= 731; d++) {
          const date = new Date(start + d * 86_400_000);
          const domHit = days.values.has(date.getUTCDate());
          const dowHit = weekdays.values.has(date.getUTCDay());
          const dayHit = days.star || weekdays.star ? domHit && dowHit : domHit || dowHit;
          if (dayHit && months.has(date.getUTCMonth() + 1)) expected.push(date.getTime() / 60_000);
        }
        const end = start / 60_000 + 732 * 1440;
        const got = croner(cronToCroner(["0", "0", dom, month, dow]), "2027-01-01T00:00:00Z", expected.length + 1);
        expect(got.slice(0, expected.length)).toEqual(expected);
        if (got.length > expected.length) expect(got[expected.length]).toBeGreaterThanOrEqual(end);
      }),
      { numRuns: 150 },
    );
  });
});

describe("finding lastbeat in a cron command", () => {
  it.each([
    ["lastbeat run backup --every 1d -- /bin/backup", "run backup"],
    ["/usr/local/bin/lastbeat run --every 1d --no-overlap backup -- x", "run backup"],
    ["cd /srv && LASTBEAT_DIR=/x npx lastbeat beat 'nightly.db' --every=1d", "beat nightly.db"],
    ["./job.sh; lastbeat beat job --exit-code $? --every 5m", "beat job"],
    ["lastbeat status --crontabs", null],
    ["echo lastbeat run fake", null],
    ["/usr/bin/backup --lastbeat run", null],
  ])("%s → %s", (command, expected) => {
    const found = lastbeatInvocation(command);
    expect(found === null ? null : `${found.command} ${found.job}`).toBe(expected);
  });

  it.each([
    ["test -x /usr/local/bin/lastbeat && lastbeat run guarded -- x", "run guarded"],
    ["if [ -d /srv ]; then lastbeat beat inside-if --every 1d; fi", "beat inside-if"],
  ])("after && and shell keywords: %s → %s", (command, expected) => {
    const found = lastbeatInvocation(command);
    expect(found === null ? null : `${found.command} ${found.job}`).toBe(expected);
  });

  // The README's checker and brief lines: lastbeat's own, neither a job nor unmonitored.
  it.each([
    ["lastbeat check --quiet --crontabs --forge file --repo /var/lib/lastbeat/issues", "other"],
    [`lastbeat report --crontabs --format text | mail -s "morning brief" ops@example.com`, "other"],
    ["/usr/local/bin/lastbeat metrics --crontabs > /var/lib/node_exporter/lastbeat.prom", "other"],
    ["cd / && LASTBEAT_DIR=/x npx lastbeat status --crontabs", "other"],
    ["lastbeat --version", "other"],
    ["lastbeat check --quiet; lastbeat beat after-check --every 15m", "beat after-check"],
    ["lastbeat run --every 1d -- /usr/bin/backup", null],
    ["grep lastbeat /var/log/syslog", null],
    ["echo lastbeat check", null],
    ["/usr/bin/backup --lastbeat check", null],
    ["mywrapper lastbeat check", null],
    // A line with one of lastbeat's other commands is lastbeat's whole, whatever else it runs
    // (documented): wrapped as a job, the checker would latch `failed`.
    ["/usr/local/bin/rotate.sh && lastbeat report --quiet", "other"],
    ["lastbeat check --quiet; /usr/local/bin/cleanup.sh", "other"],
    ["sudo -u app sh -c 'lastbeat metrics > /x.prom; /srv/cleanup.sh'", "other"],
    ["umask 022 && cd /srv && lastbeat metrics | tee /x.prom | logger -t lastbeat", "other"],
    // Behind wrappers, guards and redirections of every shape.
    ["flock -n /run/lb.lock lastbeat check >/dev/null 2>&1", "other"],
    ["timeout 10m lastbeat check --quiet >/dev/null 2>&1", "other"],
    ["sudo -u app lastbeat report 2>&1 | mail -s brief root", "other"],
    ["[ -x /usr/bin/lastbeat ] && lastbeat check", "other"],
    ["if [ -x /usr/bin/lastbeat ]; then lastbeat check; fi", "other"],
    ["test -f /x || exit 0; lastbeat check", "other"],
    ["{ lastbeat check; } 2>&1 | logger", "other"],
    // Redirections and sourced settings are no commands of their own (the README's checker line).
    ["lastbeat check --quiet >/dev/null 2>&1", "other"],
    ["lastbeat check --quiet > /var/log/lastbeat.log 2>&1", "other"],
    ["lastbeat report 2>&1 | mail -s brief root", "other"],
    ["lastbeat metrics |& logger", "other"],
    ["lastbeat check --quiet &>/dev/null", "other"],
    ["lastbeat check >&2", "other"],
    [". /etc/lastbeat.env; lastbeat check --quiet --forge github --repo acme/ops", "other"],
    ["source /etc/lastbeat.env && lastbeat check", "other"],
    ["lastbeat check | sudo -u app mail root", "other"],
    ["/srv/job.sh >/dev/null 2>&1 && lastbeat report", "other"],
  ])("what %s runs of lastbeat: %s", (command, expected) => {
    const found = lastbeatUse(command);
    expect(found === null ? null : found.command === "other" ? "other" : `${found.command} ${found.job}`).toBe(expected);
    // Only a job's line declares a job.
    expect(lastbeatInvocation(command)?.job ?? null).toBe(expected?.startsWith("beat ") ? expected.slice(5) : null);
  });

  it("finds run-parts' folder", () => {
    expect(runPartsFolder("test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }")).toBe("/etc/cron.daily");
    expect(runPartsFolder("/bin/true")).toBeNull();
  });
});

/**
 * The commands that run another one, each with its own options and arguments; `{}` is the command
 * it runs (inside quotes: a shell command).
 */
const WRAPPERS = [
  "sudo -u app {}",
  "sudo -n -E -H -u app -g staff -- {}",
  "sudo --user=app --preserve-env=PATH,HOME -i {}",
  "sudo -C 5 -D /srv -h host -p '' -T 1h -b -s {}",
  "sudo FOO=1 -u app BAR=2 {}",
  "nice {}",
  "nice -n 10 {}",
  "nice -n10 {}",
  "nice -n -5 {}",
  "nice --adjustment=5 {}",
  "nice --adj 5 {}",
  "nice -19 {}",
  "ionice -c 3 {}",
  "ionice -c2 -n 7 -t {}",
  "ionice --class idle {}",
  "timeout 1h {}",
  "timeout -s KILL -k 5m --preserve-status 2.5h {}",
  "timeout --foreground -v -sTERM 30 {}",
  "flock -n /tmp/x {}",
  "flock -x -w 10 -E 0 /var/lock/app.lock {}",
  "flock -n /tmp/x -c '{}'",
  "flock --timeout=5 /tmp/x --command '{}'",
  "chronic {}",
  "chronic -ev {}",
  "env {}",
  "env -i PATH=/usr/bin:/bin HOME=/root {}",
  "env -u HOME -C /srv {}",
  "env - FOO=1 {}",
  "env -S '{}'",
  "nohup {}",
  "nohup -- {}",
  "setsid -f -w {}",
  "stdbuf -oL -e 0 {}",
  "stdbuf --output=L {}",
  "chrt -f 10 {}",
  "chrt --idle 0 {}",
  "chrt -o {}",
  "taskset 0x3 {}",
  "taskset -c 0-3,8 {}",
  "runuser -u app -- {}",
  "runuser -l app -c '{}'",
  "su app -c '{}'",
  "su -s /bin/sh -c '{}' app",
  "su - app --command='{}'",
  "sh -c '{}'",
  "bash -lc '{}'",
  "/bin/sh -e -c '{}'",
  "bash -o pipefail -c -- '{}'",
  "npx {}",
  "npx -y {}",
  "npx -c '{}'",
  "exec {}",
  "command {}",
  "time -p {}",
  "cd /srv && FOO=1 sudo -u app nice -n 5 timeout 1h flock -n /tmp/x {}",
  "sudo -u app sh -c 'cd /srv && nice -n 5 {}'",
];

/** The wrapper running `command`: in its place, quoted for sh where the wrapper takes a shell command. */
function wrap(wrapper: string, command: string): string {
  return wrapper.includes("{}'") ? wrapper.replace("{}", () => command.replaceAll("'", "'\\''")) : wrapper.replace("{}", () => command);
}

describe("finding lastbeat behind the commands that run it", () => {
  it.each(WRAPPERS)("%s: lastbeat in it declares the job; lastbeat check in it is lastbeat's own; another command in it is unmonitored", (wrapper) => {
    const found = lastbeatInvocation(wrap(wrapper, "lastbeat run nightly --every 1d -- /usr/bin/backup --full"));
    expect(found).toEqual({ command: "run", job: "nightly" });
    expect(lastbeatInvocation(wrap(wrapper, "/usr/local/bin/lastbeat beat --every 1h hourly"))).toEqual({ command: "beat", job: "hourly" });
    expect(lastbeatInvocation(wrap(wrapper, "/usr/bin/backup --full"))).toBeNull();
    expect(lastbeatInvocation(wrap(wrapper, "echo lastbeat run nightly"))).toBeNull();
    // The checker behind the same wrappers is lastbeat's own line; `grep lastbeat` is not.
    expect(lastbeatUse(wrap(wrapper, "/usr/local/bin/lastbeat check --quiet --crontabs"))).toEqual({ command: "other" });
    expect(lastbeatInvocation(wrap(wrapper, "lastbeat check --quiet --crontabs"))).toBeNull();
    expect(lastbeatUse(wrap(wrapper, "grep lastbeat /var/log/syslog"))).toBeNull();
  });

  it("the four lines of the report", () => {
    expect(lastbeatInvocation("sudo -u app lastbeat run c6 --every 1h -- /usr/bin/x")).toEqual({ command: "run", job: "c6" });
    expect(lastbeatInvocation("nice -n 10 lastbeat beat c2 --every 1d")).toEqual({ command: "beat", job: "c2" });
    expect(lastbeatInvocation("timeout 1h lastbeat run c8 --every 1d -- backup.sh")).toEqual({ command: "run", job: "c8" });
    expect(lastbeatInvocation("flock -n /tmp/x lastbeat run c11 --every 1h -- sync.sh")).toEqual({ command: "run", job: "c11" });
  });

  // Where the wrapper's own arguments cannot be read, a guess could name the wrong job: the line
  // stays unmonitored instead, as any line that runs no lastbeat.
  it.each([
    ["an option sudo does not have: it may take the next word", "sudo --frobnicate lastbeat run x"],
    ["an option nice does not have", "nice -z lastbeat run x"],
    ["a wrapper lastbeat does not know", "mywrapper -u app lastbeat run x"],
    ["a user named lastbeat", "sudo -u lastbeat /usr/bin/report run x"],
    ["a lock file named lastbeat", "flock -n /var/lock/lastbeat run x"],
    ["timeout without its duration", "timeout lastbeat run x"],
    ["timeout's signal option taking lastbeat as its value", "timeout -s lastbeat run x"],
    ["sudo -l lists, runs nothing", "sudo -l lastbeat run x"],
    ["ionice -p changes running processes", "ionice -p 42 lastbeat run x"],
    ["taskset -p changes a running process", "taskset -p 03 lastbeat run x"],
    ["su's words after the user are its shell's arguments", "su app lastbeat run x"],
    ["runuser refuses the options of its command without --", "runuser -u app lastbeat run x --every 1d"],
    ["a shell running a script file", "sh lastbeat run x"],
    ["a shell command that only echoes", "sh -c 'echo lastbeat run x'"],
    ["--help runs nothing", "nice --help lastbeat run x"],
    ["flock on a file descriptor runs nothing", "flock -n 9"],
  ])("%s: %s → unmonitored", (_why, command) => {
    expect(lastbeatInvocation(command)).toBeNull();
  });

  it("property: behind any chain of wrappers, the job is found; any other command stays unmonitored", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...WRAPPERS), { maxLength: 4 }), fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/), (chain, job) => {
        const around = (command: string) => chain.reduceRight((inner, wrapper) => wrap(wrapper, inner), command);
        expect(lastbeatInvocation(around(`lastbeat run ${job} --every 1d -- /usr/bin/it's.sh`))).toEqual({ command: "run", job });
        expect(lastbeatInvocation(around(`/usr/bin/backup --lastbeat run ${job}`))).toBeNull();
      }),
      { numRuns: 300 },
    );
  });
});

describe("a line that nests wrappers without end", () => {
  // Another user's crontab is read by a root checker: 20,000 `nice`s overflowed the stack (exit 70).
  it("is looked into 16 wrappers deep, no further: deeper, the line is unmonitored; it never throws", () => {
    const line = (n: number, inner = "lastbeat run deep --every 1h -- true") => `${"nice ".repeat(n)}${inner}`;
    expect(lastbeatInvocation(line(16))).toEqual({ command: "run", job: "deep" });
    expect(lastbeatInvocation(line(17))).toBeNull();
    expect(lastbeatInvocation(line(20_000))).toBeNull();
    expect(jobNameFor(line(20_000, "/srv/backup.sh"))).toBe("backup");
  });
});
