import fc from "fast-check";
import { evaluate, type JobStatus } from "lastbeat";
import { ALERTING_STATUSES, type JournalEntry } from "lastbeat/internal";
import {
  allEpisodes,
  availabilities,
  buildBrief,
  briefJson,
  formatAvailability,
  historySince,
  panelRows,
  renderBrief,
  renderPanel,
  type Journal,
} from "@lastbeat/report";
import { describe, expect, it } from "vitest";
import { journalEntries, journalOf, line } from "./journal-fixtures.js";

/*
 * "Since the last brief" and the panel's availability, from the checker's journal, with a pinned
 * clock across days: the brief of Wednesday 8 April 2026 at 06:30 in Berlin (04:30 UTC) looks back
 * to Tuesday 06:30.
 */

const NOW = new Date("2026-04-08T04:30:00Z");
const TZ = "Europe/Berlin";
const DAY = 86_400_000;
const daysAgo = (days: number, hours = 0) => new Date(NOW.getTime() - days * DAY - hours * 3_600_000).toISOString();

const checker = evaluate({ job: "heartbeat-checker", status: "ok", at: "2026-04-08T04:25:00Z", interval_s: 900 }, undefined, NOW, {
  file: "/var/run/lastbeat/heartbeats/heartbeat-checker.last",
});

/** The section of a markdown brief between its heading and the panel. */
function sinceSection(markdown: string): string {
  return markdown.slice(markdown.indexOf("## Since the last brief"), markdown.indexOf("## Heartbeat panel")).trimEnd();
}

const OVERNIGHT = [
  line("2026-03-01T00:00:00Z", "backup", null, "ok", "next beat due 2026-03-02T00:00:00.000Z"),
  line("2026-03-01T00:00:00Z", "invoice-sync", null, "ok"),
  line("2026-03-01T00:00:00Z", "db-dump", null, "ok"),
  line("2026-03-01T00:00:00Z", "sync", null, "ok"),
  line("2026-03-01T00:00:00Z", "thumbnails", null, "ok"),
  line("2026-04-01T10:00:00Z", "long-down", null, "failed", "last run failed: exit code 2"),
  line("2026-04-05T10:00:00Z", "old", null, "failed", "last run failed"),
  line("2026-04-05T11:00:00Z", "old", "failed", "ok"),
  // Late at 03:00 Berlin on Tuesday, stale at 04:00: before the window (06:30); back at 11:15.
  line("2026-04-07T01:00:00Z", "invoice-sync", "ok", "late", "beat was due"),
  line("2026-04-07T02:00:00Z", "invoice-sync", "late", "stale", "no beat since 2026-04-06T23:00:00.000Z"),
  line("2026-04-07T09:15:00Z", "invoice-sync", "stale", "ok"),
  // Failed at 01:00, then stale at 03:00, back at 04:00 (Berlin, Wednesday).
  line("2026-04-07T23:00:00Z", "sync", "ok", "failed", "last run failed: exit code 1"),
  line("2026-04-08T01:00:00Z", "sync", "failed", "stale", "no beat since 2026-04-07T23:00:00.000Z"),
  line("2026-04-08T02:00:00Z", "sync", "stale", "ok"),
  // The morning brief's own example: failed at 02:00, recovered at 03:10.
  line("2026-04-08T00:00:00Z", "backup", "ok", "failed", "last run failed: exit code 3: disk full"),
  line("2026-04-08T01:10:00Z", "backup", "failed", "ok", "next beat due 2026-04-09T00:00:00.000Z"),
  line("2026-04-08T00:00:00Z", "db-dump", "ok", "failed", "last run failed: exit code 1"),
  line("2026-04-08T01:00:00Z", "thumbnails", "ok", "flaky", "1 of 3 failures before alerting"),
].join("\n");

describe("since the last brief", () => {
  const journal = journalOf(OVERNIGHT);
  const markdown = renderBrief([checker], { now: NOW, tz: TZ, journal });

  it("shows a job that failed at 02:00 and recovered at 03:10 in the 06:30 brief, down 1h 10m", () => {
    expect(markdown).toContain("- **backup** failed at 02:00, recovered at 03:10 — down 1h 10m (last run failed: exit code 3: disk full)");
  });

  it("lists each episode that began or ended in the window, per job, in the brief's zone", () => {
    expect(sinceSection(markdown)).toMatchInlineSnapshot(`
      "## Since the last brief

      Since yesterday 06:30 (1 day), from the checker's journal.

      - **invoice-sync** went stale yesterday at 04:00, recovered yesterday at 11:15 — down 7h 15m (no beat since 2026-04-06T23:00:00.000Z)
      - **sync** failed at 01:00, then went stale at 03:00, recovered at 04:00 — down 3h (last run failed: exit code 1)
      - **backup** failed at 02:00, recovered at 03:10 — down 1h 10m (last run failed: exit code 3: disk full)
      - **db-dump** failed at 02:00 — down since 02:00, 4h 30m so far (last run failed: exit code 1)
      - **thumbnails** turned flaky at 03:00 (1 of 3 failures before alerting)"
    `);
  });

  it("leaves out what began and ended before the window, and what began before it and goes on", () => {
    expect(markdown).not.toContain("**old**");
    expect(markdown).not.toContain("**long-down**");
  });

  it("says the time of day in another zone when the reader is elsewhere", () => {
    const utc = renderBrief([checker], { now: NOW, tz: "UTC", journal, format: "text" });
    expect(utc).toContain("  backup: failed at 00:00, recovered at 01:10 — down 1h 10m (last run failed: exit code 3: disk full)");
    expect(utc).toContain("  invoice-sync: went stale yesterday at 02:00, recovered yesterday at 09:15 — down 7h 15m");
  });

  it("looks back as far as asked: a shorter window drops what came before it", () => {
    // From 03:30: sync recovered at 04:00; backup's recovery at 03:10 and the flaky turn at 03:00 were before.
    const since3h = renderBrief([checker], { now: NOW, tz: TZ, journal, sinceSeconds: 3 * 3600 });
    expect(sinceSection(since3h)).toMatchInlineSnapshot(`
      "## Since the last brief

      Since today 03:30 (3 hours), from the checker's journal.

      - **sync** failed at 01:00, then went stale at 03:00, recovered at 04:00 — down 3h (last run failed: exit code 1)"
    `);
  });

  it("says in one line that nothing happened when the journal names no event in the window", () => {
    const quiet = journalOf([line("2026-03-01T00:00:00Z", "backup", null, "ok")].join("\n"));
    expect(sinceSection(renderBrief([checker], { now: NOW, tz: TZ, journal: quiet }))).toMatchInlineSnapshot(`
      "## Since the last brief

      Since yesterday 06:30 (1 day), from the checker's journal.

      Nothing happened: no job started or stopped alerting, and none turned flaky."
    `);
  });

  it("says so, never silently, when there is no journal, or it was cut, unreadable or had bad lines", () => {
    const none = buildBrief([checker], { now: NOW, tz: TZ, journal: { sources: [], entries: [] } }).since;
    expect(none.journalNote).toBe(
      "No journal yet: lastbeat check keeps heartbeat-checker.journal beside its own heartbeat, so what happened before now is unknown.",
    );
    expect(none.known).toBe(false);
    const absent = buildBrief([checker], { now: NOW, tz: TZ, journal: { sources: [{ ...journal.sources[0]!, state: "absent" }], entries: [] } });
    expect(absent.since.journalNote).toBe(none.journalNote);
    // Not knowing is not "nothing happened".
    expect(sinceSection(renderBrief([checker], { now: NOW, tz: TZ, journal: { sources: [], entries: [] } }))).not.toContain("Nothing happened");

    const cut = journalOf(OVERNIGHT, { truncated: true, skippedLines: 2 });
    const text = renderBrief([checker], { now: NOW, tz: TZ, journal: cut, format: "text" });
    expect(text).toContain(
      "The journal is too large to read whole: only its end was read, back to 1 Mar 01:00. 2 lines of the journal could not be read and were skipped.",
    );
    expect(text).toContain("  backup: failed at 02:00, recovered at 03:10 — down 1h 10m");

    const error = "refusing to read the journal /var/run/lastbeat/heartbeats/heartbeat-checker.journal: it is a symbolic link";
    const unreadable = buildBrief([checker], { now: NOW, tz: TZ, journal: { sources: [{ ...journal.sources[0]!, state: "unreadable", error }], entries: [] } });
    expect(unreadable.since.journalNote).toBe(`${error}: what happened before now is unknown.`);
  });

  it("an episode whose start the journal does not hold still says when it ended", () => {
    const tail = journalOf(line("2026-04-08T01:10:00Z", "backup", "failed", "ok"), { truncated: true });
    expect(renderBrief([checker], { now: NOW, tz: TZ, journal: tail })).toContain("- **backup** failed before the journal begins, recovered at 03:10");
  });

  it("ignores lines dated after the brief's own time", () => {
    const later = journalOf([line("2026-03-01T00:00:00Z", "backup", null, "ok"), line("2026-04-08T05:00:00Z", "backup", "ok", "failed")].join("\n"));
    expect(renderBrief([checker], { now: NOW, tz: TZ, journal: later })).toContain("Nothing happened");
  });

  it("says what was paused rather than recovered", () => {
    const paused = journalOf([line("2026-04-08T00:00:00Z", "backup", "ok", "stale"), line("2026-04-08T00:30:00Z", "backup", "stale", "paused")].join("\n"));
    expect(renderBrief([checker], { now: NOW, tz: TZ, journal: paused })).toContain(
      "- **backup** went stale at 02:00, was paused at 02:30 — down 30m",
    );
  });

  it("carries the window, the journal's state, the events and their facts in the JSON brief", () => {
    const json = briefJson(buildBrief([checker], { now: NOW, tz: TZ, journal }));
    expect(json.since_last_brief.from).toBe("2026-04-07T04:30:00.000Z");
    expect(json.since_last_brief.to).toBe("2026-04-08T04:30:00.000Z");
    expect(json.since_last_brief.journal_note).toBeNull();
    expect(json.since_last_brief.journals).toEqual([
      { path: "/var/run/lastbeat/heartbeats/heartbeat-checker.journal", state: "read", truncated: false, skipped_lines: 0, bytes: OVERNIGHT.length },
    ]);
    expect(json.since_last_brief.events[2]).toEqual({
      job: "backup",
      text: "failed at 02:00, recovered at 03:10 — down 1h 10m (last run failed: exit code 3: disk full)",
    });
    const byJob = Object.fromEntries(json.since_last_brief.episodes.map((e) => [e.job, e]));
    expect(byJob.backup).toEqual({
      job: "backup",
      status: "failed",
      reason: "last run failed: exit code 3: disk full",
      started_at: "2026-04-08T00:00:00.000Z",
      ended_at: "2026-04-08T01:10:00.000Z",
      ended_in: "ok",
      down_s: 4200,
      changes: [],
    });
    expect(byJob["db-dump"]).toMatchObject({ ended_at: null, ended_in: null, down_s: 16_200 });
    expect(byJob.sync?.changes).toEqual([{ at: "2026-04-08T01:00:00.000Z", status: "stale" }]);
    expect(json.since_last_brief.flaky).toEqual([{ job: "thumbnails", at: "2026-04-08T01:00:00.000Z", reason: "1 of 3 failures before alerting" }]);
  });
});

describe("availability over 30 days", () => {
  // Each job's history, with the time it spent alerting in the last 30 days worked out by hand.
  const journal = journalOf(
    [
      // The journal begins 60 days ago: it covers the whole window for any job it knew then.
      line(daysAgo(60), "steady", null, "ok"),
      line(daysAgo(60), "backup", null, "ok"),
      // 6 h failed ten days ago; late (not alerting) then 1 h 30 m stale two days ago: 7 h 30 m down.
      line(daysAgo(10), "backup", "ok", "failed"),
      line(daysAgo(10, -6), "backup", "failed", "ok"),
      line(daysAgo(2), "backup", "ok", "late"),
      line(daysAgo(2, -1), "backup", "late", "stale"),
      line(daysAgo(2, -2.5), "backup", "stale", "ok"),
      // New five days ago, failed for 12 h of its 5 days.
      line(daysAgo(5), "newcomer", null, "ok"),
      line(daysAgo(4), "newcomer", "ok", "failed"),
      line(daysAgo(4, -12), "newcomer", "failed", "ok"),
      // Failing since 31 days ago, recovered 29 days ago: one day of it inside the window.
      line(daysAgo(31), "straddler", "ok", "failed"),
      line(daysAgo(29), "straddler", "failed", "ok"),
      // Its first line says it was failed before: it was, since the journal began, until a day ago.
      line(daysAgo(1), "long-down", "failed", "ok"),
      // Still down: stale for the last 3 h.
      line(daysAgo(0, 3), "silent", "ok", "stale"),
      // Paused is not alerting.
      line(daysAgo(3), "paused", "ok", "paused"),
      // Only a line dated after the brief: the journal knows nothing of it yet.
      line(new Date(NOW.getTime() + 60_000).toISOString(), "future", null, "failed"),
    ].join("\n"),
  );
  const available = availabilities(journal.entries, NOW);
  const WINDOW_S = 30 * 86_400;

  it("is the share of the last 30 days not alerting, exactly", () => {
    expect(available.get("steady")).toEqual({ ratio: 1, from: new Date(NOW.getTime() - 30 * DAY), to: NOW, whole: true, downSeconds: 0 });
    expect(available.get("backup")?.downSeconds).toBe(7.5 * 3600);
    expect(available.get("backup")?.ratio).toBeCloseTo(1 - (7.5 * 3600) / WINDOW_S, 12);
    expect(available.get("straddler")?.downSeconds).toBe(86_400);
    expect(available.get("long-down")?.downSeconds).toBe(29 * 86_400);
    expect(available.get("silent")).toMatchObject({ whole: true, downSeconds: 3 * 3600 });
    expect(available.get("paused")).toMatchObject({ ratio: 1, whole: true });
  });

  it("covers a job the journal met less than 30 days ago from then, and says since when", () => {
    expect(available.get("newcomer")).toEqual({
      ratio: 0.9,
      from: new Date(daysAgo(5)),
      to: NOW,
      whole: false,
      downSeconds: 12 * 3600,
    });
  });

  it("knows nothing of a job the journal never names, or names only after the brief's time", () => {
    expect(available.has("future")).toBe(false);
    expect(available.has("never-journaled")).toBe(false);
  });

  it("reads 99.3%, rounded down so a job that was down never reads 100%", () => {
    expect(formatAvailability(1)).toBe("100%");
    expect(formatAvailability(0.993)).toBe("99.3%");
    expect(formatAvailability(0.99999)).toBe("99.9%");
    expect(formatAvailability(0.9)).toBe("90.0%");
    expect(formatAvailability(0)).toBe("0.0%");
  });

  it("shows in the panel, with since when for a job met lately, and — for a job the journal does not know", () => {
    const state = (job: string) => evaluate({ job, status: "ok", at: daysAgo(0, 1), interval_s: 86_400 }, undefined, NOW);
    const rows = panelRows(["backup", "newcomer", "straddler", "long-down", "never-journaled"].map(state), { now: NOW, tz: TZ, journal });
    expect(Object.fromEntries(rows.map((row) => [row.job, row.availability]))).toEqual({
      backup: "98.9%", // 1 − 27 000 / 2 592 000 = 0.98958…
      newcomer: "90.0% since 3 Apr",
      straddler: "96.6%", // 29 / 30 = 0.9666…
      "long-down": "3.3%", // 1 / 30
      "never-journaled": "—",
    });
  });

  it("is in the JSON brief and the JSON panel", () => {
    const state = evaluate({ job: "newcomer", status: "ok", at: daysAgo(0, 1), interval_s: 86_400 }, undefined, NOW);
    const panel = JSON.parse(renderPanel([state], { now: NOW, tz: TZ, journal, format: "json" }));
    const expected = {
      ratio: 0.9,
      text: "90.0%",
      from: daysAgo(5).replace("Z", ".000Z").replace(".000.000Z", ".000Z"),
      to: "2026-04-08T04:30:00.000Z",
      whole_window: false,
      down_s: 43_200,
    };
    expect(panel.jobs[0].availability).toEqual(expected);
    const brief = briefJson(buildBrief([state], { now: NOW, tz: TZ, journal, checker: false }));
    expect(brief.jobs[0]?.availability).toEqual(expected);
  });

  it("matches the episodes' own lengths for any journal (property)", () => {
    const statuses: JobStatus[] = ["ok", "late", "flaky", "running", "paused", "failed", "stale", "overrun", "missing", "invalid"];
    const journalArb = fc.record({
      from: fc.option(fc.constantFrom(...statuses), { nil: null }),
      changes: fc.array(fc.record({ hoursAgo: fc.integer({ min: 0, max: 24 * 45 }), to: fc.constantFrom(...statuses) }), { maxLength: 12 }),
    });
    fc.assert(
      fc.property(journalArb, ({ from, changes }) => {
        const sorted = [...changes].sort((a, b) => b.hoursAgo - a.hoursAgo);
        if (sorted.length === 0) return;
        let previous: JobStatus | null = from;
        const entries: JournalEntry[] = sorted.map(({ hoursAgo, to }) => {
          const entry = { at: daysAgo(0, hoursAgo), job: "job", from: previous, to, reason: "" };
          previous = to;
          return entry;
        });
        const result = availabilities(entries, NOW).get("job");
        const episodes = allEpisodes(entries, NOW);
        if (result === undefined) {
          expect(sorted[0]!.hoursAgo).toBe(0); // known only from now on: nothing to measure
          return;
        }
        expect(result.ratio).toBeGreaterThanOrEqual(0);
        expect(result.ratio).toBeLessThanOrEqual(1);
        // Independently: the episodes clipped to the span the availability covers.
        const start = result.from.getTime();
        const down = episodes.reduce((sum, e) => {
          const begin = Math.max(e.startedAt?.getTime() ?? -Infinity, start);
          const end = e.endedAt?.getTime() ?? NOW.getTime();
          return sum + Math.max(0, end - begin);
        }, 0);
        expect(result.downSeconds).toBeCloseTo(down / 1000, 6);
        expect(formatAvailability(result.ratio) === "100%").toBe(result.downSeconds === 0);
        const lastAlerting = ALERTING_STATUSES.has(sorted.at(-1)!.to);
        expect(episodes.at(-1)?.endedAt === null).toBe(lastAlerting);
        // What the section shows is what began or ended in its window.
        const since = historySince(entries, new Date(NOW.getTime() - DAY), NOW).episodes;
        const inDay = (at: Date | null) => at !== null && at.getTime() > NOW.getTime() - DAY;
        expect(since).toEqual(episodes.filter((e) => inDay(e.startedAt) || inDay(e.endedAt)));
      }),
      { numRuns: 300 },
    );
  });
});

describe("the panel's last runs", () => {
  const runs = (list: { status: string }[], status: "ok" | "fail" | "start" = "ok") =>
    evaluate({ job: "backup", status, at: daysAgo(0, 1), interval_s: 86_400, runs: list as never }, undefined, NOW);

  it("shows the heartbeat's runs oldest left, newest right", () => {
    // Newest first in the file: ok (newest), fail, ok, ok (oldest).
    const [row] = panelRows([runs([{ status: "ok" }, { status: "fail" }, { status: "ok" }, { status: "ok" }])], { now: NOW });
    expect(row?.runs).toBe("✓✓✗✓");
  });

  it("keeps the newest ten, marks what a file made up, and falls back to the beat's own run", () => {
    const many = Array.from({ length: 20 }, (_, i) => ({ status: i < 3 ? "fail" : "ok" }));
    expect(panelRows([runs(many)], { now: NOW })[0]?.runs).toBe("✓✓✓✓✓✓✓✗✗✗");
    expect(panelRows([runs([{ status: "ok" }, { status: "<b>" }])], { now: NOW })[0]?.runs).toBe("?✓");
    const old = evaluate({ job: "backup", status: "fail", at: daysAgo(0, 1), interval_s: 86_400 }, undefined, NOW);
    expect(panelRows([old], { now: NOW })[0]?.runs).toBe("✗");
    expect(panelRows([runs([], "start")], { now: NOW })[0]?.runs).toBe("—");
  });

  it("says in a legend which way the runs read", () => {
    const text = renderPanel([runs([{ status: "fail" }, { status: "ok" }])], { now: NOW, format: "text" });
    expect(text).toContain("Last runs: up to 10, oldest left, newest right (✓ ok, ✗ failed).");
    expect(text).toMatch(/✓✗/);
  });
});

describe("the panel alone", () => {
  it("says under the panel that there is no journal when the caller passed one that is absent", () => {
    const state = evaluate({ job: "backup", status: "ok", at: daysAgo(0, 1), interval_s: 86_400 }, undefined, NOW);
    const empty: Journal = { sources: [{ path: "/hb/heartbeat-checker.journal", state: "absent", truncated: false, skippedLines: 0, bytes: 0 }], entries: [] };
    expect(renderPanel([state], { now: NOW, journal: empty })).toContain("No journal yet:");
    expect(renderPanel([state], { now: NOW, journal: journalOf(line(daysAgo(40), "backup", null, "ok")) })).not.toContain("journal yet");
  });

  it("reads the fixtures' own lines as the file format", () => {
    expect(journalEntries(line("2026-04-08T00:00:00+02:00", "x", null, "ok"))[0]?.at).toBe("2026-04-07T22:00:00.000Z");
  });
});
