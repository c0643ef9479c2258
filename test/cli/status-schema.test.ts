import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Validator, type Schema } from "@cfworker/json-schema";
import { runCli } from "@lastbeat/cli";
import { beforeEach, describe, expect, it } from "vitest";
import { fakeIo } from "../support/fake-io.js";
import { testdir } from "../support/testdir.js";

/*
 * docs/status.schema.json is the published shape of `lastbeat status --json`. This validates real
 * output, one job of every status, so the schema and the code cannot drift apart unnoticed.
 */

const schema = JSON.parse(await readFile(new URL("../../docs/status.schema.json", import.meta.url), "utf8")) as Schema;
const validator = new Validator(schema, "2020-12", false);

const NOW = new Date("2025-01-31T12:00:00Z");
const minutesBefore = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-schema-");
});

async function cli(args: string[]) {
  const io = fakeIo({ env: { LASTBEAT_DIR: dir }, cwd: dir, now: NOW });
  const code = await runCli(args, io);
  return { code, stdout: io.out(), stderr: io.err() };
}

async function beat(job: string, minutesAgo: number, ...flags: string[]) {
  const result = await cli(["beat", job, "--every", "1h", "--now", minutesBefore(minutesAgo), ...flags]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
}

/** `lastbeat status --json` over one job of every status. */
async function statusOfEveryKind(): Promise<{ now: string; jobs: { status: string; alerting: boolean; ratio: unknown }[] }> {
  await beat("fresh", 10);
  await beat("behind", 90);
  await beat("silent", 180);
  await beat("broken-job", 10, "--exit-code", "3", "--message", "disk full");
  await beat("busy", 10, "--status", "start", "--max-runtime", "30m");
  await beat("hung", 120, "--status", "start", "--max-runtime", "30m");
  await writeFile(join(dir, "garbled.last"), "{ not json");
  await writeFile(
    join(dir, "lastbeat.json"),
    JSON.stringify({ jobs: { report: { every: "1d" }, holiday: { every: "1h", paused: "2025-02-01T00:00:00Z" } } }),
  );
  const result = await cli(["status", "--json", "--manifest", "lastbeat.json"]);
  expect(result.stderr).toBe("");
  expect(result.code).toBe(1);
  return JSON.parse(result.stdout);
}

describe("docs/status.schema.json", () => {
  it("accepts real `status --json` output with a job of every status", async () => {
    const json = await statusOfEveryKind();
    expect(new Set(json.jobs.map((job) => job.status))).toEqual(
      new Set(["ok", "late", "stale", "failed", "running", "overrun", "missing", "invalid", "paused"]),
    );
    const result = validator.validate(json);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("rejects output that breaks the contract", async () => {
    const json = await statusOfEveryKind();
    const wrongAlerting = structuredClone(json);
    wrongAlerting.jobs[0]!.alerting = !wrongAlerting.jobs[0]!.alerting;
    const ratioAsText = structuredClone(json);
    ratioAsText.jobs[0]!.ratio = "2.4×";
    const extraField = { ...json, checked_at: json.now };
    for (const broken of [wrongAlerting, ratioAsText, extraField, { jobs: json.jobs }]) {
      expect(validator.validate(broken).valid).toBe(false);
    }
  });
});
