import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scanHeartbeats } from "lastbeat";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLastbeat } from "../../support/cli.js";
import { sharedTempDir } from "../../support/tmpfs.js";

/*
 * Drill: 10,000 heartbeat files, 1% broken (corrupt, truncated, wrong-typed, future-dated).
 * Every file is classified, the scan completes, and the alert issue names every broken one.
 */

const NOW = "2025-03-01T10:00:00.000Z";
const FRESH = "2025-03-01T09:59:00.000Z";
const FUTURE = "2025-03-01T11:00:00.000Z"; // an hour ahead: more than the 5 min allowed skew
const TOTAL = 10_000;
const KINDS = ["corrupt", "truncated", "wrong-typed", "future-dated"] as const;

const name = (i: number) => `job-${String(i).padStart(5, "0")}`;
const beat = (job: string, fields: Record<string, unknown> = {}) =>
  JSON.stringify({ format: "lastbeat/1", job, status: "ok", at: FRESH, interval_s: 300, ...fields });

let tmp: { dir: string; cleanup: () => void };
let dir: string;
const broken = new Map<string, (typeof KINDS)[number]>();

beforeAll(() => {
  tmp = sharedTempDir();
  dir = join(tmp.dir, "heartbeats");
  mkdirSync(dir);
  for (let i = 0; i < TOTAL; i++) {
    const job = name(i);
    let text = beat(job);
    if (i % 100 === 37) {
      const kind = KINDS[(i / 100) % KINDS.length | 0]!;
      broken.set(job, kind);
      if (kind === "corrupt") text = `\u0000\u00ff{not json ${job}`;
      if (kind === "truncated") text = text.slice(0, text.length >> 1);
      if (kind === "wrong-typed") text = beat(job, { interval_s: "5m", status: 1 });
      if (kind === "future-dated") text = beat(job, { at: FUTURE });
    }
    writeFileSync(join(dir, `${job}.last`), text);
  }
});
afterAll(() => tmp.cleanup());

describe("drill: many files, some broken", () => {
  it("10,000 files with 1% corrupt, truncated, wrong-typed or future-dated: every one classified by scanHeartbeats", async () => {
    expect(broken.size).toBe(TOTAL / 100);
    expect(new Set(broken.values())).toEqual(new Set(KINDS));
    const states = await scanHeartbeats({ dirs: [dir], now: new Date(NOW) });
    expect(states).toHaveLength(TOTAL);
    const invalid = states.filter((s) => s.status === "invalid").map((s) => s.job).sort();
    expect(invalid).toEqual([...broken.keys()].sort());
    expect(states.filter((s) => s.status !== "invalid").every((s) => s.status === "ok")).toBe(true);
  });

  it("lastbeat status --json lists all 10,000 and flags exactly the broken ones", async () => {
    const result = await runLastbeat(["status", "--json", "--dir", dir, "--now", NOW]);
    expect(result.code).toBe(1);
    const jobs = JSON.parse(result.stdout).jobs as Array<{ job: string; status: string; alerting: boolean }>;
    expect(jobs).toHaveLength(TOTAL);
    expect(jobs.filter((j) => j.alerting).map((j) => j.job).sort()).toEqual([...broken.keys()].sort());
    expect(new Set(jobs.filter((j) => j.alerting).map((j) => j.status))).toEqual(new Set(["invalid"]));
  });

  it("lastbeat check --forge file opens one issue that names every broken heartbeat", async () => {
    const issues = join(tmp.dir, "issues");
    const result = await runLastbeat(["check", "--forge", "file", "--repo", issues, "--dir", dir, "--now", NOW]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(1);
    const files = readdirSync(issues).filter((f) => f.endsWith(".md"));
    expect(files).toHaveLength(1);
    const issue = readFileSync(join(issues, files[0]!), "utf8");
    expect(issue).toMatch(/<!-- lastbeat:rollup scope=\S+ -->/);
    const missing = [...broken.keys()].filter((job) => !issue.includes(job));
    expect(missing).toEqual([]);
    // Only the broken ones: a healthy job is not in the issue.
    expect(issue).not.toContain(name(0));

    // A second run with nothing changed leaves the issue as it is.
    const again = await runLastbeat(["check", "--forge", "file", "--repo", issues, "--dir", dir, "--now", NOW]);
    expect(again.code).toBe(1);
    expect(readdirSync(issues).filter((f) => f.endsWith(".md"))).toEqual(files);
    expect(readFileSync(join(issues, files[0]!), "utf8")).toBe(issue);
  });
});
