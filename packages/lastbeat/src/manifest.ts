import { realpath } from "node:fs/promises";
import { formatDuration, parseDuration, parseGrace } from "./duration.js";
import { LastbeatError, errnoText } from "./errors.js";
import { validateJobName } from "./job-name.js";
import { isThreshold, isTime } from "./parse.js";
import { readBoundedFile } from "./read.js";
import { nextOccurrence, validateSchedule, validateTimeZone } from "./schedule.js";
import { MAX_THRESHOLD } from "./types.js";
import type { Declaration, MaintenanceWindow } from "./types.js";

/** `lastbeat.json`: the jobs that must exist, and how often they run (docs/spec.md, "Manifest"). */
export interface Manifest {
  jobs: Map<string, Declaration>;
  /**
   * Crontabs whose `lastbeat run/beat` lines declare jobs too: `true` for the system's, or a list
   * of files (relative to the manifest). Read by the CLI; see docs/crontab.md.
   */
  crontabs?: boolean | string[];
  /**
   * Maintenance windows for every job a reader judges (declared here, by a crontab line, or known
   * only from its heartbeat file); a job's own `maintenance` adds to them. See `declarationFor`.
   */
  maintenance?: MaintenanceWindow[];
}

const JOB_KEYS = new Set(["every", "schedule", "tz", "grace", "max_runtime", "paused", "alert_after", "recover_after", "maintenance"]);
const TOP_KEYS = new Set(["jobs", "crontabs", "maintenance"]);

/** Parses manifest text; throws LastbeatError E_MANIFEST naming the file, job and key at fault. */
export function parseManifest(text: string, source = "lastbeat.json"): Manifest {
  const fail = (message: string): never => {
    throw new LastbeatError("E_MANIFEST", `${source}: ${message}`);
  };
  let data: unknown;
  try {
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text); // a byte order mark is not an error
  } catch (error) {
    fail(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) fail("must be a JSON object with a \"jobs\" key");
  const top = data as Record<string, unknown>;
  for (const key of Object.keys(top)) if (!TOP_KEYS.has(key)) fail(`unknown key ${JSON.stringify(key)}`);
  const crontabs = top.crontabs;
  if (crontabs !== undefined && typeof crontabs !== "boolean" && !(Array.isArray(crontabs) && crontabs.every((c) => typeof c === "string" && c !== ""))) {
    fail("\"crontabs\" must be true, false or a list of crontab files");
  }
  const maintenance = top.maintenance === undefined ? undefined : parseMaintenance(top.maintenance, "", fail);
  const jobs = top.jobs === undefined ? {} : top.jobs;
  if (typeof jobs !== "object" || jobs === null || Array.isArray(jobs)) fail("\"jobs\" must be an object");
  const result = new Map<string, Declaration>();
  for (const [name, raw] of Object.entries(jobs as Record<string, unknown>)) {
    try {
      validateJobName(name);
    } catch (error) {
      fail((error as Error).message);
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(`job ${name}: must be an object`);
    const entry = raw as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!JOB_KEYS.has(key)) fail(`job ${name}: unknown key ${JSON.stringify(key)}`);
    const at = (key: string) => `job ${name}: ${key}`;
    const declaration: Declaration = {};
    try {
      if (entry.every !== undefined) declaration.intervalSeconds = parseDuration(asDuration(entry.every, at("every")), at("every"));
      if (entry.tz !== undefined) declaration.tz = asString(entry.tz, at("tz"));
      if (entry.schedule !== undefined) {
        declaration.schedule = validateSchedule(asString(entry.schedule, at("schedule")), declaration.tz);
      } else if (declaration.tz !== undefined) {
        validateSchedule("* * * * *", declaration.tz);
      }
      if (entry.grace !== undefined) {
        declaration.grace = asString(entry.grace, at("grace"));
        parseGrace(declaration.grace);
      }
      if (entry.max_runtime !== undefined) {
        declaration.maxRuntimeSeconds = parseDuration(asDuration(entry.max_runtime, at("max_runtime")), at("max_runtime"));
      }
      if (entry.maintenance !== undefined) declaration.maintenance = parseMaintenance(entry.maintenance, `job ${name}: `, fail);
      if (entry.paused !== undefined) {
        if (typeof entry.paused === "boolean") declaration.paused = entry.paused;
        else if (typeof entry.paused === "string" && isPauseTime(entry.paused)) declaration.paused = entry.paused;
        else fail(`${at("paused")} must be true, false or an ISO time that exists (like 2026-03-01T06:00:00Z)`);
      }
      if (entry.alert_after !== undefined) declaration.alertAfter = asThreshold(entry.alert_after, at("alert_after"));
      if (entry.recover_after !== undefined) declaration.recoverAfter = asThreshold(entry.recover_after, at("recover_after"));
    } catch (error) {
      // asString and friends name the job and key; the file is named here, once.
      if (error instanceof LastbeatError && error.code === "E_MANIFEST") fail(error.message.startsWith(`${source}: `) ? error.message.slice(source.length + 2) : error.message);
      fail((error as Error).message.startsWith("job ") ? (error as Error).message : `${at("")}${(error as Error).message}`);
    }
    if (declaration.intervalSeconds === undefined) {
      if (declaration.schedule === undefined) fail(`job ${name}: needs "every" (or a "schedule")`);
      else declaration.intervalSeconds = scheduleInterval(declaration.schedule, declaration.tz);
    }
    result.set(name, declaration);
  }
  return {
    jobs: result,
    ...(crontabs !== undefined && { crontabs: crontabs as boolean | string[] }),
    ...(maintenance !== undefined && { maintenance }),
  };
}

const WINDOW_KEYS = new Set(["schedule", "duration", "tz"]);

/**
 * A `"maintenance"` list: `[{ "schedule": "0 3 * * 0", "duration": "2h", "tz": "Europe/Berlin" }]`.
 * `where` is `""` at the top level or `"job <name>: "`; errors name the index and the key.
 */
function parseMaintenance(value: unknown, where: string, fail: (message: string) => never): MaintenanceWindow[] {
  if (!Array.isArray(value)) fail(`${where}"maintenance" must be a list of { "schedule", "duration", "tz" } windows`);
  return (value as unknown[]).map((raw, index) => {
    const at = (key?: string) => `${where}maintenance[${index}]${key === undefined ? "" : `.${key}`}`;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) fail(`${at()} must be an object with "schedule" and "duration"`);
    const entry = raw as Record<string, unknown>;
    for (const key of Object.keys(entry)) if (!WINDOW_KEYS.has(key)) fail(`${at()}: unknown key ${JSON.stringify(key)}`);
    for (const key of ["schedule", "duration"]) if (entry[key] === undefined) fail(`${at()}: needs "${key}"`);
    // Each key's own error, prefixed with where it is: "job db: maintenance[0].tz: unknown time zone …".
    const checked = <T>(key: string, read: () => T): T => {
      try {
        return read();
      } catch (error) {
        if (error instanceof LastbeatError && error.code === "E_MANIFEST") throw error; // fail()'s, complete
        const message = (error as Error).message;
        return fail(message.startsWith(at(key)) ? message : `${at(key)}: ${message}`);
      }
    };
    const text = (key: string): string => (typeof entry[key] === "string" ? entry[key] : fail(`${at(key)} must be a string`));
    const duration = (): string | number =>
      typeof entry.duration === "string" || typeof entry.duration === "number"
        ? entry.duration
        : fail(`${at("duration")} must be a duration like "2h" or a number of seconds`);
    const tz = entry.tz === undefined ? undefined : checked("tz", () => validateTimeZone(text("tz")));
    const schedule = checked("schedule", () => validateSchedule(text("schedule"), tz));
    const durationSeconds = checked("duration", () => parseDuration(duration(), at("duration")));
    let gap: number;
    try {
      gap = scheduleInterval(schedule, tz);
    } catch {
      return fail(`${at("schedule")}: ${JSON.stringify(schedule)} never fires, so the window would never open`);
    }
    // Windows as long as the gap between them run into each other: maintenance that never ends.
    if (durationSeconds >= gap) {
      const who = where === "" ? "every job" : "the job";
      const fix = where === "" ? `pause jobs one by one ("paused": true)` : `to stop judging the job, use "paused": true`;
      fail(
        `${at("duration")}: ${formatDuration(durationSeconds)} is not shorter than the gap between the schedule's runs ` +
          `(${formatDuration(gap)}), so ${who} would always be in maintenance; ${fix}`,
      );
    }
    return { schedule, durationSeconds, ...(tz !== undefined && { tz }) };
  });
}

/**
 * A job's declaration as the readers judge it: the manifest's own entry (if any) with the global
 * maintenance windows added before the job's own, so windows reach jobs known only from their
 * heartbeat file or a crontab line too.
 */
export function declarationFor(manifest: Manifest | null | undefined, job: string): Declaration | undefined {
  const own = manifest?.jobs.get(job);
  const global = manifest?.maintenance;
  if (global === undefined || global.length === 0) return own;
  return { ...own, maintenance: own?.maintenance ? [...global, ...own.maintenance] : global };
}

function asString(value: unknown, what: string): string {
  if (typeof value !== "string") throw new LastbeatError("E_MANIFEST", `${what} must be a string`);
  return value;
}

function asThreshold(value: unknown, what: string): number {
  if (!isThreshold(value)) throw new LastbeatError("E_MANIFEST", `${what} must be a whole number of runs from 1 to ${MAX_THRESHOLD}`);
  return value;
}

function asDuration(value: unknown, what: string): string | number {
  if (typeof value !== "string" && typeof value !== "number") {
    throw new LastbeatError("E_MANIFEST", `${what} must be a duration like "5m" or a number of seconds`);
  }
  return value;
}

/**
 * An ISO time whose every field is in range (`2026-02-30` would roll over to March 2): with a zone,
 * or without one (the host's local time, as `Date.parse` reads it), `T` or a space between date
 * and time, or a date alone (midnight UTC).
 */
function isPauseTime(text: string): boolean {
  if (!Number.isFinite(Date.parse(text))) return false;
  const iso = text.toUpperCase().replace(" ", "T");
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) return isTime(`${iso}T00:00:00Z`);
  // The fields are checked alike with or without a zone: the zone only moves the instant.
  return isTime(/(?:Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`);
}

/** A manifest is a few kilobytes; 1 MiB holds thousands of jobs, and is all a reader reads. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;

/**
 * Reads and parses a manifest file; a missing or unreadable file is an E_MANIFEST error naming it.
 * Read like any file a reader opens: never more than 1 MiB, and never blocking on a FIFO or a
 * device (`--manifest /dev/zero` is "not a regular file", not a hang or an endless read).
 */
export async function loadManifest(path: string): Promise<Manifest> {
  const fail = (why: string, cause?: unknown): never => {
    throw new LastbeatError("E_MANIFEST", `manifest ${path} ${why}`, cause === undefined ? undefined : { cause });
  };
  let real = path;
  try {
    // The user's own file, often a link (a Kubernetes ConfigMap, a file kept in a repository), so
    // a link is followed, unlike a heartbeat file someone else may have planted; the bounded
    // reader, which follows none, then opens what it points at.
    real = await realpath(path);
  } catch (error) {
    fail(`cannot be read: ${errnoText(error)}`, error);
  }
  const file = await readBoundedFile(real, MAX_MANIFEST_BYTES);
  if (!file.ok) {
    if (file.reason === "too large") return fail(`is larger than 1 MiB${file.size === undefined ? "" : ` (${file.size} bytes)`}`);
    return fail(file.reason);
  }
  const manifest = parseManifest(file.text, path);
  // Its jobs are declared since the file last changed at the latest (evaluate's `declaredAt`; the
  // CLI's memory may know an earlier time): one that never beat alerts only once its first run is overdue.
  if (file.modifiedAt) for (const declaration of manifest.jobs.values()) declaration.declaredAt = file.modifiedAt;
  return manifest;
}

/**
 * The shortest gap between consecutive runs of `schedule` over a fixed reference week, used as
 * the interval when a manifest declares only a schedule. Deterministic: no clock involved.
 */
export function scheduleInterval(schedule: string, tz?: string): number {
  let previous = nextOccurrence(schedule, tz, new Date("2026-01-05T00:00:00Z"));
  let shortest = Infinity;
  for (let i = 0; previous && i < 16; i++) {
    const next = nextOccurrence(schedule, tz, previous);
    if (!next) break;
    shortest = Math.min(shortest, (next.getTime() - previous.getTime()) / 1000);
    previous = next;
  }
  if (!Number.isFinite(shortest)) {
    throw new LastbeatError("E_SCHEDULE", `schedule ${JSON.stringify(schedule)} does not repeat; declare "every"`);
  }
  return shortest;
}
