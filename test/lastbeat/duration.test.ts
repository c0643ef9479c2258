import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration, parseManifest } from "lastbeat/internal";

describe("parseDuration", () => {
  it.each([
    ["300", 300],
    [300, 300],
    ["90s", 90],
    ["5m", 300],
    ["1h", 3600],
    ["1d", 86_400],
    ["1w", 604_800],
    ["1h30m", 5400],
    [" 2m ", 120],
  ])("%j is %i seconds", (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });
  it.each(["", "5 minutes", "-5m", "0", "0s", "m", "5x", "1e3", "Infinity"])("rejects %j naming it", (input) => {
    expect(() => parseDuration(input, "--every")).toThrow(/^--every/);
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [59, "59s"],
    [300, "5m"],
    [5400, "1h 30m"],
    [86_400 * 2 + 3 * 3600 + 59, "2d 3h"],
    [604_800 + 86_400, "1w 1d"],
    [100 * 365.25 * 86_400, "5217w 6d"],
    [1e300, "over 100 years"],
  ])("%i seconds reads %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("parseManifest", () => {
  const bad = (json: unknown) => () => parseManifest(JSON.stringify(json), "ops/lastbeat.json");
  it("names the file, job and key at fault", () => {
    expect(bad({ jobs: {}, extra: 1 })).toThrow('ops/lastbeat.json: unknown key "extra"');
    expect(bad({ jobs: null })).toThrow('ops/lastbeat.json: "jobs" must be an object');
    expect(bad({ jobs: [] })).toThrow('ops/lastbeat.json: "jobs" must be an object');
    expect(bad({ jobs: { backup: { every: "1d", retries: 3 } } })).toThrow('ops/lastbeat.json: job backup: unknown key "retries"');
    expect(bad({ jobs: { backup: { every: "soon" } } })).toThrow(/job backup: every: cannot read "soon"/);
    expect(bad({ jobs: { backup: {} } })).toThrow('job backup: needs "every" (or a "schedule")');
    expect(bad({ jobs: { "../etc": { every: "1d" } } })).toThrow(/invalid job name/);
    expect(bad({ jobs: { backup: { every: "1d", schedule: "0 2 * * * *" } } })).toThrow(/5 fields/);
    expect(bad({ jobs: { backup: { every: "1d", paused: "later" } } })).toThrow(/paused must be/);
    // A day that does not exist is not rolled over to another (Date.parse would make it March 2).
    expect(bad({ jobs: { backup: { every: "1d", paused: "2026-02-30T00:00:00Z" } } })).toThrow(
      "ops/lastbeat.json: job backup: paused must be true, false or an ISO time that exists (like 2026-03-01T06:00:00Z)",
    );
    expect(bad({ jobs: { backup: { every: "1d", paused: "2025-02-29" } } })).toThrow(/paused must be/);
    expect(bad({ jobs: { backup: { every: "1d", paused: "2026-03-01T24:00:00Z" } } })).toThrow(/paused must be/);
    const until = (paused: string) => parseManifest(JSON.stringify({ jobs: { backup: { every: "1d", paused } } }), "m.json").jobs.get("backup")?.paused;
    // Every ISO shape a manifest could hold before: a zone or none (the host's local time), `T` or a space.
    const shapes = ["2026-03-01", "2026-03-01T06:00:00+02:00", "2024-02-29T00:00Z", "2026-03-01T06:00:00", "2026-03-01T06:00", "2026-03-01 06:00:00Z", "2026-03-01t06:00z"];
    expect(shapes.map(until)).toEqual(shapes);
    expect(bad({ jobs: { backup: { every: "1d", paused: "2026-02-30T06:00:00" } } })).toThrow(/paused must be/);
    expect(bad({ jobs: { backup: { every: "1d", paused: "2026-02-30 06:00:00Z" } } })).toThrow(/paused must be/);
    expect(() => parseManifest("{", "m.json")).toThrow(/^m\.json: not valid JSON/);
  });
  it("reads the manifest example of docs/spec.md", () => {
    const m = parseManifest(
      JSON.stringify({ jobs: { backup: { every: "1d", schedule: "0 2 * * *", tz: "Europe/Berlin", grace: "2h", max_runtime: "30m", paused: false } } }),
    );
    expect(m.jobs.get("backup")).toEqual({
      intervalSeconds: 86_400,
      schedule: "0 2 * * *",
      tz: "Europe/Berlin",
      grace: "2h",
      maxRuntimeSeconds: 1800,
      paused: false,
    });
  });
});
