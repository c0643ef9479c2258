import { isUnbeaten, jobStateToJson, jsonWithJobs, sortJobStates } from "lastbeat/internal";
import type { JobState, JobStatus } from "lastbeat";
import { inlineMarkdown, MENTION_BREAK, plainLine } from "lastbeat/text";
import { availabilities, formatAvailability, type Availability, type Journal } from "./history.js";
import { STATUS_SYMBOL, statusLabel } from "./status.js";
import { formatAgo, formatDay, formatRatio, formatRunLength, formatSpan, formatWhen } from "./time.js";

/** What every renderer needs: the instant the report is "as of", and the reader's zone. */
export interface RenderOptions {
  now: Date;
  /** IANA zone for dates and times of day; `UTC` when absent. */
  tz?: string;
  /** The checker's journal, for each job's availability; without it the column says `—`. */
  journal?: Journal;
  /** Each job's availability when already computed from `journal` (the brief does it once). */
  availability?: ReadonlyMap<string, Availability>;
}

/** Each job's availability: as given, else from the journal. */
const availabilityOf = (options: RenderOptions) => options.availability ?? availabilities(options.journal?.entries ?? [], options.now);

/** One row of the heartbeat panel, as plain (unescaped) text; each format escapes its own way. */
export interface PanelRow {
  job: string;
  status: JobStatus;
  alerting: boolean;
  /** `✗ stale` */
  statusLabel: string;
  lastBeat: string;
  age: string;
  interval: string;
  ratio: string;
  lastDuration: string;
  /** `✓✓✗✓`: the last finished runs, oldest first. */
  runs: string;
  /** `99.3%`, `100% since 2 Apr`, or `—` when the journal has no line of the job. */
  availability: string;
  note: string;
}

export const PANEL_COLUMNS = [
  "Job",
  "Status",
  "Last beat",
  "Age",
  "Interval",
  "Ratio",
  "Last duration",
  "Last runs",
  "Availability",
  "Note",
] as const;

/** Columns aligned right: Ratio and Availability. */
export const RIGHT_ALIGNED: ReadonlySet<number> = new Set([5, 8]);

/** Finished runs shown in the panel: enough to see a pattern, few enough to keep the table narrow. */
export const PANEL_RUNS = 10;

/** Under the panel: what the two history columns mean, one line each. */
export const PANEL_LEGEND = [
  `Last runs: up to ${PANEL_RUNS}, oldest left, newest right (✓ ok, ✗ failed).`,
  "Availability: the share of the last 30 days the job was not alerting, from the checker's journal (— when it has no line of the job).",
].join("\n");

const NONE = "—";
/** Longest text kept in a panel cell, in characters. */
export const MAX_CELL_CHARS = 120;

/** The panel's rows, worst first. */
export function panelRows(states: readonly JobState[], options: RenderOptions): PanelRow[] {
  const tz = options.tz ?? "UTC";
  const available = availabilityOf(options);
  return sortJobStates(states).map((state) => ({
    job: state.job,
    status: state.status,
    alerting: state.alerting,
    statusLabel: statusLabel(state.status),
    lastBeat: state.lastBeatAt ? formatWhen(state.lastBeatAt, options.now, tz) : "never",
    age: state.lastBeatAt ? formatAgo(state.lastBeatAt, options.now) : NONE,
    interval: state.intervalSeconds ? formatSpan(state.intervalSeconds) : NONE,
    ratio: formatRatio(state.ratio),
    lastDuration:
      state.heartbeat?.duration_ms !== undefined && state.heartbeat.status !== "start"
        ? formatRunLength(state.heartbeat.duration_ms)
        : NONE,
    runs: runSymbols(state),
    availability: availabilityText(available.get(state.job), options.now, tz),
    note: noteFor(state, options.now, tz),
  }));
}

const RUN_SYMBOL: Readonly<Record<string, string>> = { ok: STATUS_SYMBOL.ok, fail: STATUS_SYMBOL.failed };

/**
 * `✓✓✗✓`, oldest first, from the heartbeat's `runs` (newest first in the file). A beat written
 * before runs were kept still tells its own run. Anything else a file puts there reads `?`.
 */
export function runSymbols(state: JobState): string {
  const hb = state.heartbeat;
  if (hb === null) return NONE;
  const runs: readonly unknown[] = Array.isArray(hb.runs) ? hb.runs : hb.status === "start" ? [] : [{ status: hb.status }];
  const symbols = runs
    .slice(0, PANEL_RUNS)
    .map((run) => RUN_SYMBOL[String((run as { status?: unknown } | null)?.status)] ?? "?")
    .reverse();
  return symbols.length === 0 ? NONE : symbols.join("");
}

/** `99.3%`, or `100% since 2 Apr` when the journal knows the job for less than 30 days. */
export function availabilityText(availability: Availability | undefined, now: Date, tz: string): string {
  if (availability === undefined) return NONE;
  const percent = formatAvailability(availability.ratio);
  return availability.whole ? percent : `${percent} since ${formatDay(availability.from, now, tz)}`;
}

/**
 * The Note column: why the job has its status, in words a reader can act on, with the job's own
 * message where it helps. The library's `reason` carries ISO times for machines; here we say
 * "due 3 hours ago" instead.
 */
export function noteFor(state: JobState, now: Date, tz = "UTC"): string {
  const hb = state.heartbeat;
  // `lastbeat run` says "exit code 1" when the command said nothing; the note names the exit code itself.
  const echoesExit = hb?.exit_code !== undefined && hb.message === `exit code ${hb.exit_code}`;
  const message = hb?.message !== undefined && !echoesExit ? plainLine(hb.message, MAX_CELL_CHARS) : "";
  const withMessage = (text: string) => (message ? `${text}: ${message}` : text);
  // A declared job that has not beaten yet waits for its first run (from `@reboot`, the next boot: no due time).
  const first = isUnbeaten(state) ? "no heartbeat yet; first run" : null;
  switch (state.status) {
    case "ok":
      return message || (state.dueAt ? `${first ?? "next beat"} due ${formatAgo(state.dueAt, now)}` : state.reason);
    case "late":
      return state.dueAt && state.graceEndAt
        ? `${first ?? "beat"} was due ${formatAgo(state.dueAt, now)}; alerts ${formatAgo(state.graceEndAt, now)}`
        : state.reason;
    case "stale":
      return state.dueAt ? `silent: beat was due ${formatAgo(state.dueAt, now)}` : state.reason;
    case "failed": {
      // An ok beat that still alerts is recovering: say how many ok runs it still needs.
      if (hb?.status === "ok") return recoveringNote(state, now);
      const exit = hb?.exit_code !== undefined ? ` with exit code ${hb.exit_code}` : "";
      return withMessage(`last run failed${exit}`);
    }
    case "running":
      return withMessage(`started ${formatAgo(startedAt(state), now)}`);
    case "overrun":
      return withMessage(`started ${formatAgo(startedAt(state), now)} and still not finished`);
    case "paused": {
      // The library says "paused until <ISO>" (or "in maintenance until <ISO>"); a reader wants "… until Fri 10 Apr 08:00".
      const [, why, until] = /^(paused|in maintenance) until (\S+)$/.exec(state.reason) ?? [];
      const at = until === undefined ? Number.NaN : Date.parse(until);
      return Number.isNaN(at) ? withMessage(state.reason) : withMessage(`${why} until ${formatWhen(new Date(at), now, tz)}`);
    }
    case "flaky": {
      // The reason ends with the message already; the count is what the panel adds to it.
      const count = FLAKY_COUNT.exec(state.reason)?.[0] ?? plainLine(state.reason, MAX_CELL_CHARS);
      const exit = hb?.exit_code !== undefined ? ` (exit code ${hb.exit_code})` : "";
      return withMessage(`${count}${exit}`);
    }
    case "missing":
    case "invalid":
      return state.reason;
  }
}

const FLAKY_COUNT = /^\d+ of \d+ failures before alerting/;

/** `recovering: 1 of 2 ok runs before recovery; last failure 3 hours ago`. */
function recoveringNote(state: JobState, now: Date): string {
  const counted = plainLine(state.reason.split(";")[0] ?? state.reason, MAX_CELL_CHARS);
  const failure = state.heartbeat?.runs?.find((run) => run.status === "fail");
  return failure ? `${counted}; last failure ${formatAgo(new Date(failure.at), now)}` : counted;
}

function startedAt(state: JobState): Date {
  const started = state.heartbeat?.started_at;
  return started !== undefined ? new Date(started) : (state.lastBeatAt ?? new Date(Number.NaN));
}

const EMPTY_PANEL = "No heartbeat files found.";

/** A row's cells in PANEL_COLUMNS order, unescaped. */
function cellsOf(row: PanelRow): string[] {
  return [row.job, row.statusLabel, row.lastBeat, row.age, row.interval, row.ratio, row.lastDuration, row.runs, row.availability, row.note];
}

/** The panel as a GFM table under a `## Heartbeat panel` heading, padded so it also reads as plain text. */
export function renderPanelMarkdown(rows: readonly PanelRow[]): string {
  const heading = "## Heartbeat panel";
  if (rows.length === 0) return `${heading}\n\n${EMPTY_PANEL}\n`;
  const escape = onceEach((cell) => inlineMarkdown(cell, MAX_CELL_CHARS));
  const cells = rows.map((row) => cellsOf(row).map(escape));
  // Widest cell per column by a loop: spreading 130,000 rows into Math.max overflows the stack.
  const widths = PANEL_COLUMNS.map((title, i) =>
    cells.reduce((width, row) => Math.max(width, charLength(row[i] ?? "")), Math.max(3, charLength(title))),
  );
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, i) => (RIGHT_ALIGNED.has(i) ? padStart(cell, widths[i]!) : padEnd(cell, widths[i]!))).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (RIGHT_ALIGNED.has(i) ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return `${heading}\n\n${[line(PANEL_COLUMNS), rule, ...cells.map(line)].join("\n")}\n\n${PANEL_LEGEND}\n`;
}

/** The panel as aligned columns for a terminal or a plain-text mail. */
export function renderPanelText(rows: readonly PanelRow[]): string {
  if (rows.length === 0) return `${EMPTY_PANEL}\n`;
  const header = PANEL_COLUMNS.map((title) => title.toUpperCase());
  const clean = onceEach((cell) => plainLine(cell, MAX_CELL_CHARS));
  const cells = rows.map((row) => cellsOf(row).map(clean));
  return `${alignColumns([header, ...cells], RIGHT_ALIGNED)}\n\n${PANEL_LEGEND}\n`;
}

/**
 * `convert` computed once per distinct cell of a table: most columns repeat a few values
 * (statuses, intervals, "—"), and escaping is most of what a 10,000-row panel costs.
 */
function onceEach(convert: (cell: string) => string): (cell: string) => string {
  const done = new Map<string, string>();
  return (cell) => {
    let out = done.get(cell);
    if (out === undefined) done.set(cell, (out = convert(cell)));
    return out;
  };
}

/** Left-aligned columns two spaces apart (right-aligned where asked); the last column is not padded. */
export function alignColumns(table: readonly (readonly string[])[], rightAligned: ReadonlySet<number> = new Set()): string {
  // By loops, not Math.max(...rows): spreading 130,000 rows into a call overflows the stack.
  const columns = table.reduce((n, row) => Math.max(n, row.length), 0);
  const widths = Array.from({ length: columns }, (_, i) => table.reduce((width, row) => Math.max(width, charLength(row[i] ?? "")), 0));
  return table
    .map((row) =>
      row
        .map((cell, i) => {
          if (rightAligned.has(i)) return padStart(cell, widths[i]!);
          return i === row.length - 1 ? cell : padEnd(cell, widths[i]!);
        })
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** The panel as JSON: the `status --json` shape (docs/spec.md, "JSON output") plus the job's message and the panel's note. */
export function panelJson(states: readonly JobState[], options: RenderOptions) {
  return { now: options.now.toISOString(), jobs: sortJobStates(states).map(panelJobJson(options)) };
}

function panelJobJson(options: RenderOptions): (state: JobState) => ReturnType<typeof jobJson> {
  const available = availabilityOf(options);
  return (state) => jobJson(state, options.now, options.tz, available.get(state.job));
}

/** renderPanelJson's text in pieces, its jobs 100 at a time (jsonWithJobs). */
export function panelJsonParts(states: readonly JobState[], options: RenderOptions): Generator<string> {
  return jsonWithJobs({ now: options.now.toISOString(), jobs: [] }, sortJobStates(states), panelJobJson(options));
}

/** One job in the report's JSON: `status --json` fields, then what the panel adds. */
export function jobJson(state: JobState, now: Date, tz = "UTC", availability?: Availability) {
  // Added to the status row, not spread into a new object: a spread's copy of 11 fields with 9
  // more is an object V8 builds and stringifies several times slower (10,000 jobs: ~80 ms).
  return Object.assign(jobStateToJson(state), {
    symbol: STATUS_SYMBOL[state.status],
    note: noteFor(state, now, tz),
    message: state.heartbeat?.message ?? null,
    last_duration_ms: state.heartbeat?.duration_ms ?? null,
    exit_code: state.heartbeat?.exit_code ?? null,
    output_tail: state.heartbeat?.output_tail ?? null,
    runs: state.heartbeat?.runs ?? null,
    availability: availability === undefined ? null : availabilityJson(availability),
  });
}

/** A job's availability in the report's JSON. */
export function availabilityJson(availability: Availability) {
  return {
    ratio: Math.round(availability.ratio * 1e6) / 1e6,
    text: formatAvailability(availability.ratio),
    from: availability.from.toISOString(),
    to: availability.to.toISOString(),
    whole_window: availability.whole,
    down_s: Math.round(availability.downSeconds),
  };
}

export function renderPanelJson(states: readonly JobState[], options: RenderOptions): string {
  return [...panelJsonParts(states, options)].join("");
}

/** Columns as a terminal counts them: code points, minus the zero-width joiner that defuses mentions. */
function charLength(text: string): number {
  // Most cells have neither a joiner nor a character outside the BMP: their length is their width.
  if (!COUNTED_APART.test(text)) return text.length;
  return Array.from(text.replaceAll(MENTION_BREAK, "")).length;
}

/** The joiner (no width) and surrogates (two UTF-16 units, one column). */
const COUNTED_APART = /[\u200D\uD800-\uDFFF]/;

function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - charLength(text)));
}

function padStart(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - charLength(text))) + text;
}
