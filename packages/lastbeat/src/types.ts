/** The heartbeat file format tag written by this version. */
export const HEARTBEAT_FORMAT = "lastbeat/1";
/** Readers never trust a heartbeat file larger than this. */
export const MAX_HEARTBEAT_BYTES = 64 * 1024;
/** A beat more than this far in the future is `invalid` (clock skew or forgery). */
export const MAX_FUTURE_SKEW_MS = 5 * 60 * 1000;
export const MAX_MESSAGE_BYTES = 1024;
export const MAX_OUTPUT_TAIL_BYTES = 4096;

export type BeatStatus = "ok" | "fail" | "start";

/** How many finished runs a beat carries in `runs`. */
export const MAX_RUNS = 20;
/** The largest `alert_after` / `recover_after` accepted: a run history longer than `runs` cannot judge more. */
export const MAX_THRESHOLD = MAX_RUNS;

/** One finished run in a heartbeat's `runs` history, newest first. */
export interface RunRecord {
  at: string;
  status: "ok" | "fail";
  duration_ms?: number;
  exit_code?: number;
  /**
   * The run's message, on the newest record only (the writer strips it from every older one, so
   * the file stays small): a `start` beat judged alerting reuses it for the failed run's reason.
   */
  message?: string;
}

/** One `<job>.last` file, format `lastbeat/1` (docs/spec.md, "Heartbeat files"). Field names are the file's own. */
export interface Heartbeat {
  format?: typeof HEARTBEAT_FORMAT;
  job: string;
  status: BeatStatus;
  at: string;
  interval_s: number;
  schedule?: string;
  tz?: string;
  grace?: string;
  max_runtime_s?: number;
  last_ok_at?: string;
  started_at?: string;
  duration_ms?: number;
  exit_code?: number;
  signal?: string;
  run_id?: string;
  pid?: number;
  host?: string;
  message?: string;
  output_tail?: string;
  /** The job's last finished runs (at most MAX_RUNS), newest first; the beat's own run first on ok/fail. */
  runs?: RunRecord[];
  /** Failed runs in a row before the job alerts (default 1); fewer make it `flaky`. */
  alert_after?: number;
  /** Ok runs in a row before an alerting job recovers (default 1). */
  recover_after?: number;
}

export type JobStatus =
  | "ok"
  | "late"
  | "flaky"
  | "stale"
  | "failed"
  | "running"
  | "overrun"
  | "missing"
  | "invalid"
  | "paused";

/** Statuses that open or keep an alert issue. */
export const ALERTING_STATUSES: ReadonlySet<JobStatus> = new Set([
  "stale",
  "failed",
  "overrun",
  "missing",
  "invalid",
]);

/** Worst first: the order of the panel and of issue tables. */
export const STATUS_SEVERITY: readonly JobStatus[] = [
  "invalid",
  "failed",
  "overrun",
  "missing",
  "stale",
  "flaky",
  "late",
  "running",
  "paused",
  "ok",
];

/** What a manifest (or a heartbeat file) declares about a job's expected rhythm. */
export interface Declaration {
  /** Seconds between runs. */
  intervalSeconds?: number;
  /** 5-field cron expression; when set it defines the expected times. */
  schedule?: string;
  /** IANA zone of `schedule`; UTC when absent. */
  tz?: string;
  /** `"2x"`-style multiple of the interval, or a duration string like `"30m"`. */
  grace?: string;
  maxRuntimeSeconds?: number;
  /** `true`, or an ISO time until which the job is paused. */
  paused?: boolean | string;
  /** Failed runs in a row before the job alerts (default 1). */
  alertAfter?: number;
  /** Ok runs in a row before an alerting job recovers (default 1). */
  recoverAfter?: number;
  /** Recurring maintenance windows: inside one the job is `paused`; a run due inside one is judged from its end. */
  maintenance?: MaintenanceWindow[];
  /**
   * Since when the job has been declared: the CLI's memory of it (`heartbeat-checker.declared`),
   * else the modification time of the manifest or crontab that declares it. A declared job with no heartbeat file is judged as if it
   * had beaten then: `ok` until its first run is due, `late` within its grace, `missing` (alerting)
   * after. Without it (or dated more than 5 minutes in the future) such a job is `missing` at once.
   */
  declaredAt?: Date;
}

/** A recurring maintenance window: starts at each `schedule` occurrence in `tz` (UTC when absent), lasts `durationSeconds`. */
export interface MaintenanceWindow {
  schedule: string;
  durationSeconds: number;
  tz?: string;
}

/** One line of the checker's journal `heartbeat-checker.journal`: a job's status changed. */
export interface JournalEntry {
  /** When the change happened as far as the files tell (e.g. the failing beat's time), ISO UTC. */
  at: string;
  job: string;
  /** The previous status, or null when the journal had never seen the job. */
  from: JobStatus | null;
  to: JobStatus;
  reason: string;
}

/** The checker's journal file name, beside its own heartbeat. */
export const JOURNAL_FILE = "heartbeat-checker.journal";

/** The evaluation of one job at one instant (docs/spec.md, "Status model"). */
export interface JobState {
  job: string;
  status: JobStatus;
  alerting: boolean;
  /** One human line saying why the job has this status. */
  reason: string;
  lastBeatAt: Date | null;
  lastOkAt: Date | null;
  ageSeconds: number | null;
  intervalSeconds: number | null;
  /** age ÷ interval, unrounded. */
  ratio: number | null;
  dueAt: Date | null;
  graceEndAt: Date | null;
  /** Since when this job has been alerting, derived from the files only (deterministic). */
  alertingSince: Date | null;
  /** Path of the heartbeat file, or null for a `missing` job. */
  file: string | null;
  /** The parsed heartbeat when the file was valid. */
  heartbeat: Heartbeat | null;
}

/** The job name `lastbeat check` beats under after every run. */
export const CHECKER_JOB = "heartbeat-checker";
