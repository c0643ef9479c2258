import type { JobState } from "lastbeat";
import { STATUS_SEVERITY } from "lastbeat/internal";

/** Label value escaping of the text exposition format: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

interface Family {
  name: string;
  help: string;
  /** Sample lines joined 1,000 at a time into flat text (see `add`). */
  chunks: string[];
  /** Sample lines not yet joined. */
  samples: string[];
}

/**
 * Sample lines built by templates are ropes of half a dozen parts each; a fleet of 100,000 jobs has
 * about two million of them. Joined into one flat string every this many, they hold a third of that.
 */
const CHUNK = 1000;

function addSample(f: Family, line: string): void {
  f.samples.push(line);
  if (f.samples.length === CHUNK) {
    f.chunks.push(f.samples.join("\n"));
    f.samples = [];
  }
}

const seconds = (date: Date) => date.getTime() / 1000;

/**
 * Prometheus text exposition (version 0.0.4) of every job, for node_exporter's textfile
 * collector. Every series carries `job` (or `jobLabel`: node_exporter's own scrape `job` label
 * renames ours to `exported_job` unless the scrape sets `honor_labels: true`); `lastbeat_job_status` has one series per status (1 for
 * the current one) so rules can match `lastbeat_job_status{status="stale"} == 1`.
 */
export function renderMetrics(states: readonly JobState[], now: Date, jobLabel = "job"): string {
  return metricsParts(states, now, jobLabel).join("");
}

/**
 * renderMetrics' text in pieces of at most 1,000 sample lines, in order: `lastbeat metrics` writes
 * them one after another, so 100,000 jobs' two million lines are never also one string.
 */
export function metricsParts(states: readonly JobState[], now: Date, jobLabel = "job"): string[] {
  const family = (name: string, help: string): Family => ({ name, help, chunks: [], samples: [] });
  const lastBeat = family("lastbeat_last_beat_timestamp_seconds", "Unix time of the job's last heartbeat.");
  const lastOk = family("lastbeat_last_success_timestamp_seconds", "Unix time of the job's last ok heartbeat.");
  const interval = family("lastbeat_interval_seconds", "Declared interval between runs of the job.");
  const due = family("lastbeat_due_timestamp_seconds", "Unix time the job's next heartbeat is due.");
  const graceEnd = family(
    "lastbeat_grace_end_timestamp_seconds",
    "Unix time after which the job's silence is alerting (stale).",
  );
  const age = family("lastbeat_age_seconds", "Seconds since the job's last heartbeat, at the time of the scan.");
  const status = family("lastbeat_job_status", "1 for the job's current status, 0 for every other status.");
  const alerting = family("lastbeat_alerting", "1 when the job is alerting (stale, failed, overrun, missing or invalid).");
  const duration = family("lastbeat_last_duration_seconds", "Duration of the job's last completed run.");
  const exitCode = family("lastbeat_last_exit_code", "Exit code of the job's last completed run.");
  const scan = family("lastbeat_scan_timestamp_seconds", "Unix time these metrics were computed.");

  for (const state of states) {
    const job = `${jobLabel}="${escapeLabelValue(state.job)}"`;
    const add = (f: Family, value: number, extra = "") => addSample(f, `${f.name}{${job}${extra}} ${formatValue(value)}`);
    if (state.lastBeatAt) add(lastBeat, seconds(state.lastBeatAt));
    if (state.lastOkAt) add(lastOk, seconds(state.lastOkAt));
    if (state.intervalSeconds !== null) add(interval, state.intervalSeconds);
    if (state.dueAt) add(due, seconds(state.dueAt));
    if (state.graceEndAt) add(graceEnd, seconds(state.graceEndAt));
    if (state.ageSeconds !== null) add(age, state.ageSeconds);
    for (const s of STATUS_SEVERITY) add(status, s === state.status ? 1 : 0, `,status="${s}"`);
    add(alerting, state.alerting ? 1 : 0);
    const beat = state.heartbeat;
    if (beat?.duration_ms !== undefined && beat.status !== "start") add(duration, beat.duration_ms / 1000);
    if (beat?.exit_code !== undefined && beat.status !== "start") add(exitCode, beat.exit_code);
  }
  addSample(scan, `${scan.name} ${formatValue(seconds(now))}`);

  const parts: string[] = [];
  for (const f of [lastBeat, lastOk, interval, due, graceEnd, age, status, alerting, duration, exitCode, scan]) {
    if (f.samples.length > 0) f.chunks.push(f.samples.join("\n"));
    if (f.chunks.length === 0) continue;
    parts.push(`# HELP ${f.name} ${f.help}\n# TYPE ${f.name} gauge\n`);
    for (const chunk of f.chunks) parts.push(chunk, "\n");
  }
  return parts;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
