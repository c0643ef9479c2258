import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { lastbeatArgs, repoRoot, runLastbeat } from "../../support/cli.js";
import { sharedTempDir } from "../../support/tmpfs.js";

/*
 * Drill: 20 `lastbeat run --no-overlap` of one job started together. The command appends to a
 * file, says RUNNING and then waits on its stdin (the test's pipe, passed through by `run`), so
 * it stays alive until every other run has either exited or is itself running: no sleeps, and a
 * broken lock shows as two lines in the file instead of a hang.
 */

const STORM = 20;

interface Started {
  child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  code: number | null;
  running: boolean;
  closed: Promise<void>;
}

function startRun(dir: string, log: string, onChange: () => void): Started {
  const child = spawn(
    process.execPath,
    lastbeatArgs(["run", "storm", "--every", "5m", "--no-overlap", "--dir", dir, "--", "sh", "-c", `echo "$LASTBEAT_RUN_ID" >> '${log}'; echo RUNNING; read line; echo done`]),
    { cwd: repoRoot, env: { ...process.env, NO_COLOR: "1" }, stdio: ["pipe", "pipe", "pipe"] },
  );
  const started: Started = { child, stdout: "", stderr: "", code: null, running: false, closed: Promise.resolve() };
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    started.stdout += d;
    if (!started.running && started.stdout.includes("RUNNING\n")) {
      started.running = true;
      onChange();
    }
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => (started.stderr += d));
  started.closed = new Promise((resolve) =>
    child.on("close", (code) => {
      started.code = code;
      resolve();
      onChange();
    }),
  );
  return started;
}

let tmp: { dir: string; cleanup: () => void };
let dir: string;
let log: string;

beforeEach(() => {
  tmp = sharedTempDir();
  dir = join(tmp.dir, "heartbeats");
  mkdirSync(dir);
  log = join(tmp.dir, "ran.log");
});
afterEach(() => tmp.cleanup());

describe("drill: overlap storm", () => {
  it("20 lastbeat run --no-overlap of the same job started together run the command exactly once; the heartbeat is consistent", async () => {
    const runs: Started[] = [];
    let released = false;
    const check = () => {
      if (released || runs.length < STORM) return;
      const settled = runs.filter((r) => r.code !== null || r.running).length;
      if (settled === STORM) {
        released = true;
        for (const r of runs) r.child.stdin.end();
      }
    };
    for (let i = 0; i < STORM; i++) runs.push(startRun(dir, log, check));
    check();
    await Promise.all(runs.map((r) => r.closed));

    const ranIds = readFileSync(log, "utf8").trimEnd().split("\n");
    expect(ranIds).toHaveLength(1);
    const runners = runs.filter((r) => r.running);
    expect(runners).toHaveLength(1);
    expect(runs.map((r) => r.code)).toEqual(Array(STORM).fill(0));
    const skipped = runs.filter((r) => !r.running);
    for (const r of skipped) {
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/skipped the run/);
      expect(r.stderr.trimEnd().split("\n")).toHaveLength(1);
    }

    const heartbeat = JSON.parse(readFileSync(join(dir, "storm.last"), "utf8"));
    expect(heartbeat).toMatchObject({
      format: "lastbeat/1",
      job: "storm",
      status: "ok",
      exit_code: 0,
      run_id: ranIds[0],
      pid: runners[0]!.child.pid,
      output_tail: "RUNNING\ndone\n",
    });
    expect(heartbeat.last_ok_at).toBe(heartbeat.at);
    // No lock, mutex or temp file is left behind.
    expect(readdirSync(dir)).toEqual(["storm.last"]);

    const status = await runLastbeat(["status", "--json", "--dir", dir, "--now", heartbeat.at]);
    expect(JSON.parse(status.stdout).jobs).toMatchObject([{ job: "storm", status: "ok" }]);
  });

  it("a lock left by a run killed with SIGKILL does not block the next run", async () => {
    let resolveRunning!: () => void;
    const running = new Promise<void>((r) => (resolveRunning = r));
    const first = startRun(dir, log, () => {
      if (first?.running) resolveRunning();
    });
    await running;
    first.child.kill("SIGKILL");
    // The orphaned command still reads the test's pipe: let it finish.
    first.child.stdin.end();
    await first.closed;
    expect(readdirSync(dir).some((f) => f.endsWith(".lock"))).toBe(true);

    const next = await runLastbeat(["run", "storm", "--every", "5m", "--no-overlap", "--dir", dir, "--", "sh", "-c", `echo next >> '${log}'`]);
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/^lastbeat: storm: replaced a stale lock .*\.lock \(pid \d+ on .*\): its process \(pid \d+\) is gone\n$/);
    expect(readFileSync(log, "utf8").trimEnd().split("\n")).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(dir, "storm.last"), "utf8"))).toMatchObject({ status: "ok", exit_code: 0 });
    expect(readdirSync(dir)).toEqual(["storm.last"]);
  });
});
