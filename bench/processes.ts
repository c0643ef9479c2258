import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { elapsedMs } from "./stats.js";

export interface Command {
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Exit codes that count as success (status exits 1 when a job is alerting). */
  okCodes?: readonly number[];
  /** runProcess: send stdout to /dev/null instead of returning it (a fleet's JSON is hundreds of MiB). */
  discardStdout?: boolean;
}

let devNull: number | undefined;

/**
 * Wall time of one whole process, spawn to exit, stdout discarded at /dev/null (no pipe for the
 * parent to drain, so a large `--json` costs the child its write and nothing else).
 */
export function timeProcess(cmd: Command): number {
  devNull ??= openSync("/dev/null", "w");
  const start = process.hrtime.bigint();
  const result = spawnSync(cmd.command, cmd.args, {
    env: cmd.env ?? process.env,
    stdio: ["ignore", devNull, "pipe"],
    maxBuffer: 16 * 1024 * 1024,
  });
  const ms = elapsedMs(start);
  assertExit(cmd, result.status, result.signal, result.error, String(result.stderr ?? ""));
  return ms;
}

/** Runs a process to completion and returns its output (for set-up steps, not timed). */
export function runProcess(cmd: Command): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(cmd.command, cmd.args, {
    env: cmd.env ?? process.env,
    encoding: "utf8",
    stdio: ["ignore", cmd.discardStdout ? "ignore" : "pipe", "pipe"],
    maxBuffer: 256 * 1024 * 1024,
  });
  assertExit(cmd, result.status, result.signal, result.error, result.stderr ?? "");
  return { status: result.status, stdout: result.stdout ?? "", stderr: result.stderr };
}

function assertExit(cmd: Command, status: number | null, signal: string | null, error: Error | undefined, stderr: string): void {
  if (error) throw new Error(`bench: cannot run ${cmd.command}: ${error.message}`);
  const ok = cmd.okCodes ?? [0];
  if (status === null || !ok.includes(status)) {
    throw new Error(
      `bench: ${[cmd.command, ...cmd.args].join(" ")} exited ${status ?? signal}${stderr ? `: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : ""}`,
    );
  }
}

export function closeDevNull(): void {
  if (devNull !== undefined) closeSync(devNull);
  devNull = undefined;
}

/**
 * A module to preload into a Node process (`node --import <preload>`) that records the process's
 * peak RSS, from the kernel's rusage, when it exits; `peakMiB()` reads it back, `remove()` cleans up.
 */
export function rssReporter(): { nodeArgs: string[]; peakMiB(): number; remove(): void } {
  const folder = mkdtempSync(join(tmpdir(), "lastbeat-rss-"));
  const report = join(folder, "rss");
  const preload = join(folder, "report-rss.mjs");
  writeFileSync(
    preload,
    `import { writeFileSync } from "node:fs";\nprocess.on("exit", () => writeFileSync(${JSON.stringify(report)}, String(process.resourceUsage().maxRSS)));\n`,
  );
  return {
    nodeArgs: ["--import", preload],
    peakMiB: () => (Number(readFileSync(report, "utf8")) * 1024) / (1024 * 1024),
    remove: () => rmSync(folder, { recursive: true, force: true }),
  };
}
