import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@lastbeat/cli";
import type { Heartbeat } from "lastbeat";
import { systemTimeZone } from "lastbeat/internal";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runLastbeat } from "../support/cli.js";
import { fakeIo } from "../support/fake-io.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lastbeat-cli-numbers-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const io = fakeIo({ env: { LASTBEAT_DIR: dir }, now: new Date("2026-11-23T10:00:00Z") });
  const code = await runCli(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

describe("flags refuse numbers whose dates cannot be represented", () => {
  it.each([
    [["beat", "x", "--every", "99999999999w"], "error: option '--every <duration>' argument '99999999999w' is invalid. Durations are at most 100 years.\n"],
    [["beat", "x", "--every", "1d", "--max-runtime", "1e300"], "error: option '--max-runtime <duration>' argument '1e300' is invalid. Use a duration like 300, 90s, 5m, 1h, 1d or 1w.\n"],
    [["beat", "x", "--every", "1d", "--grace", "99999999999999x"], "error: option '--grace <2x|duration>' argument '99999999999999x' is invalid. A multiple of the interval can be at most 1000x.\n"],
  ])("lastbeat %j", async (args, stderr) => {
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(stderr);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("readers with one file whose numbers cannot be turned into dates", () => {
  it.each([["status"], ["report", "--panel"], ["metrics"], ["check", "--forge", "none"]])("lastbeat %s reports it invalid and still sees the others", async (...args) => {
    const beat = (job: string, over: object) =>
      JSON.stringify({ format: "lastbeat/1", job, status: "ok", at: "2026-11-23T09:00:00.000Z", interval_s: 300, ...over });
    await writeFile(join(dir, "huge.last"), beat("huge", { interval_s: 1e300 }));
    await writeFile(join(dir, "gone.last"), beat("gone", {}));
    const result = await cli([...args, "--now", "2026-11-23T10:00:00Z"]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(args[0] === "metrics" ? 0 : 1);
    expect(result.stdout).toMatch(/huge/);
    expect(result.stdout).toMatch(/gone/);
  });
});

describe("beat", () => {
  it("refuses --now more than 5 minutes in the future instead of writing a beat every reader calls invalid", async () => {
    const result = await cli(["beat", "x", "--every", "5m", "--now", "2026-11-23T10:05:00.001Z"]);
    expect(result).toMatchObject({ code: 2, stderr: "error: --now 2026-11-23T10:05:00.001Z is more than 5 minutes in the future\n" });
    expect(await readdir(dir)).toEqual([]);
    expect((await cli(["beat", "x", "--every", "5m", "--now", "2026-11-23T10:05:00.000Z"])).code).toBe(0);
  });

  it("--schedule without --tz records the zone cron reads it in: the machine's, not $TZ (a crontab's TZ= line); CRON_TZ (cronie's)", async () => {
    const machine = systemTimeZone();
    expect(machine).not.toBe("Pacific/Chatham"); // else this test could not tell the two apart
    const beat = async (job: string, env: Record<string, string>) => {
      const result = await runLastbeat(["beat", job, "--every", "1d", "--schedule", "0 2 * * *"], { env: { LASTBEAT_DIR: dir, ...env } });
      expect(result).toMatchObject({ code: 0, stderr: "" });
      return JSON.parse(await readFile(join(dir, `${job}.last`), "utf8")) as Heartbeat;
    };
    expect(await beat("x", { TZ: "Pacific/Chatham" })).toMatchObject({ schedule: "0 2 * * *", tz: machine });
    expect(await beat("y", { TZ: "Asia/Tokyo", CRON_TZ: "Pacific/Chatham" })).toMatchObject({ schedule: "0 2 * * *", tz: "Pacific/Chatham" });
  });
});

describe("status with a --now before the beat", () => {
  it("never shows a negative age; the note says the beat is in the future", async () => {
    await cli(["beat", "x", "--every", "5m", "--now", "2026-11-23T10:00:00Z"]);
    const result = await cli(["status", "--json", "--now", "2026-11-23T09:58:00Z"]);
    const [job] = JSON.parse(result.stdout).jobs;
    expect(job).toMatchObject({ job: "x", status: "ok", age_s: 0, ratio: 0 });
    expect(job.reason).toMatch(/in the future/);
  });
});
