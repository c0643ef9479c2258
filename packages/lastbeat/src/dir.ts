import { constants, statSync, type Stats } from "node:fs";
import { access, chmod, mkdir, readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve, sep } from "node:path";
import { LastbeatError, errnoText } from "./errors.js";

export const SYSTEM_HEARTBEAT_DIR = "/var/run/lastbeat/heartbeats";

/**
 * The system folder. `LASTBEAT_SYSTEM_DIR` moves it, for tests only (a test may not touch the real
 * `/var/run`); users set `LASTBEAT_DIR`.
 */
export function systemHeartbeatDir(env: Record<string, string | undefined> = process.env): string {
  return env.LASTBEAT_SYSTEM_DIR ? resolve(env.LASTBEAT_SYSTEM_DIR) : SYSTEM_HEARTBEAT_DIR;
}

export interface DirOptions {
  dir?: string;
  env?: Record<string, string | undefined>;
}

/**
 * Where heartbeats live: the `dir` option → `LASTBEAT_DIR` → `/var/run/lastbeat/heartbeats` when it
 * exists (the readers' rule; a writer that may not write there fails, never falls back) →
 * `~/.lastbeat/heartbeats`. Creates the folder when needed: a shared one (given, or the system
 * folder) created by root gets mode 1777 like `lastbeat init`'s, the home folder 0755.
 */
export async function resolveHeartbeatDir(options: DirOptions = {}): Promise<string> {
  return (await resolveDir(options)).dir;
}

/**
 * The writer's folder, created if needed and checked safe ({@link assertSafeDir}) with the same
 * single stat: the write path of every cron job's beat.
 */
export async function resolveSafeHeartbeatDir(options: DirOptions = {}): Promise<string> {
  const { dir, info } = await resolveDir(options);
  checkSafe(dir, info);
  return dir;
}

async function resolveDir(options: DirOptions): Promise<{ dir: string; info: Stats }> {
  const env = options.env ?? process.env;
  const chosen = options.dir ?? (env.LASTBEAT_DIR || undefined);
  if (chosen !== undefined) return ensureDir(resolve(chosen), SHARED_MODE);
  // The readers' rule (defaultHeartbeatDir): the system folder whenever it exists. A writer that
  // may not write there fails loudly instead of beating into a home folder no checker reads.
  const systemDir = systemHeartbeatDir(env);
  const system = await stat(systemDir).catch(() => null);
  if (system?.isDirectory()) {
    try {
      await access(systemDir, constants.W_OK);
    } catch (error) {
      throw new LastbeatError(
        "E_DIR",
        `cannot write to heartbeat folder ${systemDir} (${errnoText(error)}), where the checker reads: run "sudo lastbeat init" (mode 1777) or set LASTBEAT_DIR for writer and checker alike`,
        { cause: error },
      );
    }
    return { dir: systemDir, info: system };
  }
  return ensureDir(join(env.HOME || homedir(), ".lastbeat", "heartbeats"), 0o755);
}

/**
 * The folder readers scan when none is given: the writer's order, without creating anything
 * (`/var/run/lastbeat/heartbeats` when it exists, else the home folder).
 */
export function defaultHeartbeatDir(env: Record<string, string | undefined> = process.env): string {
  if (env.LASTBEAT_DIR) return resolve(env.LASTBEAT_DIR);
  const systemDir = systemHeartbeatDir(env);
  try {
    if (statSync(systemDir).isDirectory()) return systemDir;
  } catch {
    // not there: the home folder, as the writer does
  }
  return join(env.HOME || homedir(), ".lastbeat", "heartbeats");
}

/** What `lastbeat init` gives a shared folder: anyone writes, only a file's owner replaces it. */
const SHARED_MODE = 0o1777;

async function ensureDir(dir: string, mode: number): Promise<{ dir: string; info: Stats }> {
  // The common case costs one stat; mkdir only when the folder is not there yet.
  const existing = await stat(dir).catch(() => null);
  if (existing?.isDirectory()) return { dir, info: existing };
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    // Root's first beat must not leave a shared folder only root can write (every other user's
    // job would fail); chmod after mkdir, since the umask narrows mkdir's mode.
    if (mode !== 0o755 && process.getuid?.() === 0) await chmod(dir, mode);
    return { dir, info: await stat(dir) };
  } catch (error) {
    throw new LastbeatError("E_DIR", `cannot create heartbeat folder ${dir}: ${errnoText(error)}`, { cause: error });
  }
}

/**
 * Cron jobs often run as root: refuse a folder anyone can write to unless it has the sticky bit,
 * since another user could swap our file for a link to a file that matters.
 */
export async function assertSafeDir(dir: string): Promise<void> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    throw new LastbeatError("E_DIR", `cannot use heartbeat folder ${dir}: ${errnoText(error)}`, { cause: error });
  }
  checkSafe(dir, info);
}

function checkSafe(dir: string, info: Stats): void {
  if (!info.isDirectory()) throw new LastbeatError("E_DIR", `heartbeat folder ${dir} is not a directory`);
  if ((info.mode & 0o002) !== 0 && (info.mode & 0o1000) === 0) {
    throw new LastbeatError(
      "E_UNSAFE_DIR",
      `refusing heartbeat folder ${dir}: it is world-writable without the sticky bit (chmod o-w or +t)`,
    );
  }
}

const GLOB_CHARS = /[*?[]/;

/**
 * Expands folder patterns (`/mnt/hosts/*\/heartbeats`): `*`, `?` and `[...]` within one path
 * segment. A pattern without glob characters is returned as is, even if it does not exist, so
 * the caller can report it.
 */
export async function expandDirs(patterns: readonly string[], cwd = process.cwd()): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of patterns) {
    const absolute = resolve(cwd, pattern);
    if (!GLOB_CHARS.test(absolute)) {
      out.push(absolute);
      continue;
    }
    const segments = absolute.split(sep).filter((s) => s !== "");
    let bases: string[] = [sep];
    for (const segment of segments) {
      const next: string[] = [];
      if (!GLOB_CHARS.test(segment)) {
        for (const base of bases) next.push(join(base, segment));
      } else {
        const matcher = globToRegExp(segment);
        for (const base of bases) {
          let entries;
          try {
            entries = await readdir(base, { withFileTypes: true });
          } catch {
            continue;
          }
          for (const entry of entries) {
            if (matcher.test(entry.name) && (entry.isDirectory() || entry.isSymbolicLink())) next.push(join(base, entry.name));
          }
        }
      }
      bases = next.sort();
    }
    out.push(...bases);
  }
  return [...new Set(out)];
}

function globToRegExp(segment: string): RegExp {
  let source = "";
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i] as string;
    if (c === "*") source += "[^/]*";
    else if (c === "?") source += "[^/]";
    else if (c === "[") {
      const end = segment.indexOf("]", i + 1);
      if (end === -1) source += "\\[";
      else {
        const body = segment.slice(i + 1, end).replace(/^!/, "^").replace(/\\/g, "\\\\");
        source += `[${body}]`;
        i = end;
      }
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}
