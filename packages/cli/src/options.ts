import { isAbsolute, resolve } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import type { WriteHeartbeatOptions } from "lastbeat";
import { isThreshold, isTime, MAX_THRESHOLD, parseDuration, parseGrace } from "lastbeat/internal";
import { UsageError } from "./errors.js";
import type { CliIo } from "./io.js";

/*
 * Shared flags (docs/spec.md, "Command line"). Every parser throws commander's InvalidArgumentError, which the CLI
 * prints as one line naming the flag and the value: `error: option '--every <duration>' argument
 * '5x' is invalid. …` and exits 2.
 */

/** `300`, `90s`, `5m`, `1h`, `1d`, `1w` → seconds. */
export function parseDurationArg(value: string): number {
  try {
    return parseDuration(value, "duration");
  } catch (error) {
    if (error instanceof Error && /longer than 100 years/.test(error.message)) {
      throw new InvalidArgumentError("Durations are at most 100 years.");
    }
    throw new InvalidArgumentError("Use a duration like 300, 90s, 5m, 1h, 1d or 1w.");
  }
}

/**
 * `2x` (a multiple of the interval) or a duration; returned as the text the heartbeat stores.
 * The library's own parser decides, so the CLI never accepts a grace a heartbeat cannot carry.
 */
export function parseGraceArg(value: string): string {
  try {
    parseGrace(value);
  } catch (error) {
    const message = error instanceof Error ? error.message : "";
    if (/at most \d+x/.test(message)) throw new InvalidArgumentError("A multiple of the interval can be at most 1000x.");
    if (/longer than 100 years/.test(message)) throw new InvalidArgumentError("Durations are at most 100 years.");
    throw new InvalidArgumentError("Use a multiple of the interval of at least 1x, like 2x, or a duration like 30m.");
  }
  return value.trim();
}

/** An exit code 0–255 (for `beat --exit-code $?`). */
export function parseExitCodeArg(value: string): number {
  if (!/^\d{1,3}$/.test(value.trim()) || Number(value) > 255) {
    throw new InvalidArgumentError("Use an exit code from 0 to 255.");
  }
  return Number(value);
}

/** `--alert-after` / `--recover-after`: runs in a row, 1 to 20. */
export function parseThresholdArg(value: string): number {
  const n = Number(value.trim());
  // Digits only: Number() would also take "0x10", "1e1" and "".
  if (!/^\d+$/.test(value.trim()) || !isThreshold(n)) {
    throw new InvalidArgumentError(`Use a whole number of runs from 1 to ${MAX_THRESHOLD}.`);
  }
  return n;
}

/**
 * An ISO-8601 instant. A date alone means midnight UTC; a date-time must carry its zone
 * (`Z` or `+02:00`), since a zoneless time would silently mean the host's local time.
 */
export function parseInstantArg(value: string): Date {
  const text = value.trim();
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(text);
  const dateTime = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text);
  const iso = dateOnly ? `${text}T00:00:00Z` : text.toUpperCase().replace(" ", "T");
  const date = new Date(iso);
  if ((!dateOnly && !dateTime) || Number.isNaN(date.getTime())) {
    throw new InvalidArgumentError("Use an ISO-8601 time with a zone, like 2025-01-31T06:00:00Z.");
  }
  // `new Date` rolls 2026-02-30 over to March 2: a day or hour that does not exist is refused.
  if (!isTime(iso)) throw new InvalidArgumentError("No such time: a field is out of range (a 30th of February, an hour 24, …).");
  return date;
}

/** Repeatable string flag: each use appends. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * A path, a URL or a repository: never empty. `--dir "$HB_DIR"` with the variable unset would
 * otherwise mean the working folder (cron's is the home folder) and look healthy there.
 */
export function parsePathArg(value: string): string {
  if (value === "") throw new InvalidArgumentError("It is empty: is the variable that should give it unset?");
  return value;
}

/** A repeatable path flag: each use appends, none empty. */
export function collectPaths(value: string, previous: string[] | undefined): string[] {
  return collect(parsePathArg(value), previous);
}

export function dirOption(description = "heartbeat folder; repeatable, globs allowed (default: $LASTBEAT_DIR)"): Option {
  return new Option("--dir <path>", description).argParser(collectPaths);
}

export function nowOption(description = "evaluate as of this time instead of the clock"): Option {
  return new Option("--now <iso>", description).argParser(parseInstantArg);
}

export function jsonOption(description = "print JSON instead of text"): Option {
  return new Option("--json", description);
}

export function manifestOption(): Option {
  return new Option("--manifest <file>", "lastbeat.json declaring the jobs that must exist (default: $LASTBEAT_MANIFEST)").argParser(parsePathArg);
}

export function durationOption(flags: string, description: string): Option {
  return new Option(flags, description).argParser(parseDurationArg);
}

/** The flags `beat` and `run` share: the job's declaration and where its heartbeat goes. */
export interface BeatFlags {
  every?: number;
  schedule?: string;
  tz?: string;
  grace?: string;
  maxRuntime?: number;
  alertAfter?: number;
  recoverAfter?: number;
  dir?: string[];
}

/**
 * Adds `--every`, `--schedule`, `--tz`, `--grace`, `--max-runtime`, `--alert-after` and
 * `--recover-after`: one definition for `beat` and `run`, so a job wrapped either way declares
 * itself with the same flags.
 */
export function addBeatOptions(command: Command): Command {
  return command
    .addOption(durationOption("--every <duration>", "how often the job runs: 300, 90s, 5m, 1h, 1d, 1w (required without --schedule)"))
    .option("--schedule <cron>", "5-field cron expression of the expected run times")
    .option("--tz <zone>", "IANA time zone of --schedule (default: cron's: $CRON_TZ, else the cron daemon's; never $TZ)")
    .addOption(
      new Option("--grace <2x|duration>", "alert after this multiple of the interval, or this long past due").argParser(
        parseGraceArg,
      ),
    )
    .addOption(durationOption("--max-runtime <duration>", "a run still going after this is overrun (alerts)"))
    .addOption(
      new Option("--alert-after <n>", "alert only after n failed runs in a row (1-20, default 1); fewer show as flaky").argParser(
        parseThresholdArg,
      ),
    )
    .addOption(
      new Option("--recover-after <n>", "an alerting job recovers after n ok runs in a row (1-20, default 1)").argParser(parseThresholdArg),
    );
}

/** `--dir` of the writing commands: one folder, found as `writeHeartbeat` finds it. */
export function beatDirOption(): Option {
  return dirOption("heartbeat folder (default: $LASTBEAT_DIR, /var/run/lastbeat/heartbeats, ~/.lastbeat/heartbeats)");
}

/** The declaration the beat flags make, as `writeHeartbeat` options (which validate it). */
export function declarationFrom(
  flags: BeatFlags,
): Pick<WriteHeartbeatOptions, "every" | "schedule" | "tz" | "grace" | "maxRuntime" | "alertAfter" | "recoverAfter"> {
  return {
    // A cron schedule gives the interval (its shortest gap), as in a manifest.
    ...(flags.schedule === undefined ? { every: required(flags.every, "--every <duration> (or --schedule <cron>)") } : {}),
    ...(flags.every !== undefined && { every: flags.every }),
    ...(flags.schedule !== undefined && { schedule: flags.schedule }),
    ...(flags.tz !== undefined && { tz: flags.tz }),
    ...(flags.grace !== undefined && { grace: flags.grace }),
    ...(flags.maxRuntime !== undefined && { maxRuntime: flags.maxRuntime }),
    ...(flags.alertAfter !== undefined && { alertAfter: flags.alertAfter }),
    ...(flags.recoverAfter !== undefined && { recoverAfter: flags.recoverAfter }),
  };
}

/** Adds `--dir`, `--manifest` and `--now`: what every reading command takes. */
export function addScanOptions(command: Command): Command {
  return command.addOption(dirOption()).addOption(manifestOption()).addOption(nowOption());
}

/** The values of the flags added by `addScanOptions` (plus `--json`), as commander returns them. */
export interface ScanFlags {
  dir?: string[];
  manifest?: string;
  now?: Date;
  json?: boolean;
}

/** `scanHeartbeats` options for the flags: paths resolved against the CLI's cwd, the env passed on. */
export function scanOptionsFrom(
  flags: ScanFlags,
  io: CliIo,
): { dirs?: string[]; manifest?: string; now: Date; env: Record<string, string | undefined> } {
  const manifest = flags.manifest ?? (io.env.LASTBEAT_MANIFEST || undefined);
  const envDir = io.env.LASTBEAT_DIR || undefined;
  const dirs = flags.dir ?? (envDir === undefined ? undefined : [envDir]);
  return {
    ...(dirs === undefined ? {} : { dirs: dirs.map((d) => absolute(d, io)) }),
    ...(manifest === undefined ? {} : { manifest: absolute(manifest, io) }),
    now: nowFrom(flags, io),
    env: io.env,
  };
}

/** `--now` when given, else the injected clock. */
export function nowFrom(flags: { now?: Date }, io: CliIo): Date {
  return flags.now ?? io.now();
}

/** The single `--dir` of a writing command (`beat`, `run`), resolved against the CLI's cwd. */
export function singleDir(flags: { dir?: string[] }, io: CliIo): string | undefined {
  const dirs = flags.dir ?? [];
  if (dirs.length > 1) throw new UsageError("--dir can be given only once when writing a heartbeat");
  const [dir] = dirs;
  return dir === undefined ? undefined : absolute(dir, io);
}

export function absolute(path: string, io: CliIo): string {
  return isAbsolute(path) ? path : resolve(io.cwd, path);
}

/**
 * A flag the command cannot do without. Checked in the action rather than with commander's
 * `makeOptionMandatory`, which would report `--evry 5m` as "--every missing" instead of naming
 * the typo.
 */
export function required<T>(value: T | undefined, flag: string): T {
  if (value === undefined) throw new UsageError(`required option '${flag}' not specified`);
  return value;
}
