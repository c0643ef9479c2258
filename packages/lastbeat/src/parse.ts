import { isValidJobName } from "./job-name.js";
import { HEARTBEAT_FORMAT, MAX_HEARTBEAT_BYTES, MAX_MESSAGE_BYTES, MAX_OUTPUT_TAIL_BYTES, MAX_RUNS, MAX_THRESHOLD } from "./types.js";
import { firstBytes, lastBytes } from "./text.js";
import type { BeatStatus, Heartbeat, RunRecord } from "./types.js";

export type ParseResult = { ok: true; heartbeat: Heartbeat } | { ok: false; reason: string };

const STATUSES: ReadonlySet<string> = new Set<BeatStatus>(["ok", "fail", "start"]);
/** The shapes of ISO-8601 time accepted; each field's range is checked by `isTime`. */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

/** The two-digit number at `i` of a string whose shape ISO_TIME has checked. */
const twoDigits = (s: string, i: number) => (s.charCodeAt(i) - 48) * 10 + s.charCodeAt(i + 1) - 48;

/** An ISO-8601 time whose every field is in range: `2026-02-30` is not rolled over to March 2. */
export function isTime(value: unknown): value is string {
  if (typeof value !== "string" || !ISO_TIME.test(value)) return false;
  // Fields read at their fixed places, no capture groups: three times per heartbeat, 100,000
  // heartbeats a scan. The optional seconds follow a ':' at 16; the offset, if any, ends the text.
  const year = twoDigits(value, 0) * 100 + twoDigits(value, 2);
  const month = twoDigits(value, 5);
  const day = twoDigits(value, 8);
  const second = value.charCodeAt(16) === 58 ? twoDigits(value, 17) : 0;
  const end = value.length;
  const utc = value.charCodeAt(end - 1) === 90; // "Z"
  const colon = !utc && value.charCodeAt(end - 3) === 58; // "+02:00" rather than "+0200"
  const offsetHours = utc ? 0 : twoDigits(value, colon ? end - 5 : end - 4);
  const offsetMinutes = utc ? 0 : twoDigits(value, end - 2);
  const fractionDigits = value.charCodeAt(19) === 46 ? (utc ? end - 1 : colon ? end - 6 : end - 5) - 20 : 0;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const daysInMonth = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  const inRange =
    month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && twoDigits(value, 11) <= 23 && twoDigits(value, 14) <= 59 && second <= 59;
  if (!inRange || offsetHours > 23 || offsetMinutes > 59) return false;
  // ECMAScript's own date-time format (no or three fraction digits, "Z" or "±HH:mm") is one every
  // engine must parse, as writers write it; other shapes are accepted only if the engine reads them.
  return ((fractionDigits === 0 || fractionDigits === 3) && (utc || colon)) || Number.isFinite(Date.parse(value));
}

const isString = (max: number) => (v: unknown) => typeof v === "string" && v.length <= max;
/** A whole number a reader can print as it is: `1e308` is an integer to JavaScript, not an exit code. */
const isCount = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * The optional fields, in the order a parsed heartbeat has them, each with its check. Copied one
 * by one with a fixed name (copyOptional), not by looping over this table: every heartbeat of a
 * scan then has the same few object shapes, and a fresh process parses 10,000 of them ~4 ms
 * faster (a third of what validating them costs; measured against the loop over `Object.entries`).
 */
const optional = {
  schedule: isString(256),
  tz: isString(64),
  grace: isString(32),
  max_runtime_s: (v: unknown) => typeof v === "number" && Number.isFinite(v) && v > 0,
  last_ok_at: isTime,
  started_at: isTime,
  duration_ms: (v: unknown) => typeof v === "number" && Number.isFinite(v) && v >= 0,
  exit_code: isCount,
  signal: isString(32),
  run_id: isString(128),
  pid: (v: unknown) => isCount(v) && (v as number) > 0,
  host: isString(255),
  message: (v: unknown) => typeof v === "string",
  output_tail: (v: unknown) => typeof v === "string",
  alert_after: isThreshold,
  recover_after: isThreshold,
} satisfies { [K in keyof Heartbeat]?: (v: unknown) => boolean };
type OptionalField = keyof typeof optional;

/**
 * Copies each optional field `record` has (null counts as absent) into `heartbeat` when its check
 * passes; returns the first field that fails, or null.
 */
function copyOptional(record: Record<string, unknown>, heartbeat: Record<string, unknown>): OptionalField | null {
  let v: unknown;
  if ((v = record.schedule) != null) { if (!optional.schedule(v)) return "schedule"; heartbeat.schedule = v; }
  if ((v = record.tz) != null) { if (!optional.tz(v)) return "tz"; heartbeat.tz = v; }
  if ((v = record.grace) != null) { if (!optional.grace(v)) return "grace"; heartbeat.grace = v; }
  if ((v = record.max_runtime_s) != null) { if (!optional.max_runtime_s(v)) return "max_runtime_s"; heartbeat.max_runtime_s = v; }
  if ((v = record.last_ok_at) != null) { if (!optional.last_ok_at(v)) return "last_ok_at"; heartbeat.last_ok_at = v; }
  if ((v = record.started_at) != null) { if (!optional.started_at(v)) return "started_at"; heartbeat.started_at = v; }
  if ((v = record.duration_ms) != null) { if (!optional.duration_ms(v)) return "duration_ms"; heartbeat.duration_ms = v; }
  if ((v = record.exit_code) != null) { if (!optional.exit_code(v)) return "exit_code"; heartbeat.exit_code = v; }
  if ((v = record.signal) != null) { if (!optional.signal(v)) return "signal"; heartbeat.signal = v; }
  if ((v = record.run_id) != null) { if (!optional.run_id(v)) return "run_id"; heartbeat.run_id = v; }
  if ((v = record.pid) != null) { if (!optional.pid(v)) return "pid"; heartbeat.pid = v; }
  if ((v = record.host) != null) { if (!optional.host(v)) return "host"; heartbeat.host = v; }
  if ((v = record.message) != null) { if (!optional.message(v)) return "message"; heartbeat.message = v; }
  if ((v = record.output_tail) != null) { if (!optional.output_tail(v)) return "output_tail"; heartbeat.output_tail = v; }
  if ((v = record.alert_after) != null) { if (!optional.alert_after(v)) return "alert_after"; heartbeat.alert_after = v; }
  if ((v = record.recover_after) != null) { if (!optional.recover_after(v)) return "recover_after"; heartbeat.recover_after = v; }
  return null;
}

/**
 * Reads one heartbeat file's text defensively: never throws, names what is wrong.
 * `stem` is the file name without `.last`; the file's `job` must equal it.
 * Accepts legacy files (`timestamp` + `interval_seconds`) as `ok` beats.
 */
export function parseHeartbeat(text: string, stem: string): ParseResult {
  // Counting bytes only when the characters could exceed the cap (at most 3 bytes per UTF-16 unit).
  if (text.length * 3 > MAX_HEARTBEAT_BYTES && Buffer.byteLength(text) > MAX_HEARTBEAT_BYTES) return { ok: false, reason: "larger than 64 KiB" };
  let data: unknown;
  try {
    // Editors on Windows save UTF-8 with a byte order mark; JSON.parse rejects it.
    data = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch {
    return { ok: false, reason: text.trim() === "" ? "empty file" : "not valid JSON" };
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    return { ok: false, reason: "not a JSON object" };
  }
  const record = data as Record<string, unknown>;
  if (record.format === undefined && record.at === undefined && "timestamp" in record) return parseLegacy(record, stem);
  if (record.format !== undefined && record.format !== HEARTBEAT_FORMAT) {
    return { ok: false, reason: `unknown format ${JSON.stringify(String(record.format)).slice(0, 40)}` };
  }
  if (record.job !== stem) {
    return typeof record.job === "string"
      ? { ok: false, reason: `job field ${JSON.stringify(record.job.slice(0, 64))} does not match the file name` }
      : { ok: false, reason: "job field missing or not a string" };
  }
  if (typeof record.config_error === "string") {
    // Written by `lastbeat run` when its own flags were wrong: the job ran, but is not monitored.
    return { ok: false, reason: `written by lastbeat run with bad flags: ${firstBytes(record.config_error, MAX_MESSAGE_BYTES)}` };
  }
  if (typeof record.status !== "string" || !STATUSES.has(record.status)) {
    return { ok: false, reason: "field status must be ok, fail or start" };
  }
  if (!isTime(record.at)) return { ok: false, reason: "field at must be an ISO-8601 time" };
  if (typeof record.interval_s !== "number" || !Number.isFinite(record.interval_s) || record.interval_s <= 0) {
    return { ok: false, reason: "field interval_s must be a number > 0" };
  }
  const heartbeat: Record<string, unknown> = {
    format: HEARTBEAT_FORMAT,
    job: stem,
    status: record.status,
    at: record.at,
    interval_s: record.interval_s,
  };
  const wrong = copyOptional(record, heartbeat);
  if (wrong !== null) {
    const expected = wrong === "alert_after" || wrong === "recover_after" ? ` (a whole number from 1 to ${MAX_THRESHOLD})` : "";
    return { ok: false, reason: `field ${wrong} has the wrong type or size${expected}` };
  }
  if (record.runs !== undefined && record.runs !== null) {
    const runs = parseRuns(record.runs);
    if (typeof runs === "string") return { ok: false, reason: runs };
    heartbeat.runs = runs;
  }
  // Foreign writers may exceed the documented sizes: keep the start of a message, the end of output.
  if (typeof heartbeat.message === "string") heartbeat.message = firstBytes(heartbeat.message, MAX_MESSAGE_BYTES);
  if (typeof heartbeat.output_tail === "string") heartbeat.output_tail = lastBytes(heartbeat.output_tail, MAX_OUTPUT_TAIL_BYTES);
  return { ok: true, heartbeat: heartbeat as unknown as Heartbeat };
}

/** `alert_after` / `recover_after`: failed or ok runs in a row, 1 to MAX_THRESHOLD. */
export function isThreshold(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= MAX_THRESHOLD;
}

/**
 * More entries than this make a file `invalid`; up to it, a foreign writer's longer history is
 * accepted and cut to the MAX_RUNS newest (the 64 KiB cap bounds the file anyway).
 */
const MAX_RUNS_ACCEPTED = 5 * MAX_RUNS;
const RUN_STATUSES: ReadonlySet<unknown> = new Set(["ok", "fail"]);

/**
 * A heartbeat's `runs`: the newest MAX_RUNS entries, each with only its known fields, or the
 * reason it is wrong naming the entry and field (`field runs[3].at …`).
 */
export function parseRuns(value: unknown): RunRecord[] | string {
  if (!Array.isArray(value)) return "field runs must be a list of runs";
  if (value.length > MAX_RUNS_ACCEPTED) return `field runs has ${value.length} entries, more than ${MAX_RUNS_ACCEPTED}`;
  const runs: RunRecord[] = [];
  const count = Math.min(value.length, MAX_RUNS);
  // Only the entries kept are checked: a foreign writer's older runs are dropped unread.
  for (let i = 0; i < count; i++) {
    const entry: unknown = value[i];
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) return `field runs[${i}] must be an object`;
    const { at, status, duration_ms: duration, exit_code: exitCode, message } = entry as Record<string, unknown>;
    if (!isTime(at)) return `field runs[${i}].at must be an ISO-8601 time`;
    if (!RUN_STATUSES.has(status)) return `field runs[${i}].status must be ok or fail`;
    const run: RunRecord = { at, status: status as RunRecord["status"] };
    if (duration !== undefined && duration !== null) {
      if (typeof duration !== "number" || !Number.isFinite(duration) || duration < 0) return `field runs[${i}].duration_ms must be a number >= 0`;
      run.duration_ms = duration;
    }
    if (exitCode !== undefined && exitCode !== null) {
      if (!isCount(exitCode)) return `field runs[${i}].exit_code must be a whole number`;
      run.exit_code = exitCode;
    }
    if (message !== undefined && message !== null) {
      if (typeof message !== "string" || Buffer.byteLength(message) > MAX_MESSAGE_BYTES) {
        return `field runs[${i}].message must be a string of at most ${MAX_MESSAGE_BYTES} bytes`;
      }
      run.message = message;
    }
    runs.push(run);
  }
  return runs;
}

/**
 * The runs a beat written by `lastbeat run` with bad flags carries (it reads as `invalid`, yet its
 * history is real), so fixing the flags does not cost the job its history. [] for anything else.
 */
export function configErrorRuns(text: string, stem: string): RunRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  if (typeof data !== "object" || data === null) return [];
  const record = data as Record<string, unknown>;
  if (record.format !== HEARTBEAT_FORMAT || record.job !== stem || typeof record.config_error !== "string") return [];
  const runs = record.runs === undefined ? [] : parseRuns(record.runs);
  return typeof runs === "string" ? [] : runs;
}

function parseLegacy(record: Record<string, unknown>, stem: string): ParseResult {
  const { timestamp, interval_seconds: interval } = record;
  let at: Date | null = null;
  if (typeof timestamp === "number" && Number.isFinite(timestamp)) at = new Date(timestamp * 1000);
  else if (typeof timestamp === "string" && Number.isFinite(Date.parse(timestamp))) at = new Date(timestamp);
  if (!at || Number.isNaN(at.getTime())) return { ok: false, reason: "legacy timestamp is not a time" };
  if (typeof interval !== "number" || !Number.isFinite(interval) || interval <= 0) {
    return { ok: false, reason: "legacy interval_seconds must be a number > 0" };
  }
  if (!isValidJobName(stem)) return { ok: false, reason: "file name is not a valid job name" };
  if (typeof record.job === "string" && record.job !== stem) {
    return { ok: false, reason: `job field ${JSON.stringify(record.job.slice(0, 64))} does not match the file name` };
  }
  return { ok: true, heartbeat: { job: stem, status: "ok", at: at.toISOString(), interval_s: interval } };
}
