import { renderPanel } from "@lastbeat/report";
import { evaluate, type JobState } from "lastbeat";
import { formatDuration } from "lastbeat/internal";
import { describe, expect, it } from "vitest";
import { statusTable } from "../../packages/cli/src/status-table.js";

/*
 * A fleet bigger than a call's arguments: spreading 130,000 rows into Math.max (or push) overflows
 * V8's stack: `status`, `report --format text` and `--format md` crashed with exit 70 past
 * ~125,000 jobs. Every table is built from such a fleet here.
 */

const NOW = new Date("2025-06-02T06:00:00Z");
const JOBS = 130_000;

const fleet: JobState[] = Array.from({ length: JOBS }, (_, i) => {
  const at = new Date(NOW.getTime() - (i % 7) * 3_600_000).toISOString();
  return evaluate({ format: "lastbeat/1", job: `job-${i}`, status: "ok", at, interval_s: 3600 }, undefined, NOW, { file: `/hb/job-${i}.last` });
});
// The longest name decides the first column's width, wherever it is.
fleet[JOBS - 1] = { ...(fleet[JOBS - 1] as JobState), job: "a-much-longer-job-name-than-any-other" };

describe(`tables of ${JOBS.toLocaleString("en-US")} jobs`, () => {
  it("the status table: one line per job, aligned to the widest name", () => {
    const lines = statusTable(fleet, { color: false, formatDuration }).trimEnd().split("\n");
    expect(lines).toHaveLength(JOBS + 1);
    const statusColumn = "a-much-longer-job-name-than-any-other".length + 2;
    // Every line's second column (the status) starts right after the widest name and two spaces.
    expect(lines.filter((line) => line[statusColumn - 1] !== " " || line[statusColumn] === " ")).toEqual([]);
  });

  it("the heartbeat panel as markdown and as text", () => {
    for (const format of ["md", "text"] as const) {
      const panel = renderPanel(fleet, { now: NOW, tz: "UTC", format });
      expect(panel).toContain("a-much-longer-job-name-than-any-other");
      expect(panel.split("\n").filter((line) => /\bjob-\d/.test(line)).length).toBe(JOBS - 1);
    }
  });
});
