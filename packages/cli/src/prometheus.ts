import type { JobState } from "lastbeat";
import { STATUS_SEVERITY } from "lastbeat/internal";

/** Label value escaping of the text exposition format: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

const NEEDS_ESCAPE = /[\\"\n]/;

interface Family {
  name: string;
  help: string;
  /** `name{`: what each of its sample lines starts with, the labels next. */
  open: string;
  /** Sample lines joined about 1,000 at a time into flat text (see `addSample`). */
  chunks: string[];
  /** Sample text not yet joined, and how many lines it holds. */
  samples: string[];
  lines: number;
}

/**
 * Sample lines built by concatenation are ropes of half a dozen parts each; a fleet of 100,000 jobs
 * has about two million of them. Joined into one flat string every this many, they hold a third of that.
 */
const CHUNK = 1000;

/** Adds `text`, `lines` sample lines without their final line break. */
function addSample(f: Family, text: string, lines = 1): void {
  f.samples.push(text);
  f.lines += lines;
  if (f.lines >= CHUNK) {
    f.chunks.push(f.samples.join("\n"));
    f.samples = [];
    f.lines = 0;
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
 * renderMetrics' text in pieces of about 1,000 sample lines, in order: `lastbeat metrics` writes
 * them one after another, so 100,000 jobs' two million lines are never also one string.
 */
export function metricsParts(states: readonly JobState[], now: Date, jobLabel = "job"): string[] {
  const family = (name: string, help: string): Family => ({ name, help, open: `${name}{`, chunks: [], samples: [], lines: 0 });
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
  const statusLines = statusBlocks(status.open);

  for (const state of states) {
    // `job="backup"`: the labels every line of this job carries, built once.
    const labels = `${jobLabel}="${escapeLabelValue(state.job)}"`;
    const add = (f: Family, value: number) => addSample(f, `${f.open}${labels}} ${formatValue(value)}`);
    if (state.lastBeatAt) add(lastBeat, seconds(state.lastBeatAt));
    if (state.lastOkAt) add(lastOk, seconds(state.lastOkAt));
    if (state.intervalSeconds !== null) add(interval, state.intervalSeconds);
    if (state.dueAt) add(due, seconds(state.dueAt));
    if (state.graceEndAt) add(graceEnd, seconds(state.graceEndAt));
    if (state.ageSeconds !== null) add(age, state.ageSeconds);
    // One piece of text for the job's ten status lines, from the texts between its labels.
    const between = statusLines.get(state.status) as readonly string[];
    let block = status.open;
    for (const text of between) block = block + labels + text;
    addSample(status, block, STATUS_SEVERITY.length);
    addSample(alerting, `${alerting.open}${labels}} ${state.alerting ? 1 : 0}`);
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

/**
 * Per current status, what follows the labels in each of `lastbeat_job_status`'s lines, up to the
 * next line's labels: `,status="ok"} 1\nlastbeat_job_status{`, …, `,status="invalid"} 0`.
 */
function statusBlocks(open: string): Map<string, readonly string[]> {
  return new Map(
    STATUS_SEVERITY.map((current) => [
      current,
      STATUS_SEVERITY.map((s, i) => `,status="${s}"} ${s === current ? 1 : 0}${i < STATUS_SEVERITY.length - 1 ? `\n${open}` : ""}`),
    ]),
  );
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}
