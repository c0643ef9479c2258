import { spawnSync } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { EXIT, LockError, UsageError, exitCodeOf, runCli } from "@lastbeat/cli";
import { ForgeError } from "@lastbeat/forge";
import { LastbeatError } from "lastbeat";
import { beforeEach, describe, expect, it } from "vitest";
import { lastbeatArgs, runCommand } from "../support/cli.js";
import { fakeIo } from "../support/fake-io.js";
import { testdir } from "../support/testdir.js";
import { findLeaks } from "../support/leaks.js";

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-exit-");
});

it("a forge that cannot be reached exits 3 with one line, token never shown, even with LASTBEAT_DEBUG", async () => {
  const token = "gitea-token-0123456789";
  for (const debug of ["0", "1"]) {
    const io = fakeIo({ env: { LASTBEAT_DIR: dir, GITEA_TOKEN: token, LASTBEAT_DEBUG: debug } });
    // Port 1 is refused at once; the retries' backoff goes through the injected sleep.
    const code = await runCli(["check", "--forge", "gitea", "--url", "http://127.0.0.1:1", "--repo", "ops/alerts"], io);
    expect(code).toBe(3);
    expect(io.sleeps()).toEqual([1000, 4000, 9000]);
    expect(io.err().split("\n")[0]).toMatch(/^error: gitea ops\/alerts: .+/);
    if (debug === "0") expect(io.err().trim().split("\n")).toHaveLength(1);
    expect(findLeaks(io.out() + io.err(), token)).toEqual([]);
  }
});

/** What `fn` throws: real errors of the runtime, not hand-made look-alikes. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
}

describe("the error map", () => {
  it.each([
    ["a LastbeatError (the library refused a value)", EXIT.usage, new LastbeatError("E_SCHEDULE", "bad schedule")],
    ["a UsageError (a flag the CLI refuses)", EXIT.usage, new UsageError("--dir can be given only once")],
    ["a ForgeError (the forge could not be synced)", EXIT.forge, new ForgeError("gitea ops/alerts: ECONNREFUSED")],
    ["a LockError (another checker kept the lock)", EXIT.forge, new LockError("another lastbeat check (pid 1 on web-1) still holds /x.lock")],
    ["an operating-system error (it names the path)", EXIT.usage, thrown(() => readFileSync("/nonexistent/lastbeat.json"))],
    ["a TypeError (a bug)", EXIT.bug, new TypeError("Cannot read properties of undefined")],
    ["a Node argument error (a bug, though it has a code)", EXIT.bug, thrown(() => readFileSync(undefined as never))],
    ["a thrown string (a bug)", EXIT.bug, "oops"],
  ])("%s: exit %i", (_, exit, error) => {
    expect(exitCodeOf(error)).toBe(exit);
  });

  it("gives a bug its own exit code, apart from every documented one", () => {
    expect(EXIT).toEqual({ healthy: 0, alerting: 1, usage: 2, forge: 3, bug: 70 });
  });
});

describe("an unexpected throw is a bug, not a usage error", () => {
  // A clock that returns nothing makes `status --json` throw a real TypeError inside lastbeat.
  const brokenClock = (env: Record<string, string> = {}) => ({
    ...fakeIo({ env: { LASTBEAT_DIR: dir, ...env } }),
    now: () => undefined as unknown as Date,
  });

  it("prints one line saying what happened, asks for a report, exits 70", async () => {
    const io = brokenClock();
    expect(await runCli(["status", "--json"], io)).toBe(70);
    expect(io.out()).toBe("");
    expect(io.err()).toMatchInlineSnapshot(`
      "error: bug in lastbeat: TypeError: Cannot read properties of undefined (reading 'toISOString') (please report it with this line and the output of lastbeat --version; LASTBEAT_DEBUG=1 shows where it happened)
      "
    `);
  });

  it("adds the stack trace only with LASTBEAT_DEBUG=1", async () => {
    const io = brokenClock({ LASTBEAT_DEBUG: "1" });
    expect(await runCli(["status", "--json"], io)).toBe(70);
    const [line, ...stack] = io.err().trimEnd().split("\n");
    expect(line).toMatch(/^error: bug in lastbeat: TypeError: /);
    expect(stack[0]).toBe("TypeError: Cannot read properties of undefined (reading 'toISOString')");
    expect(stack[1]).toMatch(/^ {4}at /);
  });

  it("exits 70 from the real bin too, in one line", async () => {
    const fixture = pathToFileURL(fileURLToPath(new URL("./fixtures/no-iso-dates.mjs", import.meta.url))).href;
    const run = await runCommand(process.execPath, ["--import", fixture, ...lastbeatArgs(["status", "--json", "--now", "2025-01-31T06:00:00Z"])], {
      env: { LASTBEAT_DIR: dir },
    });
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 70, stdout: "" });
    expect(run.stderr).toMatch(/^error: bug in lastbeat: TypeError: [^\n]+ \(please report it with this line[^\n]+\)\n$/);
  });
});

describe("--out of report and metrics: one writer", () => {
  it.each([["report"], ["metrics"]])("%s --out into a missing folder: exit 2, one line naming the file", async (command) => {
    const io = fakeIo({ env: { LASTBEAT_DIR: dir }, cwd: dir });
    expect(await runCli([command, "--now", "2025-01-31T06:00:00Z", "--out", "no/such/folder/out"], io)).toBe(2);
    expect(io.err()).toBe(`error: cannot write --out ${join(dir, "no/such/folder/out")}: no such file or directory (ENOENT)\n`);
  });
});

describe("stdout that cannot be written", () => {
  /** The real bin with stdout on /dev/full (every write fails with ENOSPC), or on a pipe nobody reads. */
  function intoFull(args: string[]): { code: number | null; stderr: string } {
    const full = openSync("/dev/full", "w");
    try {
      const run = spawnSync(process.execPath, lastbeatArgs(args), { env: { ...process.env, LASTBEAT_DIR: dir }, stdio: ["ignore", full, "pipe"], encoding: "utf8" });
      return { code: run.status, stderr: run.stderr };
    } finally {
      closeSync(full);
    }
  }

  it.each([
    [["metrics"]],
    [["status"]],
    [["status", "--json"]],
    [["report", "--format", "text"]],
  ])("lastbeat %j on a full disk: exit 2, one line saying so, never 'written'", (args) => {
    const run = intoFull([...args, "--now", "2025-01-31T06:00:00Z"]);
    expect(run).toEqual({ code: 2, stderr: "error: cannot write to standard output: no space left on device (ENOSPC)\n" });
  });

  it("keeps run's exit code its command's, and a reader that went away (EPIPE) is no error", async () => {
    expect(intoFull(["run", "job", "--every", "1h", "--", "sh", "-c", "echo hello; exit 3"]).code).toBe(3);
    // 2,000 jobs' metrics (~2 MB) overflow the pipe, so `head` going away is seen by the writer.
    const at = "2025-01-31T05:59:00Z";
    for (let i = 0; i < 2000; i++) {
      writeFileSync(join(dir, `job-${i}.last`), JSON.stringify({ format: "lastbeat/1", job: `job-${i}`, status: "ok", at, interval_s: 3600 }));
    }
    const closed = await runCommand("sh", ["-c", `${JSON.stringify(process.execPath)} ${lastbeatArgs(["metrics", "--now", "2025-01-31T06:00:00Z"]).map((a) => JSON.stringify(a)).join(" ")} | head -c 1 >/dev/null`], {
      env: { LASTBEAT_DIR: dir },
    });
    expect(closed).toMatchObject({ code: 0, stderr: "" });
  });
});

describe("an empty path (an unset variable in a cron line)", () => {
  // `--dir "$HB_DIR"` with HB_DIR unset would be the working folder, cron's is the home folder:
  // "No heartbeat files found", exit 0, every alert silenced.
  it.each([
    [["status", "--dir", ""], "--dir <path>"],
    [["check", "--forge", "none", "--dir", "hb", "--dir", ""], "--dir <path>"],
    [["beat", "backup", "--every", "5m", "--dir", ""], "--dir <path>"],
    [["metrics", "--out", ""], "--out <file.prom>"],
    [["report", "--out", ""], "--out <file>"],
    [["status", "--manifest", ""], "--manifest <file>"],
    [["check", "--forge", "file", "--repo", ""], "--repo <repo>"],
    [["check", "--forge", "gitea", "--repo", "ops/alerts", "--url", ""], "--url <url>"],
    [["status", "--crontab", ""], "--crontab <file>"],
    [["discover", "--crontab", ""], "--crontab <file>"],
    [["init", "--dir", ""], "--dir <folder>"],
  ])("%j is a usage error naming the flag, and nothing is read or written", async (args, flag) => {
    const io = fakeIo({ env: { LASTBEAT_DIR: dir }, cwd: dir });
    expect(await runCli(args, io)).toBe(EXIT.usage);
    expect(io.err()).toBe(`error: option '${flag}' argument '' is invalid. It is empty: is the variable that should give it unset?\n`);
    expect(io.out()).toBe("");
    expect(readdirSync(dir)).toEqual([]);
  });
});
