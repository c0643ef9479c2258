import { readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Heartbeat } from "lastbeat";
import { beforeEach, describe, expect, it } from "vitest";
import { runLastbeat } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-thresholds-");
});

const env = () => ({ LASTBEAT_DIR: dir });
const heartbeat = async (job: string) => JSON.parse(await readFile(join(dir, `${job}.last`), "utf8")) as Heartbeat;
const node = process.execPath;

/** `lastbeat status --json` for the one job in the folder: its exit code, status and reason. */
async function status(extra: string[] = []) {
  const result = await runLastbeat(["status", "--json", ...extra], { env: env() });
  const [job] = (JSON.parse(result.stdout) as { jobs: { status: string; alerting: boolean; reason: string }[] }).jobs;
  return { code: result.code, status: job?.status, alerting: job?.alerting, reason: job?.reason };
}

describe("lastbeat run --alert-after / --recover-after", () => {
  it("a failing job is flaky for two runs, alerts on the third, and recovers after two ok runs", async () => {
    // The interval is long enough that no run here is ever late: only the thresholds decide.
    const run = (code: number) =>
      runLastbeat(["run", "nightly", "--every", "1d", "--alert-after", "3", "--recover-after", "2", "--", node, "-e", `process.exit(${code})`], {
        env: env(),
      });
    const seen = [];
    for (const code of [1, 1, 1, 0, 0]) {
      expect((await run(code)).code).toBe(code);
      seen.push(await status());
    }
    expect(seen).toEqual([
      { code: 0, status: "flaky", alerting: false, reason: "1 of 3 failures before alerting: exit code 1" },
      { code: 0, status: "flaky", alerting: false, reason: "2 of 3 failures before alerting: exit code 1" },
      { code: 1, status: "failed", alerting: true, reason: "last run failed: exit code 1" },
      {
        code: 1,
        status: "failed",
        alerting: true,
        reason: expect.stringMatching(/^recovering: 1 of 2 ok runs before recovery; last failure: exit code 1 at \d{4}-.*Z$/),
      },
      { code: 0, status: "ok", alerting: false, reason: expect.stringMatching(/^next beat due /) },
    ]);
    const beat = await heartbeat("nightly");
    expect(beat).toMatchObject({ alert_after: 3, recover_after: 2 });
    expect(beat.runs?.map((r) => [r.status, r.exit_code])).toEqual([["ok", 0], ["ok", 0], ["fail", 1], ["fail", 1], ["fail", 1]]);
  });

  it("`lastbeat run --alert-after 3 -- false` three times: flaky, flaky, failed", async () => {
    const codes = [];
    for (let i = 0; i < 3; i++) {
      expect((await runLastbeat(["run", "job", "--every", "1d", "--alert-after", "3", "--", "false"], { env: env() })).code).toBe(1);
      codes.push(await status());
    }
    expect(codes.map((s) => [s.code, s.status])).toEqual([
      [0, "flaky"],
      [0, "flaky"],
      [1, "failed"],
    ]);
    // The status table says the same in words.
    const table = await runLastbeat(["status"], { env: env() });
    expect(table.stdout).toMatch(/^job +failed +/m);
  });

  it("a bad value stops `run`'s monitoring, never its command: reported, run, and the job invalid", async () => {
    const result = await runLastbeat(["run", "job", "--every", "1d", "--alert-after", "0", "--", node, "-e", "process.exit(3)"], { env: env() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: option '--alert-after <n>' argument '0' is invalid\. Use a whole number of runs from 1 to 20\./);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    const after = await status();
    expect(after).toMatchObject({ code: 1, status: "invalid", reason: expect.stringContaining("--alert-after") });
    // The run is in the history all the same.
    expect(JSON.parse(await readFile(join(dir, "job.last"), "utf8")).runs).toEqual([expect.objectContaining({ status: "fail", exit_code: 3 })]);
  });
});

describe("lastbeat beat --alert-after / --recover-after", () => {
  it("writes the thresholds; a failing beat below alert_after is flaky (status exits 0)", async () => {
    const beat = await runLastbeat(["beat", "sync", "--every", "1h", "--status", "fail", "--alert-after", "2", "--recover-after", "4"], { env: env() });
    expect(beat).toMatchObject({ code: 0, stderr: "" });
    expect(await heartbeat("sync")).toMatchObject({ alert_after: 2, recover_after: 4, runs: [{ status: "fail" }] });
    expect(await status()).toMatchObject({ code: 0, status: "flaky", alerting: false, reason: "1 of 2 failures before alerting" });
  });

  it.each(["0", "21", "2.5", "x", "-1"])("refuses %s for --alert-after and --recover-after with a usage error naming the flag", async (value) => {
    for (const flag of ["--alert-after", "--recover-after"]) {
      const result = await runLastbeat(["beat", "sync", "--every", "1h", flag, value], { env: env() });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(new RegExp(`^error: option '${flag} <n>' argument '${value.replace(".", "\\.")}' is invalid`));
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it("the manifest's thresholds win over the file's", async () => {
    await runLastbeat(["beat", "sync", "--every", "1h", "--status", "fail", "--alert-after", "2"], { env: env() });
    const manifest = join(dir, "lastbeat.json");
    await writeFile(manifest, JSON.stringify({ jobs: { sync: { every: "1h", alert_after: 1 } } }));
    expect(await status(["--manifest", manifest])).toMatchObject({ code: 1, status: "failed" });
    await writeFile(manifest, JSON.stringify({ jobs: { sync: { every: "1h", alert_after: 5 } } }));
    expect(await status(["--manifest", manifest])).toMatchObject({ code: 0, status: "flaky", reason: "1 of 5 failures before alerting" });
  });
});
