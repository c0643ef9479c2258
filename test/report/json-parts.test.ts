import fc from "fast-check";
import { evaluate, type JobState } from "lastbeat";
import { briefJson, buildBrief, formatBriefParts, panelJson, renderPanel, renderPanelParts } from "@lastbeat/report";
import { describe, expect, it } from "vitest";

/*
 * The JSON brief and panel are written in pieces (a fleet's JSON with past runs is longer than
 * one string may be): joined, the pieces must be exactly the one-string JSON.
 */

const NOW = new Date("2026-04-08T07:00:00Z");

/** `count` jobs with past runs, some failing, some with text that looks like the document's own. */
function fleet(count: number, message: string): JobState[] {
  return Array.from({ length: count }, (_, i) => {
    const at = new Date(NOW.getTime() - (i % 17) * 60_000).toISOString();
    const runs = Array.from({ length: i % 4 }, (_, r) => ({ at, status: r % 2 ? ("fail" as const) : ("ok" as const), duration_ms: r }));
    return evaluate(
      { job: `job-${i}`, status: i % 5 === 0 ? "fail" : "ok", at, interval_s: 300, message: `${message} ${i}`, runs },
      undefined,
      NOW,
      { file: `/srv/beats/job-${i}.last` },
    );
  });
}

const oneString = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const joined = (parts: Iterable<string>) => [...parts].join("");

describe("the JSON brief and panel in pieces", () => {
  it("join to exactly the one-string JSON, for fleets of 0 to 2,500 jobs and any message", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 99, 100, 101, 2500),
        fc.oneof(fc.string(), fc.constantFrom('\n  "jobs": []', '"jobs": [],\n  ', "\u2028]\n}")),
        fc.boolean(),
        fc.boolean(),
        (count, message, checker, unmonitored) => {
          const states = fleet(count, message);
          const lines = unmonitored ? [{ where: "/etc/crontab:3", schedule: "0 * * * *", user: "root", command: 'echo "jobs": []' }] : [];
          const brief = buildBrief(states, { now: NOW, tz: "Europe/Berlin", checker, unmonitored: lines });
          expect(joined(formatBriefParts(brief, "json"))).toBe(oneString(briefJson(brief)));
          const options = { now: NOW, tz: "Europe/Berlin", format: "json" } as const;
          const parts = [...renderPanelParts(states, options)];
          expect(parts.join("")).toBe(oneString(panelJson(states, options)));
          expect(parts.join("")).toBe(renderPanel(states, options));
          // A hundred jobs a piece, besides the text before and after them.
          expect(parts.length).toBe(count === 0 ? 1 : Math.ceil(count / 100) + 2);
        },
      ),
      { numRuns: 30 },
    );
  });

  it("leave the other formats whole", () => {
    const brief = buildBrief(fleet(3, "ok"), { now: NOW, tz: "UTC" });
    expect([...formatBriefParts(brief, "md")]).toHaveLength(1);
    expect([...renderPanelParts(fleet(3, "ok"), { now: NOW, format: "text" })]).toHaveLength(1);
  });
});
