import { execFileSync, spawnSync } from "node:child_process";
import { closeSync, constants, openSync } from "node:fs";
import { onTestFinished } from "vitest";

/** No `mkfifo` on this machine: the FIFO tests are skipped. */
export const noMkfifo = spawnSync("mkfifo", ["--help"]).error !== undefined;

/** A FIFO test's timeout: a read that blocked after all fails it instead of hanging the run. */
export const FIFO_TIMEOUT_MS = 10_000;

/**
 * Makes a FIFO. Should a read block on it after all, the test fails on its timeout, and opening
 * the FIFO for writing then lets the blocked open and read return, so no thread stays stuck.
 */
export function fifoAt(path: string): string {
  execFileSync("mkfifo", [path]);
  onTestFinished(() => {
    try {
      closeSync(openSync(path, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: nobody is waiting to read it, as it should be
    }
  });
  return path;
}
