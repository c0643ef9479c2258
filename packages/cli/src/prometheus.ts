import type { JobState } from "lastbeat";
import { STATUS_SEVERITY } from "lastbeat/internal";

/** Label value escaping of the text exposition format: backslash, double quote, newline. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

const NEEDS_ESCAPE = /[\\"\n]/;

/** A gauge of one sample per job: its name, its help text and the job's value, or null for none. */
interface Gauge {
  name: string;
  help: string;
  value(state: JobState): number | null;
}

const seconds = (date: Date | null) => (date === null ? null : date.getTime() / 1000);
/** The last finished run's field (a beat of a run under way says nothing about its length). */
const finished = (state: JobState, field: "duration_ms" | "exit_code") => {
  const beat = state.heartbeat;
  return beat === null || beat.status === "start" ? undefined : beat[field];
};

/** The families in the order printed, `lastbeat_job_status` and `lastbeat_alerting` between them (see metricsParts). */
const BEFORE_STATUS: readonly Gauge[] = [
  { name: "lastbeat_last_beat_timestamp_seconds", help: "Unix time of the job's last heartbeat.", value: (s) => seconds(s.lastBeatAt) },
  { name: "lastbeat_last_success_timestamp_seconds", help: "Unix time of the job's last ok heartbeat.", value: (s) => seconds(s.lastOkAt) },
  { name: "lastbeat_interval_seconds", help: "Declared interval between runs of the job.", value: (s) => s.intervalSeconds },
  { name: "lastbeat_due_timestamp_seconds", help: "Unix time the job's next heartbeat is due.", value: (s) => seconds(s.dueAt) },
  {
    name: "lastbeat_grace_end_timestamp_seconds",
    help: "Unix time after which the job's silence is alerting (stale).",
    value: (s) => seconds(s.graceEndAt),
  },
  { name: "lastbeat_age_seconds", help: "Seconds since the job's last heartbeat, at the time of the scan.", value: (s) => s.ageSeconds },
];
const STATUS = { name: "lastbeat_job_status", help: "1 for the job's current status, 0 for every other status." };
const AFTER_STATUS: readonly Gauge[] = [
  {
    name: "lastbeat_alerting",
    help: "1 when the job is alerting (stale, failed, overrun, missing or invalid).",
    value: (s) => (s.alerting ? 1 : 0),
  },
  {
    name: "lastbeat_last_duration_seconds",
    help: "Duration of the job's last completed run.",
    value: (s) => {
      const ms = finished(s, "duration_ms");
      return ms === undefined ? null : ms / 1000;
    },
  },
  { name: "lastbeat_last_exit_code", help: "Exit code of the job's last completed run.", value: (s) => finished(s, "exit_code") ?? null },
];

/** Jobs whose sample lines are joined into one part: a flat string, not ropes of template parts. */
const JOBS_PER_PART = 1000;

const header = (name: string, help: string) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n`;

/**
 * Prometheus text exposition (version 0.0.4) of every job, for node_exporter's textfile
 * collector. Every series carries `job` (or `jobLabel`: node_exporter's own scrape `job` label
 * renames ours to `exported_job` unless the scrape sets `honor_labels: true`); `lastbeat_job_status` has one series per status (1 for
 * the current one) so rules can match `lastbeat_job_status{status="stale"} == 1`.
 */
export function renderMetrics(states: readonly JobState[], now: Date, jobLabel = "job"): string {
  return [...metricsParts(states, now, jobLabel)].join("");
}

/**
 * renderMetrics' text in parts, each built only when it is asked for: the format wants each
 * family's samples together, so the jobs are gone through once per family, 1,000 jobs a part.
 * `lastbeat metrics` writes each part before the next is built: 100,000 jobs' two million lines
 * (~100 MB) are never held at once, only the jobs' states.
 */
export function* metricsParts(states: readonly JobState[], now: Date, jobLabel = "job"): Generator<string> {
  // `job="backup"`: the labels every line of a job carries, built once per job.
  const labels = states.map((state) => `${jobLabel}="${escapeLabelValue(state.job)}"`);
  const gauge = ({ name, help, value }: Gauge) => {
    const open = `${name}{`;
    return familyParts(name, help, states.length, (i) => {
      const v = value(states[i] as JobState);
      return v === null ? null : `${open}${labels[i] as string}} ${formatValue(v)}`;
    });
  };
  for (const g of BEFORE_STATUS) yield* gauge(g);
  const open = `${STATUS.name}{`;
  const between = statusBlocks(open);
  // The job's ten status lines as one text, from the texts between its labels.
  yield* familyParts(STATUS.name, STATUS.help, states.length, (i) => {
    const label = labels[i] as string;
    let block = open;
    for (const text of between.get((states[i] as JobState).status) as readonly string[]) block = block + label + text;
    return block;
  });
  for (const g of AFTER_STATUS) yield* gauge(g);
  yield `${header("lastbeat_scan_timestamp_seconds", "Unix time these metrics were computed.")}lastbeat_scan_timestamp_seconds ${formatValue(now.getTime() / 1000)}\n`;
}

/**
 * One family's header and the sample text of jobs 0 to `count` - 1 (`lineOf`, null for a job
 * without a sample), 1,000 jobs a part; nothing at all when no job has one.
 */
function* familyParts(name: string, help: string, count: number, lineOf: (job: number) => string | null): Generator<string> {
  let started = false;
  for (let start = 0; start < count; start += JOBS_PER_PART) {
    const lines: string[] = [];
    for (let i = start; i < Math.min(start + JOBS_PER_PART, count); i++) {
      const line = lineOf(i);
      if (line !== null) lines.push(line);
    }
    if (lines.length === 0) continue;
    if (!started) yield header(name, help);
    started = true;
    yield `${lines.join("\n")}\n`;
  }
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
