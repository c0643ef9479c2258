import { evaluate } from "lastbeat";
import type { JobState } from "lastbeat";
import { buildBrief, renderBrief } from "@lastbeat/report";
import { describe, expect, it } from "vitest";
import { NOW, sampleStates } from "./fixtures.js";
import { allNodes, parseMarkdown, tableCells, textOf } from "../support/markdown.js";

const options = { now: NOW, tz: "Europe/Berlin" } as const;

function checker(at: string): JobState {
  return evaluate({ job: "heartbeat-checker", status: "ok", at, interval_s: 900 }, undefined, NOW, {
    file: "/var/run/lastbeat/heartbeats/heartbeat-checker.last",
  });
}

describe("morning brief", () => {
  it("renders markdown: dated heading, summary, checker, alerting jobs with output, panel", () => {
    expect(renderBrief(sampleStates(), { ...options, format: "md" })).toMatchInlineSnapshot(`
      "# Morning brief — Wednesday 8 April 2026

      **8 jobs: 3 ok, 1 running, 1 late, 1 stale, 1 failed, 1 invalid** · as of 09:00 Europe/Berlin

      **Checker:** ✓ ok — last ran 4 minutes ago (every 15 minutes)

      ## Needs attention (3)

      ### ✗ invalid: cleanup

      not valid JSON (Unexpected end of JSON input)  
      never beat · alerting since today 06:00 · file /var/run/lastbeat/heartbeats/cleanup.last

      ### ✗ failed: backup

      last run failed with exit code 3: disk full  
      last beat today 04:03 (5 hours ago) · every 1 day · alerting since today 04:03 · file /var/run/lastbeat/heartbeats/backup.last

      Output (end):

      \`\`\`text
      dumping db... done
      compressing... done
      rsync: write failed on "/mnt/backup/db.tar.zst": No space left on device (28)
      \`\`\`

      ### ✗ stale: invoice-sync

      silent: beat was due 3 hours ago  
      last beat today 05:30 (4 hours ago) · every 1 hour · alerting since today 07:30 · file /var/run/lastbeat/heartbeats/invoice-sync.last

      ## Since the last brief

      Since yesterday 09:00 (1 day), from the checker's journal.

      No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.

      ## Heartbeat panel

      | Job               | Status    | Last beat   | Age            | Interval   | Ratio | Last duration       | Last runs | Availability | Note                                            |
      | ----------------- | --------- | ----------- | -------------- | ---------- | ----: | ------------------- | --------- | -----------: | ----------------------------------------------- |
      | cleanup           | ✗ invalid | never       | —              | —          |     — | —                   | —         |            — | not valid JSON (Unexpected end of JSON input)   |
      | backup            | ✗ failed  | today 04:03 | 5 hours ago    | 1 day      |  0.2× | 3 minutes 3 seconds | ✗         |            — | last run failed with exit code 3: disk full     |
      | invoice-sync      | ✗ stale   | today 05:30 | 4 hours ago    | 1 hour     |  3.5× | 7 seconds           | ✓         |            — | silent: beat was due 3 hours ago                |
      | thumbnails        | ◷ late    | today 08:53 | 7 minutes ago  | 5 minutes  |  1.4× | 48 seconds          | ✓         |            — | beat was due 2 minutes ago; alerts in 3 minutes |
      | db-vacuum         | ▶ running | today 08:58 | 2 minutes ago  | 1 day      |  0.0× | —                   | —         |            — | started 2 minutes ago                           |
      | metrics-push      | ✓ ok      | today 08:59 | 30 seconds ago | 1 minute   |  0.5× | 412 ms              | ✓         |            — | next beat due in 30 seconds                     |
      | nightly-report    | ✓ ok      | today 01:58 | 7 hours ago    | 1 day      |  0.3× | 1 minute 35 seconds | ✓         |            — | sent 12 reports                                 |
      | heartbeat-checker | ✓ ok      | today 08:56 | 4 minutes ago  | 15 minutes |  0.3× | 840 ms              | ✓         |            — | next beat due in 11 minutes                     |

      Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).
      Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).
      "
    `);
  });

  it("renders plain text for a terminal or a plain mail", () => {
    expect(renderBrief(sampleStates(), { ...options, format: "text" })).toMatchInlineSnapshot(`
      "Morning brief — Wednesday 8 April 2026, 09:00 Europe/Berlin
      ===========================================================

      8 jobs: 3 ok, 1 running, 1 late, 1 stale, 1 failed, 1 invalid
      Checker: ✓ ok — last ran 4 minutes ago (every 15 minutes)

      Needs attention (3)

      ✗ invalid: cleanup
        not valid JSON (Unexpected end of JSON input)
        never beat · alerting since today 06:00 · file /var/run/lastbeat/heartbeats/cleanup.last

      ✗ failed: backup
        last run failed with exit code 3: disk full
        last beat today 04:03 (5 hours ago) · every 1 day · alerting since today 04:03 · file /var/run/lastbeat/heartbeats/backup.last
        Output (end):
          │ dumping db... done
          │ compressing... done
          │ rsync: write failed on "/mnt/backup/db.tar.zst": No space left on device (28)

      ✗ stale: invoice-sync
        silent: beat was due 3 hours ago
        last beat today 05:30 (4 hours ago) · every 1 hour · alerting since today 07:30 · file /var/run/lastbeat/heartbeats/invoice-sync.last

      Since the last brief
      Since yesterday 09:00 (1 day), from the checker's journal.
      No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.

      Heartbeat panel

      JOB                STATUS     LAST BEAT    AGE             INTERVAL    RATIO  LAST DURATION        LAST RUNS  AVAILABILITY  NOTE
      cleanup            ✗ invalid  never        —               —               —  —                    —                     —  not valid JSON (Unexpected end of JSON input)
      backup             ✗ failed   today 04:03  5 hours ago     1 day        0.2×  3 minutes 3 seconds  ✗                     —  last run failed with exit code 3: disk full
      invoice-sync       ✗ stale    today 05:30  4 hours ago     1 hour       3.5×  7 seconds            ✓                     —  silent: beat was due 3 hours ago
      thumbnails         ◷ late     today 08:53  7 minutes ago   5 minutes    1.4×  48 seconds           ✓                     —  beat was due 2 minutes ago; alerts in 3 minutes
      db-vacuum          ▶ running  today 08:58  2 minutes ago   1 day        0.0×  —                    —                     —  started 2 minutes ago
      metrics-push       ✓ ok       today 08:59  30 seconds ago  1 minute     0.5×  412 ms               ✓                     —  next beat due in 30 seconds
      nightly-report     ✓ ok       today 01:58  7 hours ago     1 day        0.3×  1 minute 35 seconds  ✓                     —  sent 12 reports
      heartbeat-checker  ✓ ok       today 08:56  4 minutes ago   15 minutes   0.3×  840 ms               ✓                     —  next beat due in 11 minutes

      Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).
      Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).
      "
    `);
  });

  it("renders JSON with the summary, the checker and every job", () => {
    const json = JSON.parse(renderBrief(sampleStates(), { ...options, format: "json" }));
    expect({ ...json, jobs: json.jobs.map((job: { job: string; status: string }) => `${job.status} ${job.job}`) })
      .toMatchInlineSnapshot(`
        {
          "alerting": 3,
          "checker": {
            "alerting": false,
            "status": "ok",
            "text": "✓ ok — last ran 4 minutes ago (every 15 minutes)",
          },
          "counts": {
            "failed": 1,
            "invalid": 1,
            "late": 1,
            "ok": 3,
            "running": 1,
            "stale": 1,
          },
          "jobs": [
            "invalid cleanup",
            "failed backup",
            "stale invoice-sync",
            "late thumbnails",
            "running db-vacuum",
            "ok metrics-push",
            "ok nightly-report",
            "ok heartbeat-checker",
          ],
          "now": "2026-04-08T07:00:00.000Z",
          "since_last_brief": {
            "episodes": [],
            "events": [],
            "flaky": [],
            "from": "2026-04-07T07:00:00.000Z",
            "journal_note": "No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.",
            "journals": [],
            "to": "2026-04-08T07:00:00.000Z",
          },
          "summary": "8 jobs: 3 ok, 1 running, 1 late, 1 stale, 1 failed, 1 invalid",
          "title": "Morning brief — Wednesday 8 April 2026",
          "tz": "Europe/Berlin",
        }
      `);
  });

  it("renders one self-contained HTML page", () => {
    const html = renderBrief(sampleStates(), { ...options, format: "html" });
    expect(html.startsWith("<!doctype html>\n")).toBe(true);
    // Nothing to fetch: no scripts, no external stylesheets, fonts or images, and a CSP to be sure.
    expect(html).not.toMatch(/<script|<link|<img|src=|href=|url\(|@import/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html.slice(html.indexOf("<main>"))).toMatchInlineSnapshot(`
      "<main>
      <h1>Morning brief — Wednesday 8 April 2026</h1>
      <p class="summary">8 jobs: 3 ok, 1 running, 1 late, 1 stale, 1 failed, 1 invalid</p>
      <p class="muted">As of 09:00 Europe/Berlin</p>
      <p class="checker good"><strong>Checker:</strong> ✓ ok — last ran 4 minutes ago (every 15 minutes)</p>
      <h2>Needs attention (3)</h2>
      <article class="alert">
      <h3><span class="status bad">✗ invalid</span> cleanup</h3>
      <p>not valid JSON (Unexpected end of JSON input)</p>
      <p class="facts">never beat · alerting since today 06:00</p>
      <p class="facts">file <code>/var/run/lastbeat/heartbeats/cleanup.last</code></p>
      </article>
      <article class="alert">
      <h3><span class="status bad">✗ failed</span> backup</h3>
      <p>last run failed with exit code 3: disk full</p>
      <p class="facts">last beat today 04:03 (5 hours ago) · every 1 day · alerting since today 04:03</p>
      <p class="facts">file <code>/var/run/lastbeat/heartbeats/backup.last</code></p>
      <details open><summary>Output (end)</summary><pre>dumping db... done
      compressing... done
      rsync: write failed on &quot;/mnt/backup/db.tar.zst&quot;: No space left on device (28)</pre></details>
      </article>
      <article class="alert">
      <h3><span class="status bad">✗ stale</span> invoice-sync</h3>
      <p>silent: beat was due 3 hours ago</p>
      <p class="facts">last beat today 05:30 (4 hours ago) · every 1 hour · alerting since today 07:30</p>
      <p class="facts">file <code>/var/run/lastbeat/heartbeats/invoice-sync.last</code></p>
      </article>
      <section class="since">
      <h2>Since the last brief</h2>
      <p class="muted">Since yesterday 09:00 (1 day), from the checker&#39;s journal.</p>
      <p>No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.</p>
      </section>
      <div class="table-wrap">
      <section class="lastbeat-panel">
      <h2>Heartbeat panel</h2>
      <table>
      <thead><tr><th>Job</th><th>Status</th><th>Last beat</th><th>Age</th><th>Interval</th><th class="num">Ratio</th><th>Last duration</th><th>Last runs</th><th class="num">Availability</th><th>Note</th></tr></thead>
      <tbody>
      <tr class="bad"><td class="job">cleanup</td><td><span class="status bad">✗ invalid</span></td><td>never</td><td>—</td><td>—</td><td class="num">—</td><td>—</td><td class="runs">—</td><td class="num">—</td><td class="note">not valid JSON (Unexpected end of JSON input)</td></tr>
      <tr class="bad"><td class="job">backup</td><td><span class="status bad">✗ failed</span></td><td>today 04:03</td><td>5 hours ago</td><td>1 day</td><td class="num">0.2×</td><td>3 minutes 3 seconds</td><td class="runs">✗</td><td class="num">—</td><td class="note">last run failed with exit code 3: disk full</td></tr>
      <tr class="bad"><td class="job">invoice-sync</td><td><span class="status bad">✗ stale</span></td><td>today 05:30</td><td>4 hours ago</td><td>1 hour</td><td class="num">3.5×</td><td>7 seconds</td><td class="runs">✓</td><td class="num">—</td><td class="note">silent: beat was due 3 hours ago</td></tr>
      <tr class="warn"><td class="job">thumbnails</td><td><span class="status warn">◷ late</span></td><td>today 08:53</td><td>7 minutes ago</td><td>5 minutes</td><td class="num">1.4×</td><td>48 seconds</td><td class="runs">✓</td><td class="num">—</td><td class="note">beat was due 2 minutes ago; alerts in 3 minutes</td></tr>
      <tr class="info"><td class="job">db-vacuum</td><td><span class="status info">▶ running</span></td><td>today 08:58</td><td>2 minutes ago</td><td>1 day</td><td class="num">0.0×</td><td>—</td><td class="runs">—</td><td class="num">—</td><td class="note">started 2 minutes ago</td></tr>
      <tr class="good"><td class="job">metrics-push</td><td><span class="status good">✓ ok</span></td><td>today 08:59</td><td>30 seconds ago</td><td>1 minute</td><td class="num">0.5×</td><td>412 ms</td><td class="runs">✓</td><td class="num">—</td><td class="note">next beat due in 30 seconds</td></tr>
      <tr class="good"><td class="job">nightly-report</td><td><span class="status good">✓ ok</span></td><td>today 01:58</td><td>7 hours ago</td><td>1 day</td><td class="num">0.3×</td><td>1 minute 35 seconds</td><td class="runs">✓</td><td class="num">—</td><td class="note">sent 12 reports</td></tr>
      <tr class="good"><td class="job">heartbeat-checker</td><td><span class="status good">✓ ok</span></td><td>today 08:56</td><td>4 minutes ago</td><td>15 minutes</td><td class="num">0.3×</td><td>840 ms</td><td class="runs">✓</td><td class="num">—</td><td class="note">next beat due in 11 minutes</td></tr>
      </tbody>
      </table>
      <p class="legend">Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).<br>Availability: the share of the last 30 days the job was not alerting, from the checker&#39;s journal (— when it has no line of the job).</p>
      </section>
      </div>
      <footer>Generated by lastbeat report at 2026-04-08T07:00:00.000Z.</footer>
      </main>
      </body>
      </html>
      "
    `);
  });

  it("the markdown parses: one h1, the panel table with a row per job, the output tail as code", () => {
    const markdown = renderBrief(sampleStates(), options);
    const nodes = allNodes(parseMarkdown(markdown));
    expect(nodes.filter((n) => n.type === "heading" && (n as { depth?: number }).depth === 1).map(textOf)).toEqual([
      "Morning brief — Wednesday 8 April 2026",
    ]);
    expect(tableCells(markdown)).toHaveLength(1 + 8);
    const code = nodes.filter((n) => n.type === "code");
    expect(code.map((n) => n.value)).toEqual([
      'dumping db... done\ncompressing... done\nrsync: write failed on "/mnt/backup/db.tar.zst": No space left on device (28)',
    ]);
    expect(nodes.some((n) => n.type === "html")).toBe(false);
  });

  it("dates the heading in the reader's zone", () => {
    const lateEvening = new Date("2026-04-07T23:30:00Z");
    expect(buildBrief([], { now: lateEvening, tz: "UTC" }).date).toBe("Tuesday 7 April 2026");
    expect(buildBrief([], { now: lateEvening, tz: "Asia/Tokyo" }).date).toBe("Wednesday 8 April 2026");
    expect(buildBrief([], { now: lateEvening, tz: "America/Los_Angeles" }).time).toBe("16:30");
  });
});

describe("summary line", () => {
  it("counts jobs per status, healthiest first", () => {
    expect(buildBrief(sampleStates(), options).summary).toBe("8 jobs: 3 ok, 1 running, 1 late, 1 stale, 1 failed, 1 invalid");
  });

  it("reads `N jobs: a ok, b late, c stale` like the example in docs/spec.md", () => {
    const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();
    const states = [
      ...["a", "b", "c", "d"].map((job) => evaluate({ job, status: "ok", at: at(1), interval_s: 600 }, undefined, NOW)),
      evaluate({ job: "e", status: "ok", at: at(15), interval_s: 600 }, undefined, NOW),
      evaluate({ job: "f", status: "ok", at: at(60), interval_s: 600 }, undefined, NOW),
      checker(at(3)),
    ];
    expect(buildBrief(states, options).summary).toBe("7 jobs: 5 ok, 1 late, 1 stale");
  });
});

describe("the checker's own freshness", () => {
  it("a stale checker is itself an alert", () => {
    const brief = buildBrief([checker("2026-04-08T04:10:00Z")], options);
    expect(brief.checker).toMatchInlineSnapshot(`
      {
        "alerting": true,
        "status": "stale",
        "text": "✗ stale — last ran 3 hours ago (every 15 minutes): alert issues are not being opened or closed — check the cron entry that runs lastbeat check",
      }
    `);
    expect(brief.alerts.map((alert) => alert.job)).toEqual(["heartbeat-checker"]);
    const markdown = renderBrief([checker("2026-04-08T04:10:00Z")], options);
    expect(markdown.split("\n## Heartbeat panel")[0]).toMatchInlineSnapshot(`
      "# Morning brief — Wednesday 8 April 2026

      **1 job: 1 stale** · as of 09:00 Europe/Berlin

      **Checker:** ✗ stale — last ran 3 hours ago (every 15 minutes): alert issues are not being opened or closed — check the cron entry that runs lastbeat check

      ## Needs attention (1)

      ### ✗ stale: heartbeat-checker

      silent: beat was due 3 hours ago  
      last beat today 06:10 (3 hours ago) · every 15 minutes · alerting since today 06:40 · file /var/run/lastbeat/heartbeats/heartbeat-checker.last

      ## Since the last brief

      Since yesterday 09:00 (1 day), from the checker's journal.

      No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.
      "
    `);
  });

  it("a missing checker is an alert too: nobody would be told", () => {
    const brief = buildBrief(sampleStates().filter((s) => s.job !== "heartbeat-checker"), options);
    expect(brief.checker).toMatchInlineSnapshot(`
      {
        "alerting": true,
        "status": "missing",
        "text": "✗ missing — no heartbeat-checker.last: lastbeat check has never run against these heartbeats, so nobody is alerted",
      }
    `);
    expect(brief.alerts.map((alert) => `${alert.status} ${alert.job}`)).toContain("missing heartbeat-checker");
  });

  it("a failing checker says alert issues may be out of date", () => {
    const failed = evaluate(
      { job: "heartbeat-checker", status: "fail", at: "2026-04-08T06:58:00Z", interval_s: 900, exit_code: 3, message: "forge answered 502" },
      undefined,
      NOW,
    );
    expect(buildBrief([failed], options).checker).toMatchInlineSnapshot(`
      {
        "alerting": true,
        "status": "failed",
        "text": "✗ failed — last ran 2 minutes ago (every 15 minutes) but failed (forge answered 502); alert issues may be out of date",
      }
    `);
  });

  it("can be turned off (`--no-checker`) for setups that alert through Prometheus instead", () => {
    const brief = buildBrief(sampleStates().filter((s) => s.job !== "heartbeat-checker"), { ...options, checker: false });
    expect(brief.checker).toBeNull();
    expect(brief.summary).toBe("7 jobs: 2 ok, 1 running, 1 late, 1 stale, 1 failed, 1 invalid");
  });
});

describe("no jobs at all", () => {
  it("still says the checker has never run", () => {
    expect(renderBrief([], { ...options, format: "text" })).toMatchInlineSnapshot(`
      "Morning brief — Wednesday 8 April 2026, 09:00 Europe/Berlin
      ===========================================================

      1 job: 1 missing
      Checker: ✗ missing — no heartbeat-checker.last: lastbeat check has never run against these heartbeats, so nobody is alerted

      Needs attention (1)

      ✗ missing: heartbeat-checker
        lastbeat check never ran here, so nobody is alerted
        never beat

      Since the last brief
      Since yesterday 09:00 (1 day), from the checker's journal.
      No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.

      Heartbeat panel

      JOB                STATUS     LAST BEAT  AGE  INTERVAL  RATIO  LAST DURATION  LAST RUNS  AVAILABILITY  NOTE
      heartbeat-checker  ✗ missing  never      —    —             —  —              —                     —  lastbeat check never ran here, so nobody is alerted

      Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).
      Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).
      "
    `);
  });

  it("is all clear with the checker off", () => {
    expect(renderBrief([], { ...options, format: "md", checker: false })).toMatchInlineSnapshot(`
      "# Morning brief — Wednesday 8 April 2026

      **0 jobs** · as of 09:00 Europe/Berlin

      ## Needs attention

      Nothing: no job is alerting.

      ## Since the last brief

      Since yesterday 09:00 (1 day), from the checker's journal.

      No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.

      ## Heartbeat panel

      No heartbeat files found.
      "
    `);
  });
});
