import { evaluate } from "lastbeat";
import { parseHeartbeat } from "lastbeat/internal";
import { formatRatio, panelRows, renderPanel } from "@lastbeat/report";
import { describe, expect, it } from "vitest";
import { NOW, sampleStates } from "./fixtures.js";
import { tableCells } from "../support/markdown.js";

const options = { now: NOW, tz: "UTC" } as const;

describe("heartbeat panel", () => {
  it("renders markdown, worst first, padded so it reads as plain text too", () => {
    expect(renderPanel(sampleStates(), { ...options, format: "md" })).toMatchInlineSnapshot(`
      "## Heartbeat panel

      | Job               | Status    | Last beat       | Age            | Interval   | Ratio | Last duration       | Last runs | Availability | Note                                            |
      | ----------------- | --------- | --------------- | -------------- | ---------- | ----: | ------------------- | --------- | -----------: | ----------------------------------------------- |
      | cleanup           | ✗ invalid | never           | —              | —          |     — | —                   | —         |            — | not valid JSON (Unexpected end of JSON input)   |
      | backup            | ✗ failed  | today 02:03     | 5 hours ago    | 1 day      |  0.2× | 3 minutes 3 seconds | ✗         |            — | last run failed with exit code 3: disk full     |
      | invoice-sync      | ✗ stale   | today 03:30     | 4 hours ago    | 1 hour     |  3.5× | 7 seconds           | ✓         |            — | silent: beat was due 3 hours ago                |
      | thumbnails        | ◷ late    | today 06:53     | 7 minutes ago  | 5 minutes  |  1.4× | 48 seconds          | ✓         |            — | beat was due 2 minutes ago; alerts in 3 minutes |
      | db-vacuum         | ▶ running | today 06:58     | 2 minutes ago  | 1 day      |  0.0× | —                   | —         |            — | started 2 minutes ago                           |
      | metrics-push      | ✓ ok      | today 06:59     | 30 seconds ago | 1 minute   |  0.5× | 412 ms              | ✓         |            — | next beat due in 30 seconds                     |
      | nightly-report    | ✓ ok      | yesterday 23:58 | 7 hours ago    | 1 day      |  0.3× | 1 minute 35 seconds | ✓         |            — | sent 12 reports                                 |
      | heartbeat-checker | ✓ ok      | today 06:56     | 4 minutes ago  | 15 minutes |  0.3× | 840 ms              | ✓         |            — | next beat due in 11 minutes                     |

      Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).
      Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).
      "
    `);
  });

  it("renders aligned text columns", () => {
    expect(renderPanel(sampleStates(), { ...options, format: "text" })).toMatchInlineSnapshot(`
      "JOB                STATUS     LAST BEAT        AGE             INTERVAL    RATIO  LAST DURATION        LAST RUNS  AVAILABILITY  NOTE
      cleanup            ✗ invalid  never            —               —               —  —                    —                     —  not valid JSON (Unexpected end of JSON input)
      backup             ✗ failed   today 02:03      5 hours ago     1 day        0.2×  3 minutes 3 seconds  ✗                     —  last run failed with exit code 3: disk full
      invoice-sync       ✗ stale    today 03:30      4 hours ago     1 hour       3.5×  7 seconds            ✓                     —  silent: beat was due 3 hours ago
      thumbnails         ◷ late     today 06:53      7 minutes ago   5 minutes    1.4×  48 seconds           ✓                     —  beat was due 2 minutes ago; alerts in 3 minutes
      db-vacuum          ▶ running  today 06:58      2 minutes ago   1 day        0.0×  —                    —                     —  started 2 minutes ago
      metrics-push       ✓ ok       today 06:59      30 seconds ago  1 minute     0.5×  412 ms               ✓                     —  next beat due in 30 seconds
      nightly-report     ✓ ok       yesterday 23:58  7 hours ago     1 day        0.3×  1 minute 35 seconds  ✓                     —  sent 12 reports
      heartbeat-checker  ✓ ok       today 06:56      4 minutes ago   15 minutes   0.3×  840 ms               ✓                     —  next beat due in 11 minutes

      Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).
      Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).
      "
    `);
  });

  it("renders JSON in the status --json shape plus the panel's note", () => {
    const json = JSON.parse(renderPanel(sampleStates(), { ...options, format: "json" }));
    expect(json.now).toBe("2026-04-08T07:00:00.000Z");
    expect(json.jobs[1]).toMatchInlineSnapshot(`
      {
        "age_s": 17817,
        "alerting": true,
        "availability": null,
        "due_at": "2026-04-09T02:03:03.000Z",
        "exit_code": 3,
        "file": "/var/run/lastbeat/heartbeats/backup.last",
        "interval_s": 86400,
        "job": "backup",
        "last_beat_at": "2026-04-08T02:03:03.000Z",
        "last_duration_ms": 183000,
        "last_ok_at": "2026-04-07T02:02:40.000Z",
        "message": "disk full",
        "note": "last run failed with exit code 3: disk full",
        "output_tail": "dumping db... done
      compressing... done
      rsync: write failed on "/mnt/backup/db.tar.zst": No space left on device (28)
      ",
        "ratio": 0.206,
        "reason": "last run failed: disk full",
        "runs": null,
        "status": "failed",
        "symbol": "✗",
      }
    `);
    expect(json.jobs.map((job: { job: string; status: string }) => `${job.status} ${job.job}`)).toMatchInlineSnapshot(`
      [
        "invalid cleanup",
        "failed backup",
        "stale invoice-sync",
        "late thumbnails",
        "running db-vacuum",
        "ok metrics-push",
        "ok nightly-report",
        "ok heartbeat-checker",
      ]
    `);
  });

  it("renders an HTML table fragment for embedding", () => {
    const html = renderPanel(sampleStates().slice(0, 2), { ...options, format: "html" });
    expect(html).toMatchInlineSnapshot(`
      "<section class="lastbeat-panel">
      <h2>Heartbeat panel</h2>
      <table>
      <thead><tr><th>Job</th><th>Status</th><th>Last beat</th><th>Age</th><th>Interval</th><th class="num">Ratio</th><th>Last duration</th><th>Last runs</th><th class="num">Availability</th><th>Note</th></tr></thead>
      <tbody>
      <tr class="good"><td class="job">metrics-push</td><td><span class="status good">✓ ok</span></td><td>today 06:59</td><td>30 seconds ago</td><td>1 minute</td><td class="num">0.5×</td><td>412 ms</td><td class="runs">✓</td><td class="num">—</td><td class="note">next beat due in 30 seconds</td></tr>
      <tr class="good"><td class="job">heartbeat-checker</td><td><span class="status good">✓ ok</span></td><td>today 06:56</td><td>4 minutes ago</td><td>15 minutes</td><td class="num">0.3×</td><td>840 ms</td><td class="runs">✓</td><td class="num">—</td><td class="note">next beat due in 11 minutes</td></tr>
      </tbody>
      </table>
      <p class="legend">Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).<br>Availability: the share of the last 30 days the job was not alerting, from the checker&#39;s journal (— when it has no line of the job).</p>
      </section>
      "
    `);
  });

  it("parses as a GFM table with one row per job and the ten columns", () => {
    const cells = tableCells(renderPanel(sampleStates(), options));
    expect(cells).toHaveLength(1 + sampleStates().length);
    for (const row of cells) expect(row).toHaveLength(10);
    expect(cells[0]).toEqual(["Job", "Status", "Last beat", "Age", "Interval", "Ratio", "Last duration", "Last runs", "Availability", "Note"]);
    expect(cells.slice(1).map((row) => row[1])).toEqual([
      "✗ invalid",
      "✗ failed",
      "✗ stale",
      "◷ late",
      "▶ running",
      "✓ ok",
      "✓ ok",
      "✓ ok",
    ]);
  });

  it("says a declared job that has not beaten yet waits for its first run, not for its next beat", () => {
    const declaredAt = new Date(NOW.getTime() - 30 * 60_000);
    const never = (intervalSeconds: number) => evaluate(undefined, { intervalSeconds, declaredAt }, NOW, { job: "new-job" });
    const note = (intervalSeconds: number) => panelRows([never(intervalSeconds)], options)[0]!.note;
    expect(note(3600)).toBe("no heartbeat yet; first run due in 30 minutes");
    expect(note(1200)).toBe("no heartbeat yet; first run was due 10 minutes ago; alerts in 10 minutes");
    // Once a beat came, it is the next beat again.
    const beat = { format: "lastbeat/1", job: "new-job", status: "ok", at: declaredAt.toISOString(), interval_s: 3600 } as const;
    expect(panelRows([evaluate(beat, { declaredAt }, NOW)], options)[0]!.note).toBe("next beat due in 30 minutes");
  });

  it("shows dates in the reader's zone, distances independent of it", () => {
    const [berlin] = panelRows(sampleStates().slice(0, 1), { now: NOW, tz: "Europe/Berlin" });
    const [tokyo] = panelRows(sampleStates().slice(0, 1), { now: NOW, tz: "Asia/Tokyo" });
    expect([berlin?.lastBeat, berlin?.age]).toEqual(["today 08:56", "4 minutes ago"]);
    expect([tokyo?.lastBeat, tokyo?.age]).toEqual(["today 15:56", "4 minutes ago"]);
  });
});

describe("sorting", () => {
  it("puts the worst status first, then the most overdue, then by name", () => {
    const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();
    const states = [
      evaluate({ job: "b-ok", status: "ok", at: at(1), interval_s: 600 }, undefined, NOW),
      evaluate({ job: "a-ok", status: "ok", at: at(1), interval_s: 600 }, undefined, NOW),
      evaluate({ job: "stale-a-little", status: "ok", at: at(25), interval_s: 600 }, undefined, NOW),
      evaluate({ job: "stale-a-lot", status: "ok", at: at(300), interval_s: 600 }, undefined, NOW),
      evaluate({ job: "zz-failed", status: "fail", at: at(1), interval_s: 600 }, undefined, NOW),
      evaluate({ job: "late", status: "ok", at: at(15), interval_s: 600 }, undefined, NOW),
      evaluate(undefined, { intervalSeconds: 60 }, NOW, { job: "never-ran" }),
    ];
    expect(panelRows(states, options).map((row) => `${row.statusLabel} ${row.job} ${row.ratio}`)).toEqual([
      "✗ failed zz-failed 0.1×",
      "✗ missing never-ran —",
      "✗ stale stale-a-lot 30×",
      "✗ stale stale-a-little 2.5×",
      "◷ late late 1.5×",
      "✓ ok a-ok 0.1×",
      "✓ ok b-ok 0.1×",
    ]);
  });
});

describe("ratio", () => {
  it("rounds to one decimal below 10× and to whole numbers above", () => {
    expect([0, 0.04, 0.05, 1, 1.449, 2.4, 2.46, 9.94, 9.96, 12.5, 1234.4].map(formatRatio)).toEqual([
      "0.0×",
      "0.0×",
      "0.1×",
      "1.0×",
      "1.4×",
      "2.4×",
      "2.5×",
      "9.9×",
      "10×",
      "13×",
      "1234×",
    ]);
  });

  it("shows a beat slightly ahead of our clock as 0.0×, and an unknown ratio as a dash", () => {
    expect(formatRatio(-0.3)).toBe("0.0×");
    expect(formatRatio(null)).toBe("—");
    expect(formatRatio(Number.NaN)).toBe("—");
  });

  it("is age ÷ interval: 2 h 24 min of silence on a 1 h job is 2.4×", () => {
    const state = evaluate({ job: "sync", status: "ok", at: "2026-04-08T04:36:00Z", interval_s: 3600 }, undefined, NOW);
    expect(panelRows([state], options)[0]).toMatchObject({ ratio: "2.4×", age: "2 hours ago", interval: "1 hour" });
  });
});

describe("unknown interval", () => {
  it("shows dashes for an invalid file and a job the manifest declares without a file", () => {
    const states = [
      evaluate(undefined, undefined, NOW, { job: "broken", file: "/hb/broken.last", invalidReason: "heartbeat file is not JSON" }),
      evaluate(undefined, undefined, NOW, { job: "ghost" }),
    ];
    const rows = panelRows(states, options);
    for (const row of rows) {
      expect(row).toMatchObject({ lastBeat: "never", age: "—", interval: "—", ratio: "—", lastDuration: "—" });
    }
    expect(tableCells(renderPanel(states, options))).toHaveLength(3);
  });

  it("pads cells by the columns they take: a defused mention's joiner takes none, an emoji one", () => {
    const states = [
      ...sampleStates(),
      evaluate({ job: "deploy", status: "ok", at: "2026-04-08T06:30:00Z", interval_s: 3600, message: "told @ops 🚀 #12" }, undefined, NOW),
    ];
    const table = renderPanel(states, { ...options, format: "md" })
      .split("\n")
      .filter((line) => line.startsWith("|"));
    expect(table.some((line) => line.includes("\u200D") && /\p{Extended_Pictographic}/u.test(line))).toBe(true);
    const columns = (line: string) => Array.from(line.replaceAll("\u200D", "")).length;
    expect(new Set(table.map(columns)).size).toBe(1);
  });

  it("reads a legacy beat (timestamp + interval_seconds) like any other", () => {
    const parsed = parseHeartbeat(JSON.stringify({ timestamp: 1_775_629_800, interval_seconds: 3600 }), "legacy");
    if (!parsed.ok) throw new Error(parsed.reason);
    const legacy = evaluate(parsed.heartbeat, undefined, NOW);
    expect(panelRows([legacy], options)[0]).toMatchObject({ statusLabel: "✓ ok", ratio: "0.5×", lastDuration: "—" });
  });
});

describe("paused jobs", () => {
  it("say until when, in the reader's zone", () => {
    const until = evaluate({ job: "etl", status: "ok", at: "2026-04-08T06:00:00Z", interval_s: 3600 }, { paused: "2026-04-10T06:00:00Z" }, NOW);
    const forever = evaluate({ job: "legacy-sync", status: "ok", at: "2026-03-01T06:00:00Z", interval_s: 3600 }, { paused: true }, NOW);
    expect(panelRows([until, forever], { now: NOW, tz: "Europe/Berlin" }).map((row) => `${row.statusLabel} ${row.job}: ${row.note}`))
      .toMatchInlineSnapshot(`
        [
          "‖ paused legacy-sync: paused in the manifest",
          "‖ paused etl: paused until Fri 10 Apr 08:00",
        ]
      `);
  });
  it("in a maintenance window, say until when too", () => {
    const window = { schedule: "0 6 * * *", durationSeconds: 7200, tz: "UTC" };
    const state = evaluate({ job: "etl", status: "ok", at: "2026-04-08T06:00:00Z", interval_s: 3600 }, { maintenance: [window] }, NOW);
    expect(panelRows([state], { now: NOW, tz: "Europe/Berlin" })[0]?.note).toBe("in maintenance until today 10:00");
  });
});

describe("thresholds", () => {
  it("a flaky job says how many failures it has of those that alert; a recovering one how many ok runs", () => {
    const flaky = evaluate(
      { job: "fetch", status: "fail", at: "2026-04-08T06:30:00Z", interval_s: 3600, exit_code: 1, message: "HTTP 503", alert_after: 3 },
      undefined,
      NOW,
    );
    const runs = [
      { at: "2026-04-08T06:00:00Z", status: "ok" as const },
      { at: "2026-04-08T05:00:00Z", status: "fail" as const, exit_code: 2 },
    ];
    const recovering = evaluate({ job: "etl", status: "ok", at: "2026-04-08T06:00:00Z", interval_s: 3600, recover_after: 3, runs }, undefined, NOW);
    expect(panelRows([flaky, recovering], options).map((row) => `${row.statusLabel} ${row.job}: ${row.note}`)).toMatchInlineSnapshot(`
      [
        "✗ failed etl: recovering: 1 of 3 ok runs before recovery; last failure 2 hours ago",
        "≈ flaky fetch: 1 of 3 failures before alerting (exit code 1): HTTP 503",
      ]
    `);
  });
});

describe("no jobs", () => {
  it("says so instead of printing an empty table, in every format", () => {
    expect(renderPanel([], { ...options, format: "md" })).toMatchInlineSnapshot(`
      "## Heartbeat panel

      No heartbeat files found.
      "
    `);
    expect(renderPanel([], { ...options, format: "text" })).toMatchInlineSnapshot(`
      "No heartbeat files found.
      "
    `);
    expect(renderPanel([], { ...options, format: "json" })).toMatchInlineSnapshot(`
      "{
        "now": "2026-04-08T07:00:00.000Z",
        "jobs": []
      }
      "
    `);
    expect(renderPanel([], { ...options, format: "html" })).toMatchInlineSnapshot(`
      "<section class="lastbeat-panel">
      <h2>Heartbeat panel</h2>
      <p>No heartbeat files found.</p>
      </section>
      "
    `);
  });
});

describe("what lastbeat run writes when the command said nothing", () => {
  it("does not repeat the exit code: the message 'exit code N' is the note's own", () => {
    const beat = (status: "fail", alert_after?: number) =>
      evaluate({ job: "x", status, at: "2026-04-08T06:30:00Z", interval_s: 3600, exit_code: 1, message: "exit code 1", ...(alert_after !== undefined && { alert_after }) }, undefined, NOW);
    expect(panelRows([beat("fail"), beat("fail", 3)], options).map((row) => row.note)).toEqual([
      "last run failed with exit code 1",
      "1 of 3 failures before alerting (exit code 1)",
    ]);
  });
});
