import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lastbeatArgs, runCommand, type CliRun, type CliRunOptions } from "./cli.js";

export { runCommand };

/*
 * Real file systems and real users for the fault drills (test/e2e/drills): a tiny tmpfs that
 * fills up, a read-only remount, and the CLI run as `nobody` (we run as root in CI, and root is
 * never denied a permission). Nothing here fakes an errno: when the sandbox cannot mount, the
 * drill is skipped with the reason.
 */

/** Whether this process may mount a tmpfs (root in CI); the reason when it may not. */
export const mountSupport: { ok: boolean; reason: string } = probeMount();

function probeMount(): { ok: boolean; reason: string } {
  if (process.platform !== "linux") return { ok: false, reason: `tmpfs mounts need Linux (this is ${process.platform})` };
  if (process.getuid?.() !== 0) return { ok: false, reason: "tmpfs mounts need root (run the e2e drills as root, as .ci/run does)" };
  const dir = mkdtempSync(join(tmpdir(), "lastbeat-probe-"));
  try {
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir], { encoding: "utf8" });
    if (mounted.status !== 0) return { ok: false, reason: `mount -t tmpfs is not permitted here: ${(mounted.stderr || mounted.error?.message || "").trim()}` };
    spawnSync("umount", [dir]);
    return { ok: true, reason: "" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The uid/gid of `nobody`, when the system has one and we can switch to it (root). */
export const nobodySupport: { ok: boolean; reason: string } = probeNobody();

function probeNobody(): { ok: boolean; reason: string } {
  if (process.getuid?.() !== 0) return { ok: false, reason: "dropping to nobody needs root" };
  const probe = spawnSync("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", "id", "-u"], { encoding: "utf8" });
  if (probe.status !== 0) return { ok: false, reason: `setpriv --reuid=nobody failed: ${(probe.stderr || probe.error?.message || "").trim()}` };
  return { ok: true, reason: "" };
}

export interface Mount {
  dir: string;
  /** Remounts read-only (EROFS for every write). */
  readOnly(): void;
  unmount(): void;
}

/** Mounts a fresh tmpfs of `size` (e.g. "64k") on a new temp folder, mode 0755. */
export function mountTmpfs(size: string): Mount {
  const dir = mkdtempSync(join(tmpdir(), "lastbeat-tmpfs-"));
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir]);
  let mounted = true;
  return {
    dir,
    readOnly() {
      execFileSync("mount", ["-o", "remount,ro", dir]);
    },
    unmount() {
      if (!mounted) return;
      mounted = false;
      execFileSync("umount", [dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A temp folder readable by every user (mkdtemp makes 0700), removed by `cleanup`. */
export function sharedTempDir(prefix = "lastbeat-drill-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync("chmod", ["0755", dir]);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the CLI from source as a real child process under `setpriv` as nobody:nogroup. */
export function runLastbeatAsNobody(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return runCommand("setpriv", ["--reuid=nobody", "--regid=nogroup", "--clear-groups", process.execPath, ...lastbeatArgs(args)], options);
}

/** Every regular file under `dir` (recursively), for "no temp file left" and "no token" checks. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

/** Bytes this process has read through read(2) and friends so far (Linux /proc/self/io `rchar`). */
export function bytesReadSoFar(): number | null {
  try {
    const match = /^rchar:\s*(\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"));
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  }
}

export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
