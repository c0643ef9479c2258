import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Heartbeat } from "lastbeat";
import { beforeEach, describe, expect, it, onTestFinished } from "vitest";
import { lastbeatArgs, repoRoot, runLastbeat } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-run-");
});

const node = process.execPath;
const env = () => ({ LASTBEAT_DIR: dir });
const heartbeat = async (job: string) => JSON.parse(await readFile(join(dir, `${job}.last`), "utf8")) as Heartbeat;

/** `lastbeat run <job> --every 5m … -- node -e <script>` as a real child process. */
function run(job: string, script: string, flags: string[] = []) {
  return runLastbeat(["run", job, "--every", "5m", ...flags, "--", node, "-e", script], { env: env() });
}

/** The same, but started by hand so the test can talk to it while it runs. */
function start(job: string, script: string, flags: string[] = []): ChildProcess & { output: Promise<string> } {
  const child = spawn(node, lastbeatArgs(["run", job, "--every", "5m", ...flags, "--", node, "-e", script]), {
    cwd: repoRoot,
    env: { ...process.env, ...env() },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  const output = new Promise<string>((resolve) => child.on("close", () => resolve(out)));
  return Object.assign(child, { output });
}

/** Resolves when the child has printed `text` on stdout: synchronisation by pipe, not by clock. */
function printed(child: ChildProcess, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = "";
    child.stdout!.on("data", (d: Buffer | string) => {
      seen += d.toString();
      if (seen.includes(text)) resolve();
    });
    child.on("close", () => reject(new Error(`exited before printing ${text}: ${seen}`)));
  });
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal })),
  );

describe("lastbeat run", () => {
  it.each([0, 1, 42])("passes exit code %i through and records it", async (exitCode) => {
    const result = await run("job", `console.log("out"); console.error("err"); process.exit(${exitCode})`);
    expect(result.code).toBe(exitCode);
    expect(result.stdout).toBe("out\n");
    expect(result.stderr).toBe("err\n");
    const beat = await heartbeat("job");
    expect(beat).toMatchObject({ job: "job", status: exitCode === 0 ? "ok" : "fail", exit_code: exitCode, interval_s: 300 });
    expect(beat.output_tail).toMatch(/^(out\nerr\n|err\nout\n)$/);
    expect(beat.duration_ms).toBeGreaterThanOrEqual(0);
    expect(beat.started_at).toBeDefined();
    expect(beat.run_id).toMatch(/^[0-9a-f-]{36}$/);
    if (exitCode === 0) expect(beat.last_ok_at).toBe(beat.at);
    else expect(beat.message).toBe(`exit code ${exitCode}`);
  });

  it("keeps the end of output larger than 4 KiB, byte-exact on stdout", async () => {
    const script = `for (let i = 0; i < 2000; i++) process.stdout.write("line " + i + " é\\n"); process.stdout.write("THE END\\n")`;
    const result = await run("big", script);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")).toHaveLength(2002);
    const tail = (await heartbeat("big")).output_tail!;
    expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(4096);
    expect(Buffer.byteLength(tail)).toBeGreaterThan(4000);
    expect(tail.endsWith("line 1999 é\nTHE END\n")).toBe(true);
    expect(tail).not.toContain("line 0 é");
    expect(tail).not.toContain("\uFFFD");
  });

  it("backpressure: while our reader is slow the command waits for it; its output arrives byte-exact", async () => {
    const MiB = 1 << 20;
    const chunks = 64;
    // 64 MiB of a pattern that is not UTF-8, then "wrote all" on stderr once every write returned.
    const script = `const b = Buffer.alloc(${MiB}); for (let i = 0; i < b.length; i++) b[i] = (i * 7 + 3) & 255;
      let n = 0; const w = () => { while (n < ${chunks}) { n++; if (!process.stdout.write(b)) return process.stdout.once("drain", w); } process.stderr.write("wrote all\\n"); }; w();`;
    const child = spawn(node, lastbeatArgs(["run", "big", "--every", "5m", "--", node, "-e", script]), {
      cwd: repoRoot,
      env: { ...process.env, ...env() },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let consumed = 0;
    let consumedWhenDone: number | undefined;
    const hash = createHash("sha256");
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      if (d.includes("wrote all")) consumedWhenDone ??= consumed;
    });
    // A slow reader: one buffered chunk per timer tick. What it proves holds at any pace.
    const readSlowly = new Promise<void>((resolve) => {
      const step = () => {
        const chunk = child.stdout.read() as Buffer | null;
        if (chunk) {
          hash.update(chunk);
          consumed += chunk.length;
        }
        if (child.stdout.readableEnded) resolve();
        else setTimeout(step, 1);
      };
      child.stdout.once("end", () => resolve());
      step();
    });
    const [{ code }] = await Promise.all([exited(child), readSlowly]);
    expect(code).toBe(0);
    const expected = Buffer.alloc(MiB);
    for (let i = 0; i < expected.length; i++) expected[i] = (i * 7 + 3) & 255;
    const whole = createHash("sha256");
    for (let i = 0; i < chunks; i++) whole.update(expected);
    expect(consumed).toBe(chunks * MiB);
    expect(hash.digest("hex")).toBe(whole.digest("hex"));
    // The command could finish writing only once nearly all of it had reached the reader: what
    // sat in between (pipes, stream buffers, the command's own last write) is a few MiB at most.
    expect(consumedWhenDone).toBeGreaterThanOrEqual((chunks - 4) * MiB);
  });

  it("duration_ms ends when the command exits, not when a background child it left lets go of the pipes", async () => {
    // The background sleep holds our pipes; `run` stops reading them after 2 s of silence.
    const result = await runLastbeat(["run", "job", "--every", "5m", "--", "sh", "-c", "sleep 4 & echo started"], { env: env() });
    expect(result).toMatchObject({ code: 0, stdout: "started\n" });
    const beat = await heartbeat("job");
    const wholeRunMs = Date.parse(beat.at) - Date.parse(beat.started_at!);
    expect(beat.duration_ms!).toBeLessThanOrEqual(wholeRunMs - 1900);
  });

  it("a missing command is a fail beat and exit 127", async () => {
    const result = await runLastbeat(["run", "job", "--every", "5m", "--", "no-such-command-lastbeat"], { env: env() });
    expect(result.code).toBe(127);
    expect(result.stderr).toBe("lastbeat: no-such-command-lastbeat: command not found\n");
    expect(await heartbeat("job")).toMatchObject({
      status: "fail",
      exit_code: 127,
      message: "no-such-command-lastbeat: command not found",
    });
  });

  it("a command that is not executable is a fail beat and exit 126", async () => {
    const script = join(dir, "script.sh");
    await writeFile(script, "#!/bin/sh\necho hi\n");
    await chmod(script, 0o644);
    const result = await runLastbeat(["run", "job", "--every", "5m", "--", script], { env: env() });
    expect(result.code).toBe(126);
    expect(await heartbeat("job")).toMatchObject({ status: "fail", exit_code: 126 });
  });

  it("a command killed by a signal exits 128+n and the beat records the signal", async () => {
    const result = await run("job", `console.log("before"); process.kill(process.pid, "SIGKILL")`);
    expect(result.code).toBe(137);
    expect(await heartbeat("job")).toMatchObject({
      status: "fail",
      exit_code: 137,
      signal: "SIGKILL",
      message: "killed by SIGKILL",
      output_tail: "before\n",
    });
  });

  it("forwards SIGTERM to the command and records it", async () => {
    const child = start("job", `console.log("ready"); setInterval(() => {}, 1000)`);
    await printed(child, "ready");
    expect((await heartbeat("job")).status).toBe("start");
    child.kill("SIGTERM");
    expect(await exited(child)).toEqual({ code: 143, signal: null });
    expect(await heartbeat("job")).toMatchObject({
      status: "fail",
      exit_code: 143,
      signal: "SIGTERM",
      message: "killed by SIGTERM (forwarded to the command)",
    });
  });

  // The command waits for its stdin (the test's pipe) to end: a command a broken wrapper left
  // behind ends with the test.
  const untilStdinEnds = `process.stdin.resume(); process.stdin.on("end", () => process.exit(0)); console.log("ready")`;

  /** `start`, with the wrapper's stderr; its stdin ends when the test does. */
  function startWatched(script: string) {
    const child = start("job", script);
    let err = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      err += d;
      // Node's own SIGUSR1 handling: the wrapper and its command would wait on; end them now.
      if (err.includes("Debugger listening")) child.stdin!.end();
    });
    onTestFinished(() => {
      child.stdin!.end();
    });
    return Object.assign(child, { err: () => err });
  }

  it.each(["SIGUSR1", "SIGUSR2", "SIGWINCH"] as const)(
    "passes %s on to the command (no debugger opens, the wrapper lives on); the beat has the command's own exit code",
    async (signal) => {
      const child = startWatched(`process.on("${signal}", () => { console.log("got ${signal}"); process.exit(8) }); ${untilStdinEnds}`);
      await printed(child, "ready");
      child.kill(signal);
      expect(await exited(child)).toEqual({ code: 8, signal: null });
      expect(await child.output).toBe(`ready\ngot ${signal}\n`);
      expect(child.err()).toBe("");
      const beat = await heartbeat("job");
      expect(beat).toMatchObject({ status: "fail", exit_code: 8, message: "exit code 8", output_tail: `ready\ngot ${signal}\n` });
      expect(beat.signal).toBeUndefined();
    },
    20_000,
  );

  it("a command that SIGUSR2 kills (Node's default) exits 140, recorded as forwarded", async () => {
    const child = startWatched(untilStdinEnds);
    await printed(child, "ready");
    child.kill("SIGUSR2");
    expect(await exited(child)).toEqual({ code: 140, signal: null });
    expect(child.err()).toBe("");
    expect(await heartbeat("job")).toMatchObject({
      status: "fail",
      exit_code: 140,
      signal: "SIGUSR2",
      message: "killed by SIGUSR2 (forwarded to the command)",
    });
  }, 20_000);

  it("passes LASTBEAT_JOB and LASTBEAT_RUN_ID to the command, and redacts tokens in the tail", async () => {
    const token = "fake-token-0123456789abcdef";
    const result = await runLastbeat(
      ["run", "job", "--every", "5m", "--", node, "-e", "console.log(process.env.LASTBEAT_JOB, process.env.LASTBEAT_RUN_ID, process.env.GITHUB_TOKEN)"],
      { env: { ...env(), GITHUB_TOKEN: token } },
    );
    const beat = await heartbeat("job");
    expect(result.stdout).toBe(`job ${beat.run_id} ${token}\n`);
    expect(beat.output_tail).toBe(`job ${beat.run_id} ***\n`);
  });
});

describe("lastbeat run: its own usage errors never stop the job after --", () => {
  const marker = () => join(dir, "ran");
  const job = `require("fs").writeFileSync(${JSON.stringify(join("DIR", "ran"))}.replace("DIR", process.env.MARKER_DIR), ""); process.exit(3)`;
  const runRaw = async (args: string[]) => {
    const cwd = await testdir("lastbeat-run-cwd-");
    const result = await runLastbeat(["run", ...args, "--", node, "-e", job], { env: { ...env(), MARKER_DIR: dir }, cwd });
    expect(await readdir(cwd)).toEqual([]);
    return result;
  };
  const statusOf = async (name: string) => {
    const status = await runLastbeat(["status", "--json"], { env: env() });
    return (JSON.parse(status.stdout).jobs as { job: string; status: string; alerting: boolean; reason: string }[]).find((j) => j.job === name);
  };

  it.each([
    [["backup", "--evry", "1d"], "error: unknown option '--evry' (Did you mean --every?)\n", /bad flags: unknown option '--evry'/],
    [["backup", "--every", "5x"], /^error: option '--every <duration>' argument '5x' is invalid\. .*\n$/, /bad flags: option '--every <duration>' argument '5x' is invalid/],
    [["backup", "--every", "1d", "--schedule", "not a cron"], /^error: schedule "not a cron" must have 5 fields .* \(the command runs anyway; backup is reported invalid until this is fixed\)\n$/, /bad flags: schedule "not a cron"/],
    [["backup", "--grace", "2h"], "error: required option '--every <duration> (or --schedule <cron>)' not specified (the command runs anyway; backup is reported invalid until this is fixed)\n", /bad flags: required option '--every <duration> \(or --schedule <cron>\)'/],
    // `--dir "$HB_DIR"` with the variable unset: the error beat goes where the checker reads
    // ($LASTBEAT_DIR here), never into the working folder (cron's is the home folder).
    [["backup", "--every", "1d", "--dir", ""], /^error: option '--dir <path>' argument '' is invalid\. .*\n$/, /bad flags: option '--dir <path>' argument '' is invalid/],
  ])("lastbeat run %j -- <command>: one line on stderr, the command runs, its exit code passes through, the job is invalid", async (args, stderr, reason) => {
    const result = await runRaw(args);
    expect(result.code).toBe(3);
    if (typeof stderr === "string") expect(result.stderr).toBe(stderr);
    else expect(result.stderr).toMatch(stderr);
    await readFile(marker());
    expect(await heartbeat("backup")).toMatchObject({ job: "backup", status: "fail", exit_code: 3 });
    const state = await statusOf("backup");
    expect(state).toMatchObject({ status: "invalid", alerting: true });
    expect(state!.reason).toMatch(reason);

    // Fixed flags: the next run's beat replaces the error.
    expect((await runRaw(["backup", "--every", "1d"])).code).toBe(3);
    expect(await statusOf("backup")).toMatchObject({ status: "failed" });
  });

  it("a job name left out is named as such; the command still runs and passes its exit code", async () => {
    const result = await runLastbeat(["run", "--every", "1d", "--", node, "-e", job], { env: { ...env(), MARKER_DIR: dir } });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      "error: missing the job name: lastbeat run <job> --every <duration>|--schedule <cron> -- <command> [args…] (the command runs anyway; no heartbeat is written)\n",
    );
    expect(await readdir(dir)).toEqual(["ran"]);
  });

  it("without --, a usage error stays exit 2 and nothing runs", async () => {
    const result = await runLastbeat(["run", "backup", "--evry", "1d", node, "-e", job], { env: { ...env(), MARKER_DIR: dir } });
    expect(result).toMatchObject({ code: 2, stderr: "error: unknown option '--evry' (Did you mean --every?)\n" });
    expect(await readdir(dir)).toEqual([]);
  });
});

describe("lastbeat run: a heartbeat it cannot write never stops the job, and is said once", () => {
  const script = `console.log("ran"); process.exit(3)`;
  const consequence = (job: string) => `(the command runs anyway; its beats are not recorded, so ${job} turns stale or stays missing until this is fixed)`;

  /** `runLastbeat`, but the wrapper is killed when the test ends: a wrapper that hangs cannot outlive it. */
  function runBounded(args: string[]) {
    const child = spawn(node, lastbeatArgs(args), { cwd: repoRoot, env: { ...process.env, ...env() }, stdio: ["ignore", "pipe", "pipe"] });
    onTestFinished(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    return exited(child).then(({ code }) => ({ code, stdout, stderr }));
  }

  // mkdir(2) says ENOENT for any new name in /proc although /proc exists: Node's recursive mkdir
  // retried that forever at 100% CPU, and the command never ran.
  it.skipIf(!existsSync("/proc/self"))("a --dir under /proc: one line, the command runs, its exit code passes through", async () => {
    const result = await runBounded(["run", "job", "--every", "1h", "--dir", "/proc/lastbeat-test/hb", "--", node, "-e", script]);
    expect(result).toEqual({
      code: 3,
      stdout: "ran\n",
      stderr: `lastbeat: job: cannot create heartbeat folder /proc/lastbeat-test/hb: /proc takes no new folders (mkdir /proc/lastbeat-test says ENOENT) ${consequence("job")}\n`,
    });
  }, 20_000);

  it("a --dir that is a file: one line (not one per beat), and the job is not called invalid", async () => {
    const file = join(dir, "file");
    await writeFile(file, "");
    const result = await runBounded(["run", "job", "--every", "1h", "--dir", file, "--", node, "-e", script]);
    expect(result).toEqual({
      code: 3,
      stdout: "ran\n",
      stderr: `lastbeat: job: cannot create heartbeat folder ${file}: it exists and is not a folder (EEXIST) ${consequence("job")}\n`,
    });
  });

  it("a folder it refuses (world-writable, no sticky bit): one line for both beats", async () => {
    const open = join(dir, "open");
    await mkdir(open);
    await chmod(open, 0o777);
    const result = await runBounded(["run", "job", "--every", "1h", "--dir", open, "--", node, "-e", script]);
    expect(result).toEqual({
      code: 3,
      stdout: "ran\n",
      stderr: `lastbeat: job: refusing heartbeat folder ${open}: it is world-writable without the sticky bit (chmod o-w or +t) ${consequence("job")}\n`,
    });
    expect(await readdir(open)).toEqual([]);
  });

  it("bad flags and a folder it cannot use: one line each; no beat says invalid, so the flag line does not", async () => {
    const file = join(dir, "file");
    await writeFile(file, "");
    const result = await runBounded(["run", "job", "--every", "1h", "--schedule", "nope", "--dir", file, "--", node, "-e", script]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("ran\n");
    expect(result.stderr).toBe(
      `error: schedule "nope" must have 5 fields (minute hour day-of-month month day-of-week) (the command runs anyway)\n` +
        `lastbeat: job: cannot create heartbeat folder ${file}: it exists and is not a folder (EEXIST) ${consequence("job")}\n`,
    );
  });

  it("a final beat that fails after the start beat was written says what the job shows", async () => {
    // The command puts a folder where its heartbeat goes: the start beat is there, the end cannot be.
    const file = join(dir, "job.last");
    const result = await runBounded(["run", "job", "--every", "1h", "--", node, "-e", `const fs = require("fs"); fs.rmSync(${JSON.stringify(file)}); fs.mkdirSync(${JSON.stringify(file)})`]);
    expect(result).toEqual({
      code: 0,
      stdout: "",
      stderr: `lastbeat: job: refusing to write heartbeat ${file}: it is not a regular file (the end of this run is not recorded, so job shows as running and then overrun until this is fixed)\n`,
    });
  });
});

describe("lastbeat run --no-overlap", () => {
  // The first run blocks until the test closes its stdin (inherited by the command).
  const waitForStdin = `console.log("ready"); process.stdin.resume(); process.stdin.on("end", () => process.exit(0))`;

  it("skips while the previous run is alive, records it, and runs again once it is done", async () => {
    const first = start("job", waitForStdin, ["--no-overlap"]);
    await printed(first, "ready");
    const running = await heartbeat("job");
    expect(running).toMatchObject({ status: "start", pid: first.pid });

    const marker = join(dir, "second-ran");
    const second = await run("job", `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`, ["--no-overlap"]);
    expect(second.code).toBe(0);
    expect(second.stderr).toMatch(/^lastbeat: job: skipped the run at .*: the previous run \(pid \d+ on .*\) is still running\n$/);
    await expect(readFile(marker)).rejects.toThrow();
    const skipped = await heartbeat("job");
    expect(skipped).toMatchObject({ status: "start", pid: first.pid, run_id: running.run_id, started_at: running.started_at });
    expect(skipped.message).toMatch(/^skipped the run at /);

    first.stdin!.end();
    expect(await exited(first)).toEqual({ code: 0, signal: null });
    expect(await heartbeat("job")).toMatchObject({ status: "ok", run_id: running.run_id });

    const third = await run("job", `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`, ["--no-overlap"]);
    expect(third.code).toBe(0);
    await readFile(marker);
    expect((await readdir(dir)).filter((name) => name.includes(".lock"))).toEqual([]);
  });

  it("20 simultaneous starts run the command exactly once", async () => {
    const counter = join(dir, "counter");
    const script = `require("fs").appendFileSync(${JSON.stringify(counter)}, "x"); ${waitForStdin}`;
    const runs = Array.from({ length: 20 }, () => start("job", script, ["--no-overlap"]));
    const results = runs.map((child) => exited(child));
    // Everyone but the winner skips and exits on its own; the winner waits for its stdin. Each
    // process says what it did on stderr: 19 say they skipped, and the one still running did not.
    const stderrOf = runs.map((child) => {
      let err = "";
      child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
      return () => err;
    });
    const closed = await new Promise<number[]>((resolve) => {
      const order: number[] = [];
      runs.forEach((child, i) => child.on("close", () => order.push(i) === 19 && resolve([...order])));
    });
    expect(closed.map((i) => stderrOf[i]!()).filter((err) => /skipped the run at .*still running/.test(err))).toHaveLength(19);
    const winner = runs.findIndex((_, i) => !closed.includes(i));
    expect(stderrOf[winner]!()).not.toMatch(/skipped/);
    for (const child of runs) child.stdin!.end();
    const codes = await Promise.all(results);
    expect(codes.every((r) => r.code === 0)).toBe(true);
    expect(await readFile(counter, "utf8")).toBe("x");
    expect(await heartbeat("job")).toMatchObject({ status: "ok" });
  });

  it("a lock whose pid now belongs to another process (pid 1 after a reboot) is replaced, and stderr says so", async () => {
    const { hostname } = await import("node:os");
    const host = hostname();
    const lock = join(dir, `.job@${host.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
    // Written before a restart: the same pid is alive now, but it is not the run that took the lock.
    await writeFile(lock, JSON.stringify({ pid: 1, host, at: "2025-01-01T00:00:00.000Z", run_id: "old", start_ticks: -1, boot_id: "before-the-reboot" }));
    const result = await run("job", `console.log("ran")`, ["--no-overlap"]);
    expect(result).toMatchObject({ code: 0, stdout: "ran\n" });
    expect(result.stderr).toMatch(/^lastbeat: job: replaced a stale lock .*\(pid 1 on .*, taken 2025-01-01T00:00:00.000Z\): (the machine has restarted since it was taken|pid 1 now belongs to another process)\n$/);
    expect((await readdir(dir)).filter((name) => name.includes(".lock"))).toEqual([]);
  });

  it("a hung run stays overrun while later runs are skipped (deadline from its own start)", async () => {
    const first = start("job", waitForStdin, ["--no-overlap"]);
    await printed(first, "ready");
    const running = await heartbeat("job");
    const second = await run("job", `console.log("never")`, ["--no-overlap"]);
    expect(second).toMatchObject({ code: 0, stdout: "" });
    const skipped = await heartbeat("job");
    expect(skipped.started_at).toBe(running.started_at);
    // Ten minutes and a millisecond after the hung run's start: past its grace (2 × 5m).
    const after = new Date(Date.parse(running.started_at!) + 600_001).toISOString();
    const status = await runLastbeat(["status", "--json", "--now", after], { env: env() });
    const [job] = JSON.parse(status.stdout).jobs;
    expect(job).toMatchObject({ job: "job", status: "overrun", alerting: true });
    expect(job.reason).toMatch(/skipped the run/);
    first.stdin!.end();
    await exited(first);
  });

  it("a hung run past --max-runtime is not taken over while its process lives: later runs skip, and it stays overrun until it ends", async () => {
    const flags = ["--no-overlap", "--max-runtime", "1s"];
    const first = start("job", waitForStdin, flags);
    await printed(first, "ready");
    const running = await heartbeat("job");
    // Let its lock grow older than --max-runtime: the age at which an unverifiable holder is replaced.
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const marker = join(dir, "second-ran");
    const second = await run("job", `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`, flags);
    expect(second).toMatchObject({ code: 0, stdout: "" });
    expect(second.stderr).toMatch(
      /^lastbeat: job: skipped the run at .*: the previous run \(pid \d+ on .*\) is still running, past its --max-runtime 1s: overrun until it ends or is killed\n$/,
    );
    await expect(readFile(marker)).rejects.toThrow();
    const skipped = await heartbeat("job");
    expect(skipped).toMatchObject({ status: "start", run_id: running.run_id, started_at: running.started_at });
    const status = await runLastbeat(["status", "--json"], { env: env() });
    expect(JSON.parse(status.stdout).jobs[0]).toMatchObject({ job: "job", status: "overrun", alerting: true });
    expect(JSON.parse(status.stdout).jobs[0].reason).toMatch(/past its --max-runtime 1s/);

    first.stdin!.end();
    expect(await exited(first)).toEqual({ code: 0, signal: null });
    expect(await heartbeat("job")).toMatchObject({ status: "ok", run_id: running.run_id });
    const third = await run("job", `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`, flags);
    expect(third).toMatchObject({ code: 0, stderr: "" });
    await readFile(marker);
    expect((await readdir(dir)).filter((name) => name.includes(".lock"))).toEqual([]);
  });

  it("breaks the lock of a run that died without releasing it", async () => {
    const { hostname } = await import("node:os");
    const host = hostname();
    // A pid that no longer exists: a process we started and waited for.
    const dead = spawn(node, ["-e", ""]);
    await exited(dead);
    const lock = join(dir, `.job@${host.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
    await writeFile(lock, JSON.stringify({ pid: dead.pid, host, run_id: "old", started_at: "2025-01-01T00:00:00Z" }));
    const result = await run("job", `console.log("ran")`, ["--no-overlap"]);
    expect(result).toMatchObject({ code: 0, stdout: "ran\n" });
    expect((await readdir(dir)).filter((name) => name.includes(".lock"))).toEqual([]);
  });

  it("a lock it cannot take runs nothing but never goes unseen: one line, exit 3, and a fail beat the checker alerts on", async () => {
    const { hostname } = await import("node:os");
    // A folder where the lock file goes: neither readable as a lock nor removable as a stale one.
    const lock = join(dir, `.job@${hostname().replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
    await mkdir(lock);
    await writeFile(join(lock, "keep"), "");
    const result = await run("job", `console.log("ran")`, ["--no-overlap"]);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^lastbeat: job: not run: --no-overlap could not take its lock \(.+\)\n$/);
    const beat = await heartbeat("job");
    expect(beat).toMatchObject({ status: "fail" });
    expect(beat.message).toMatch(/^not run: --no-overlap could not take its lock/);
    const status = await runLastbeat(["status", "--json"], { env: env() });
    expect(JSON.parse(status.stdout).jobs[0]).toMatchObject({ job: "job", status: "failed", alerting: true });
  });
});

describe("run between its command and its beats", () => {
  // The window is milliseconds wide around a real run; holdingSignals, which covers all of `run`,
  // is tried in a process of its own: a USR1 or USR2 there must not end it (Node would fall back
  // to the system's default once the forwarding listener is gone: exit by signal).
  const script = (hold: boolean) => `
    const { holdingSignals } = await import(${JSON.stringify(join(repoRoot, "packages/cli/src/commands/run.ts"))});
    const work = async () => {
      process.kill(process.pid, "SIGUSR2");
      process.kill(process.pid, "SIGUSR1");
      await new Promise((resolve) => setImmediate(resolve)); // a turn for the held signals' events
    };
    await (${hold} ? holdingSignals(work) : work());
    process.stdout.write("survived");`;
  const inChild = (hold: boolean) =>
    new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ["--conditions=lastbeat-source", "--import", "tsx", "--input-type=module", "-e", script(hold)], { cwd: repoRoot });
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.on("close", (code, signal) => resolve({ code, signal, stdout }));
    });

  it("holds USR1 and USR2: they neither kill the wrapper nor open Node's inspector", async () => {
    expect(await inChild(true)).toEqual({ code: 0, signal: null, stdout: "survived" });
    expect(await inChild(false)).toMatchObject({ signal: "SIGUSR2", stdout: "" });
  });
});
