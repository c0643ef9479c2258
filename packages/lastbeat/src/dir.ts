import { constants, realpathSync, statSync, type Stats } from "node:fs";
import { access, chmod, lstat, mkdir, readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
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
  if (options.dir === "") throw emptyDir();
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
  let info: Stats;
  try {
    await makeDirs(dir);
    info = await stat(dir);
    // Never chmod what was there instead of a folder (a file, or a device) to 1777.
    if (!info.isDirectory()) throw new LastbeatError("E_DIR", "it exists and is not a folder (EEXIST)");
    // Root's first beat must not leave a shared folder only root can write (every other user's
    // job would fail); chmod after mkdir, since the umask narrows mkdir's mode.
    if (mode !== 0o755 && process.getuid?.() === 0) {
      await chmod(dir, mode);
      info = await stat(dir);
    }
  } catch (error) {
    throw new LastbeatError("E_DIR", `cannot create heartbeat folder ${dir}: ${errnoText(error)}`, { cause: error });
  }
  return { dir, info };
}

/**
 * `mkdir -p`, one folder at a time, each tried at most twice. Not `mkdir(dir, { recursive: true })`:
 * Node retries that forever when mkdir(2) says ENOENT under a parent that exists, as procfs does
 * for any new name (`--dir /proc/x/hb` spun at 100% CPU and never ran the job).
 */
export async function makeDirs(dir: string): Promise<void> {
  try {
    await mkdirOne(dir);
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT" || dirname(dir) === dir) throw error;
  }
  const parent = dirname(dir);
  await makeDirs(parent);
  try {
    await mkdirOne(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    throw new LastbeatError("E_DIR", `${parent} takes no new folders (mkdir ${dir} says ENOENT)`, { cause: error });
  }
}

/** One mkdir; a folder already there (another job's first beat, at the same moment) is fine. */
async function mkdirOne(dir: string): Promise<void> {
  try {
    await mkdir(dir, { mode: 0o755 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
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

/** `dir: ""` (an unset variable's value) would resolve to the working folder and be believed. */
const emptyDir = () => new LastbeatError("E_DIR", "heartbeat folder is an empty string: is the variable that should give it unset?");

const GLOB_CHARS = /[*?[]/;

/** Whether a folder path holds glob characters (`*`, `?`, `[`): a pattern, unless it exists as written. */
export function hasGlobChars(path: string): boolean {
  return GLOB_CHARS.test(path);
}

/** What folder patterns name: the folders to scan, and each pattern that names none. */
export interface DirExpansion {
  /** Absolute folders, each once, in the patterns' order: a plain path as given (whether or not it exists), a pattern's matches sorted. */
  dirs: string[];
  /**
   * Absolute patterns with glob characters that match no folder (a typo or a share not mounted),
   * each with the reason to report: "no folder matches this pattern", or, when a folder on the
   * way could not be listed, that folder and why (a permission is then what to fix, not the pattern).
   */
  unmatched: { pattern: string; reason: string }[];
  /** Per absolute glob pattern, the folders it matches now, sorted: what the checker remembers. */
  matched: Map<string, string[]>;
  /**
   * Folders the checker remembers a pattern matched that it no longer matches (gone, not mounted),
   * each with that pattern: scanned as plain folders, so a gone one is its `folder:<dir>` alert.
   */
  remembered: Map<string, string>;
}

/** Per absolute glob pattern, the folders it matched before (`heartbeat-checker.folders`). */
export type FolderMemory = ReadonlyMap<string, readonly string[]>;

/**
 * Expands folder patterns (`/mnt/hosts/*\/heartbeats`): `*`, `?` and `[...]` within one path
 * segment. A pattern without glob characters is returned as is, even if it does not exist, so
 * the caller can report it; a pattern that matches nothing is left out (see
 * {@link expandDirPatterns}, which names it).
 */
export async function expandDirs(patterns: readonly string[], cwd = process.cwd()): Promise<string[]> {
  return (await expandDirPatterns(patterns, cwd)).dirs;
}

/**
 * {@link expandDirs}, also naming the patterns that match no folder, so a reader reports them
 * instead of scanning nothing and calling it healthy. A segment that exists as it is written
 * (`app[1]`) is that entry, not a pattern: writers use `--dir`/`LASTBEAT_DIR` as a plain path, and
 * readers must find the folder they wrote. Throws a LastbeatError E_DIR naming the pattern for a
 * malformed one (`[z-a]`) that does not exist as written either.
 */
export async function expandDirPatterns(patterns: readonly string[], cwd = process.cwd(), memory?: FolderMemory): Promise<DirExpansion> {
  const dirs: string[] = [];
  const unmatched = new Map<string, string>();
  const matched = new Map<string, string[]>();
  const remembered = new Map<string, string>();
  for (const pattern of patterns) {
    if (pattern === "") throw emptyDir();
    const absolute = resolve(cwd, pattern);
    if (!GLOB_CHARS.test(absolute)) {
      dirs.push(absolute);
      continue;
    }
    const { matches, unlisted } = await expandPattern(absolute, pattern);
    if (!matched.has(absolute)) matched.set(absolute, matches);
    dirs.push(...matches);
    // What the pattern matched before and matches no more is scanned as a plain folder: a host's
    // share that is gone (autofs without browsing lists only what is mounted) is then its folder's
    // alert, and one mounted again on access is simply scanned.
    const before = memory?.get(absolute) ?? [];
    if (before.length > 0) {
      const now = new Set(matches);
      for (const dir of before) {
        if (now.has(dir) || remembered.has(dir)) continue;
        remembered.set(dir, absolute);
        dirs.push(dir);
      }
    }
    if (matches.length > 0 || before.length > 0) continue;
    if (!unmatched.has(absolute)) {
      unmatched.set(
        absolute,
        unlisted === undefined
          ? "no folder matches this pattern"
          : `no folder matches this pattern: cannot list ${unlisted.base}: ${errnoText(unlisted.error)}`,
      );
    }
  }
  return { dirs: onePathEach(dirs), unmatched: [...unmatched].map(([pattern, reason]) => ({ pattern, reason })), matched, remembered };
}

/**
 * Each folder once, by the first path that names it: the same folder by two paths (`/var/run` is a
 * link to `/run` on most systems; a link matched by a glob) would count each of its jobs twice,
 * under two `job@folder` names. A path that does not resolve is kept as it is (the scan reports it).
 * Synchronous, like the scan's reads: a few folders' paths, no turns of the event loop in between.
 */
function onePathEach(dirs: readonly string[]): string[] {
  if (dirs.length < 2) return [...dirs];
  const seen = new Set<string>();
  const out: string[] = [];
  for (const dir of dirs) {
    let real = dir;
    try {
      real = realpathSync(dir);
    } catch {
      // not there, or not ours to resolve: kept as given, and the scan says why
    }
    if (seen.has(real)) continue;
    seen.add(real);
    out.push(dir);
  }
  return out;
}

/**
 * The folders `absolute` matches, sorted, and the first folder on the way that could not be listed
 * for a reason other than not being there (EACCES, EIO…), to explain a pattern matching nothing.
 */
async function expandPattern(absolute: string, pattern: string): Promise<{ matches: string[]; unlisted?: { base: string; error: unknown } }> {
  let bases: string[] = [sep];
  let malformed: LastbeatError | undefined;
  let unlisted: { base: string; error: unknown } | undefined;
  for (const segment of absolute.split(sep).filter((s) => s !== "")) {
    if (!GLOB_CHARS.test(segment)) {
      bases = bases.map((base) => join(base, segment));
      continue;
    }
    let matcher: ((name: string) => boolean) | undefined;
    try {
      matcher = segmentMatcher(segment, pattern);
    } catch (error) {
      malformed ??= error as LastbeatError;
    }
    const next: string[] = [];
    for (const base of bases) {
      const literal = join(base, segment);
      if (await lstat(literal).then(() => true, () => false)) {
        next.push(literal);
        continue;
      }
      if (matcher === undefined) throw malformed;
      let entries;
      try {
        entries = await readdir(base, { withFileTypes: true });
      } catch (error) {
        // Not there, or not a folder: simply no match. Anything else is a folder we could not see into.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOENT" && code !== "ENOTDIR") unlisted ??= { base, error };
        continue;
      }
      for (const entry of entries) {
        if ((entry.isDirectory() || entry.isSymbolicLink()) && matcher(entry.name)) next.push(join(base, entry.name));
      }
    }
    bases = next.sort();
  }
  // Matching nothing, a malformed pattern is its error, not "no folder matches": fixing it is the
  // first step, wherever the earlier segments stopped matching.
  if (bases.length === 0 && malformed) throw malformed;
  return bases.length === 0 && unlisted !== undefined ? { matches: [], unlisted } : { matches: bases };
}

/** One character of a segment pattern; `*` is kept apart, as it matches any number of them. */
type GlobToken =
  | { kind: "star" }
  | { kind: "any" }
  | { kind: "char"; code: number }
  | { kind: "set"; negated: boolean; ranges: [number, number][] };

/**
 * Whether a folder name matches one segment of a pattern: `*` any run of characters, `?` one,
 * `[abc]`, `[a-z]`, `[!a-z]` or `[^a-z]` one of a set (a `]` first in the set is a member, a `-`
 * first or last is one too), and a `[` with no closing `]` is itself. Everything else, `\`
 * included, is itself: these are paths, not shell words. Matched without a regular expression, so
 * no pattern is a syntax error and none backtracks for long. Throws a LastbeatError E_DIR naming
 * `pattern` for a reversed range (`[z-a]`), which matches nothing and is surely a typo.
 */
export function segmentMatcher(segment: string, pattern: string): (name: string) => boolean {
  const tokens = parseSegment(segment, pattern);
  return (name) => matchTokens(tokens, Array.from(name, (c) => c.codePointAt(0) as number));
}

function parseSegment(segment: string, pattern: string): GlobToken[] {
  const chars = Array.from(segment);
  const tokens: GlobToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === "*") {
      if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
    } else if (c === "?") {
      tokens.push({ kind: "any" });
    } else if (c === "[") {
      const set = parseSet(chars, i, pattern);
      if (set === null) tokens.push({ kind: "char", code: 0x5b });
      else {
        tokens.push(set.token);
        i = set.end;
      }
    } else {
      tokens.push({ kind: "char", code: c.codePointAt(0) as number });
    }
  }
  return tokens;
}

/** The set opening at `chars[open]`, and the index of its `]`; null when it never closes. */
function parseSet(chars: string[], open: number, pattern: string): { token: GlobToken; end: number } | null {
  let first = open + 1;
  const negated = chars[first] === "!" || chars[first] === "^";
  if (negated) first++;
  // A `]` right after the opening is a member, as in the shell: `[]]`, `[!]]`.
  const end = chars.indexOf("]", first + 1);
  if (end === -1) return null;
  const code = (i: number) => (chars[i] as string).codePointAt(0) as number;
  const ranges: [number, number][] = [];
  for (let i = first; i < end; i++) {
    if (chars[i + 1] === "-" && i + 2 < end) {
      const [low, high] = [code(i), code(i + 2)];
      if (low > high) {
        const range = chars.slice(i, i + 3).join("");
        throw new LastbeatError(
          "E_DIR",
          `heartbeat folder pattern ${pattern}: the range ${range} in ${chars.slice(open, end + 1).join("")} is reversed (write ${chars[i + 2]}-${chars[i]})`,
        );
      }
      ranges.push([low, high]);
      i += 2;
    } else {
      ranges.push([code(i), code(i)]);
    }
  }
  return { token: { kind: "set", negated, ranges }, end };
}

function matchesOne(token: GlobToken, code: number): boolean {
  switch (token.kind) {
    case "any":
      return true;
    case "char":
      return token.code === code;
    case "set":
      return token.ranges.some(([low, high]) => code >= low && code <= high) !== token.negated;
    case "star":
      return false;
  }
}

/**
 * The classic wildcard match: every token but `*` takes one character, so on a mismatch only the
 * last `*` needs to take one more. At most (tokens × characters) steps.
 */
function matchTokens(tokens: readonly GlobToken[], name: readonly number[]): boolean {
  let t = 0;
  let n = 0;
  let star = -1;
  let starAt = 0;
  while (n < name.length) {
    const token = tokens[t];
    if (token?.kind === "star") {
      star = t++;
      starAt = n;
    } else if (token !== undefined && matchesOne(token, name[n] as number)) {
      t++;
      n++;
    } else if (star >= 0) {
      t = star + 1;
      n = ++starAt;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === "star") t++;
  return t === tokens.length;
}
