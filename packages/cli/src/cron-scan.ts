import { statSync } from "node:fs";
import { uptime } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { Option, type Command } from "commander";
import { evaluate, scanHeartbeats, type Declaration, type JobState } from "lastbeat";
import { DECLARED_FILE, MISSING_REASON, type DeclaredEntry, UNBEATEN_REASON, isUnbeaten, loadManifest, readDeclaredMemory, secretsIn, systemTimeZone, type DirExpansion, type FolderMemory, type Manifest } from "lastbeat/internal";
import { checkerDir, checkerFolder, loadFolderMemory, type LoadedFolderMemory } from "./folder-memory.js";
import { readCronInventory, systemCrontabs, type CronInventory, type CrontabSource } from "./cron-jobs.js";
import type { CronEntry } from "./crontab.js";
import type { CliIo } from "./io.js";
import { absolute, collectPaths, scanOptionsFrom, type ScanFlags } from "./options.js";
import { redactState } from "./redact.js";
import { slimState, type HeartbeatUse } from "./slim.js";

/*
 * The readers' crontab flags (`--crontab`, `--crontabs`, `--unmonitored`) and the manifest's
 * `"crontabs"`: turned into declarations merged under the manifest's (the manifest wins), plus
 * states for the lines that cannot declare anything. See docs/crontab.md.
 */

export interface CronFlags {
  crontab?: string[];
  crontabs?: boolean;
  unmonitored?: "list" | "alert";
}

export function addCronOptions(command: Command): Command {
  return command
    .addOption(new Option("--crontab <file>", "a crontab whose `lastbeat run/beat` lines declare jobs; repeatable").argParser(collectPaths))
    .addOption(new Option("--crontabs", "read the system's crontabs: /etc/crontab, /etc/cron.d/*, the user spool"))
    .addOption(
      new Option("--unmonitored <mode>", "cron lines that run no lastbeat: list them (default) or alert on them").choices(["list", "alert"]),
    );
}

export interface CronScan {
  now: Date;
  /**
   * `scanHeartbeats` options with the manifest (file and crontabs) already merged, and the
   * checker's memory of the folders the patterns matched.
   */
  options: {
    dirs?: string[];
    manifest?: Manifest;
    now: Date;
    env: Record<string, string | undefined>;
    cwd: string;
    rememberedFolders?: FolderMemory;
    onExpanded: (expansion: DirExpansion) => void;
  };
  /** The checker's folder memory read (null when no pattern is scanned). */
  folderMemory: LoadedFolderMemory | null;
  /** The declared jobs and since when each is declared, as judged (null when none is declared). */
  declared: LoadedDeclared | null;
  /** The files that declare jobs this run read: the crontabs read, the manifest. */
  declaringRead: Set<string>;
  /** How the folder patterns expanded, once the scan ran. */
  expansion?: DirExpansion;
  /** Null when no crontab was read. */
  inventory: CronInventory | null;
  /** Lines cron would reject (`invalid`) and, with `--unmonitored alert`, unmonitored lines (`missing`). */
  extraStates: JobState[];
  /** Names the cron line in the reason of a crontab-declared job that never beat. */
  explain(state: JobState): JobState;
}

export async function cronScan(flags: ScanFlags & CronFlags, io: CliIo): Promise<CronScan> {
  const base = scanOptionsFrom(flags, io);
  const manifest = base.manifest === undefined ? undefined : await loadManifest(base.manifest);
  const { dirs, now, env } = base;
  const sources: CrontabSource[] = [];
  const strict = new Set<string>();
  const warnings: string[] = [];
  const root = absolute(io.env.LASTBEAT_CRON_ROOT || "/", io);
  const fromManifest = manifest?.crontabs;
  if (flags.crontabs || fromManifest === true) {
    const system = await systemCrontabs(root);
    sources.push(...system.sources);
    warnings.push(...system.warnings);
  }
  const named = [
    ...(flags.crontab ?? []).map((file) => absolute(file, io)),
    ...(Array.isArray(fromManifest) && base.manifest !== undefined ? fromManifest.map((file) => resolve(dirname(base.manifest as string), file)) : []),
  ];
  for (const path of named) {
    strict.add(path);
    if (!sources.some((s) => s.path === path)) sources.push({ path, kind: kindOf(path) });
  }
  const merged: Manifest = { ...manifest, jobs: new Map(manifest?.jobs) };
  const folderMemory = await loadFolderMemory(flags, dirs, io);
  const result: CronScan = {
    now,
    options: {
      ...(dirs !== undefined && { dirs }),
      now,
      env,
      cwd: io.cwd,
      ...(folderMemory !== null && { rememberedFolders: folderMemory.memory }),
      onExpanded: (expansion) => {
        result.expansion = expansion;
      },
    },
    folderMemory,
    declared: null,
    declaringRead: new Set(base.manifest === undefined ? [] : [base.manifest]),
    inventory: null,
    extraStates: [],
    explain: (state) => state,
  };
  // The manifest as the memory names it: by its absolute path.
  const manifestBy = manifest === undefined || base.manifest === undefined ? undefined : { path: base.manifest, jobs: manifest.jobs };
  // When the host last started (cron's @reboot lines ran then, and a heartbeat folder on tmpfs was
  // emptied), looked up only when a job is declared: a plain scan makes no extra system call.
  let booted: number | undefined;
  const bootedAt = () => (booted ??= bootTime(root));
  if (sources.length === 0) {
    if (manifest !== undefined) {
      result.declared = await declaredSince(merged, { manifest: manifestBy, crontabs: new Map() }, flags, bootedAt, now, io);
      result.options.manifest = merged;
    }
    return result;
  }
  const inventory = await readCronInventory(sources, { hostTimeZone: systemTimeZone(root), strict });
  for (const file of inventory.read) result.declaringRead.add(file);
  inventory.warnings.unshift(...warnings);
  for (const warning of inventory.warnings) io.stderr.write(`lastbeat: ${warning}\n`);
  const declaredBy = new Map<string, CronEntry>();
  for (const { job, declaration, entry } of inventory.declared) {
    if (declaredBy.has(job)) continue; // the first line that names a job declares it
    declaredBy.set(job, entry);
    if (!merged.jobs.has(job)) merged.jobs.set(job, declaration satisfies Declaration);
  }
  result.declared = await declaredSince(merged, { manifest: manifestBy, crontabs: declaredBy }, flags, bootedAt, now, io);
  // `@reboot` lines put in since cron last started them: their jobs have had no boot to run at.
  const awaitingBoot = new Set<string>();
  for (const [job, entry] of declaredBy) {
    const since = result.declared?.entries.get(job)?.since;
    if (entry.schedule === null && !manifest?.jobs.has(job) && since !== undefined && since.getTime() > bootedAt()) awaitingBoot.add(job);
  }
  result.options.manifest = merged;
  result.inventory = inventory;
  for (const problem of inventory.problems) {
    result.extraStates.push(
      evaluate(undefined, undefined, now, {
        job: `crontab:${problem.source}:${problem.line}`,
        file: problem.source,
        invalidReason: `cron line not understood: ${problem.reason}`,
      }),
    );
  }
  if (flags.unmonitored === "alert") {
    for (const entry of inventory.unmonitored) {
      const state = evaluate(undefined, {}, now, { job: `cron:${entry.source}:${entry.line}` });
      result.extraStates.push({ ...state, file: entry.source, reason: `cron line runs no lastbeat: ${entry.command}` });
    }
  }
  result.explain = (state) => {
    const entry = declaredBy.get(state.job);
    if (entry === undefined || manifest?.jobs.has(state.job) || state.heartbeat !== null) return state;
    const line = `${entry.source}:${entry.line}`;
    if (isUnbeaten(state) && state.reason.startsWith(UNBEATEN_REASON)) {
      return { ...state, reason: `${UNBEATEN_REASON} (declared by ${line})${state.reason.slice(UNBEATEN_REASON.length)}` };
    }
    if (state.status !== "missing" || state.reason !== MISSING_REASON) return state;
    if (awaitingBoot.has(state.job)) {
      return { ...state, status: "ok", alerting: false, alertingSince: null, reason: `${UNBEATEN_REASON} (declared by ${line}); it runs at the next boot` };
    }
    return { ...state, reason: `declared by ${line} but no heartbeat file was found` };
  };
  return result;
}

/** The declared jobs of a scan and since when each is declared (see declaredSince). */
export interface LoadedDeclared {
  /** The checker's memory of them, `heartbeat-checker.declared`. */
  path: string;
  /** Per declared job, the time its first run is counted from this run, and the file that declares it. */
  entries: Map<string, DeclaredEntry>;
}

/**
 * Since when each declared job is declared, written into its declaration (`declaredAt`, which
 * evaluate counts a job that has not beaten yet from): the time the checker's memory keeps for it
 * (docs/spec.md, "A declared job that has not beaten yet"), else the modification time of the file
 * that declares it, not before the host's start when there is no memory at all (the checker never
 * ran, or a reboot emptied the folder on tmpfs, heartbeats and memory alike). Read only when a job
 * is declared; a broken memory is one warning on stderr.
 */
async function declaredSince(
  merged: Manifest,
  by: { manifest: { path: string; jobs: ReadonlyMap<string, unknown> } | undefined; crontabs: ReadonlyMap<string, CronEntry> },
  flags: ScanFlags,
  bootedAt: () => number,
  now: Date,
  io: CliIo,
): Promise<LoadedDeclared | null> {
  if (merged.jobs.size === 0) return null;
  // Judged as of a time before the host started (`--now`), the start is not known yet.
  const started = bootedAt() <= now.getTime() ? bootedAt() : -Infinity;
  const path = join(checkerFolder(checkerDir(flags, io), io), DECLARED_FILE);
  const read = await readDeclaredMemory(path);
  if (read.warning !== null) io.stderr.write(`warning: ${read.warning}\n`);
  // A job the memory does not hold, of a file the checks read, was put in after the last check
  // (each check writes the memory): a line added today to a file that keeps an old time (installed by dpkg, `cp -p`,
  // `rsync -a`) waits for its first run too.
  const checked = read.checked;
  const entries = new Map<string, DeclaredEntry>();
  for (const [job, declaration] of merged.jobs) {
    const changed = declaration.declaredAt;
    // The manifest wins where both declare a job.
    const file = by.manifest?.jobs.has(job) ? by.manifest.path : by.crontabs.get(job)?.source;
    if (changed === undefined || file === undefined) continue;
    const after = checked !== null && checked.read.has(file) ? checked.at.getTime() : -Infinity;
    const at = read.memory.get(job)?.since ?? new Date(Math.max(changed.getTime(), read.found ? after : started));
    entries.set(job, { since: at, by: file });
    merged.jobs.set(job, { ...declaration, declaredAt: at });
  }
  return { path, entries };
}

/**
 * When the host last started: when cron ran its @reboot lines (its marker file: Debian's
 * `/run/crond.reboot`, cronie's `/run/cron.reboot`, under the cron root; in a container, the
 * container's cron start), else the kernel's boot.
 */
function bootTime(root: string): number {
  for (const marker of ["run/crond.reboot", "run/cron.reboot", "var/run/crond.reboot", "var/run/cron.reboot"]) {
    try {
      const info = statSync(join(root, marker), { throwIfNoEntry: false });
      if (info?.isFile()) return info.mtimeMs;
    } catch {
      // A marker we may not look at tells nothing.
    }
  }
  return Date.now() - uptime() * 1000;
}

/**
 * Files named `crontab` (like `/etc/crontab`) and files in a `cron.d` folder have a user column;
 * any other file is read as a user crontab (the spool, `crontab -l` output), as `crontab` installs it.
 */
export function kindOf(path: string): "system" | "user" {
  return basename(path) === "crontab" || basename(dirname(path)) === "cron.d" ? "system" : "user";
}


/** One JSON object per unmonitored line, for `status --json` and the brief. */
export function unmonitoredJson(entry: CronEntry) {
  return { source: entry.source, line: entry.line, user: entry.user, schedule: entry.scheduleText, command: entry.command };
}

/**
 * Every job's state: the heartbeat folders and the declarations, plus the crontab lines' own
 * states, each cut to the heartbeat fields the reader renders (`use`) and redacted (no token from
 * `env` in any text) as soon as it is evaluated, so the whole parsed heartbeats never pile up.
 */
export async function scanStates(scan: CronScan, env: Record<string, string | undefined>, use: HeartbeatUse): Promise<JobState[]> {
  const secrets = secretsIn(env);
  // Cut first, then redacted: only the text the reader keeps is searched for tokens.
  const finish = (state: JobState) => redactState(slimState(state, use), secrets);
  const states = await scanHeartbeats(scan.options, (state) => finish(scan.explain(state)));
  for (const state of scan.extraStates) states.push(finish(state));
  return states;
}
