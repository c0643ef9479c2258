import { jobStateToJson, sortJobStates } from "lastbeat/internal";
import type { JobState, JobStatus } from "lastbeat";
import { inlineMarkdown, MENTION_BREAK, plainLine } from "lastbeat/text";
import { STATUS_SYMBOL, statusLabel } from "./status.js";
import { formatAgo, formatRatio, formatRunLength, formatSpan, formatWhen } from "./time.js";

/** What every renderer needs: the instant the report is "as of", and the reader's zone. */
export interface RenderOptions {
  now: Date;
  /** IANA zone for dates and times of day; `UTC` when absent. */
  tz?: string;
}

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
  "Note",
] as const;

const NONE = "—";
/** Longest text kept in a panel cell, in characters. */
export const MAX_CELL_CHARS = 120;

/** The panel's rows, worst first. */
export function panelRows(states: readonly JobState[], options: RenderOptions): PanelRow[] {
  const tz = options.tz ?? "UTC";
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
    note: noteFor(state, options.now, tz),
  }));
}

/**
 * The Note column: why the job has its status, in words a reader can act on, with the job's own
 * message where it helps. The library's `reason` carries ISO times for machines; here we say
 * "due 3 hours ago" instead.
 */
export function noteFor(state: JobState, now: Date, tz = "UTC"): string {
  const hb = state.heartbeat;
  const message = hb?.message !== undefined ? plainLine(hb.message, MAX_CELL_CHARS) : "";
  const withMessage = (text: string) => (message ? `${text}: ${message}` : text);
  switch (state.status) {
    case "ok":
      return message || (state.dueAt ? `next beat due ${formatAgo(state.dueAt, now)}` : state.reason);
    case "late":
      return state.dueAt && state.graceEndAt
        ? `beat was due ${formatAgo(state.dueAt, now)}; alerts ${formatAgo(state.graceEndAt, now)}`
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
      // The library says "paused until <ISO>"; a reader wants "paused until Fri 10 Apr 08:00".
      const until = /^paused until (\S+)$/.exec(state.reason)?.[1];
      const at = until === undefined ? Number.NaN : Date.parse(until);
      return Number.isNaN(at) ? withMessage(state.reason) : withMessage(`paused until ${formatWhen(new Date(at), now, tz)}`);
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
  return [row.job, row.statusLabel, row.lastBeat, row.age, row.interval, row.ratio, row.lastDuration, row.note];
}

/** The panel as a GFM table under a `## Heartbeat panel` heading, padded so it also reads as plain text. */
export function renderPanelMarkdown(rows: readonly PanelRow[]): string {
  const heading = "## Heartbeat panel";
  if (rows.length === 0) return `${heading}\n\n${EMPTY_PANEL}\n`;
  const cells = rows.map((row) => cellsOf(row).map((cell) => inlineMarkdown(cell, MAX_CELL_CHARS)));
  const widths = PANEL_COLUMNS.map((title, i) =>
    Math.max(3, charLength(title), ...cells.map((row) => charLength(row[i] ?? ""))),
  );
  const RIGHT = 5; // Ratio
  const line = (row: readonly string[]) =>
    `| ${row.map((cell, i) => (i === RIGHT ? padStart(cell, widths[i]!) : padEnd(cell, widths[i]!))).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (i === RIGHT ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return `${heading}\n\n${[line(PANEL_COLUMNS), rule, ...cells.map(line)].join("\n")}\n`;
}

/** The panel as aligned columns for a terminal or a plain-text mail. */
export function renderPanelText(rows: readonly PanelRow[]): string {
  if (rows.length === 0) return `${EMPTY_PANEL}\n`;
  const header = PANEL_COLUMNS.map((title) => title.toUpperCase());
  const cells = rows.map((row) => cellsOf(row).map((cell) => plainLine(cell, MAX_CELL_CHARS)));
  return `${alignColumns([header, ...cells], new Set([5]))}\n`;
}

/** Left-aligned columns two spaces apart (right-aligned where asked); the last column is not padded. */
export function alignColumns(table: readonly (readonly string[])[], rightAligned: ReadonlySet<number> = new Set()): string {
  const columns = Math.max(0, ...table.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...table.map((row) => charLength(row[i] ?? ""))));
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
  return {
    now: options.now.toISOString(),
    jobs: sortJobStates(states).map((state) => jobJson(state, options.now, options.tz)),
  };
}

/** One job in the report's JSON: `status --json` fields, then what the panel adds. */
export function jobJson(state: JobState, now: Date, tz = "UTC") {
  return {
    ...jobStateToJson(state),
    symbol: STATUS_SYMBOL[state.status],
    note: noteFor(state, now, tz),
    message: state.heartbeat?.message ?? null,
    last_duration_ms: state.heartbeat?.duration_ms ?? null,
    exit_code: state.heartbeat?.exit_code ?? null,
    output_tail: state.heartbeat?.output_tail ?? null,
  };
}

export function renderPanelJson(states: readonly JobState[], options: RenderOptions): string {
  return `${JSON.stringify(panelJson(states, options), null, 2)}\n`;
}

/** Columns as a terminal counts them: code points, minus the zero-width joiner that defuses mentions. */
function charLength(text: string): number {
  return Array.from(text.replaceAll(MENTION_BREAK, "")).length;
}

function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - charLength(text)));
}

function padStart(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - charLength(text))) + text;
}
