import { escapeHtml, plainLine } from "lastbeat/text";
import { SINCE_TITLE, UNMONITORED_NOTE, sinceLines, unmonitoredText, type Brief, type BriefAlert } from "./brief.js";
import { MAX_CELL_CHARS, PANEL_COLUMNS, PANEL_LEGEND, RIGHT_ALIGNED } from "./panel.js";
import type { PanelRow } from "./panel.js";
import type { JobStatus } from "lastbeat";

/**
 * HTML output (docs/spec.md, "Morning brief"): one self-contained page — inline CSS, no scripts, no fonts, images or
 * links to fetch — so it can be mailed, archived or opened from disk. Every piece of text goes
 * through `escapeHtml`; a Content-Security-Policy forbids anything but the inline style anyway.
 */

function tone(status: JobStatus): "good" | "warn" | "bad" | "info" {
  switch (status) {
    case "ok":
      return "good";
    case "late":
    case "flaky":
      return "warn";
    case "running":
    case "paused":
      return "info";
    default:
      return "bad";
  }
}

/** The panel as an HTML `<table>`, for embedding in another page (`--panel --format html`). */
export function renderPanelHtml(rows: readonly PanelRow[], journalNote: string | null = null): string {
  if (rows.length === 0) return `<section class="lastbeat-panel">\n<h2>Heartbeat panel</h2>\n<p>No heartbeat files found.</p>\n</section>\n`;
  const head = PANEL_COLUMNS.map((title, i) => `<th${RIGHT_ALIGNED.has(i) ? ' class="num"' : ""}>${escapeHtml(title)}</th>`).join("");
  const body = rows
    .map((row) => {
      const cells = [
        `<td class="job">${escapeHtml(row.job)}</td>`,
        `<td><span class="status ${tone(row.status)}">${escapeHtml(row.statusLabel)}</span></td>`,
        `<td>${escapeHtml(row.lastBeat)}</td>`,
        `<td>${escapeHtml(row.age)}</td>`,
        `<td>${escapeHtml(row.interval)}</td>`,
        `<td class="num">${escapeHtml(row.ratio)}</td>`,
        `<td>${escapeHtml(row.lastDuration)}</td>`,
        `<td class="runs">${escapeHtml(row.runs)}</td>`,
        `<td class="num">${escapeHtml(row.availability)}</td>`,
        `<td class="note">${escapeHtml(plainLine(row.note, MAX_CELL_CHARS))}</td>`,
      ];
      return `<tr class="${tone(row.status)}">${cells.join("")}</tr>`;
    })
    .join("\n");
  const lines = [...PANEL_LEGEND.split("\n"), ...(journalNote === null ? [] : [plainLine(journalNote)])];
  const legend = `<p class="legend">${lines.map(escapeHtml).join("<br>")}</p>`;
  return `<section class="lastbeat-panel">\n<h2>Heartbeat panel</h2>\n<table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>\n${legend}\n</section>\n`;
}

/** "Since the last brief": the window, the journal's note, then one item per event. */
function sinceHtml(brief: Brief): string {
  const [window, ...rest] = sinceLines(brief.since);
  const parts = [`<section class="since">`, `<h2>${escapeHtml(SINCE_TITLE)}</h2>`, `<p class="muted">${escapeHtml(plainLine(window ?? ""))}</p>`];
  for (const line of rest) parts.push(`<p>${escapeHtml(plainLine(line))}</p>`);
  if (brief.since.events.length > 0) {
    const items = brief.since.events.map((event) => `<li><strong>${escapeHtml(plainLine(event.job))}</strong> ${escapeHtml(plainLine(event.text))}</li>`);
    parts.push(`<ul>\n${items.join("\n")}\n</ul>`);
  }
  parts.push(`</section>`);
  return parts.join("\n");
}

function alertHtml(alert: BriefAlert): string {
  const parts = [
    `<article class="alert">`,
    `<h3><span class="status bad">${escapeHtml(alert.statusLabel)}</span> ${escapeHtml(alert.job)}</h3>`,
    `<p>${escapeHtml(alert.note)}</p>`,
    `<p class="facts">${escapeHtml(alert.facts.join(" · "))}</p>`,
  ];
  if (alert.file) parts.push(`<p class="facts">file <code>${escapeHtml(alert.file)}</code></p>`);
  if (alert.tail) {
    parts.push(`<details open><summary>${alert.tailCaption}</summary><pre>${escapeHtml(alert.tail.text)}</pre></details>`);
  }
  parts.push(`</article>`);
  return parts.join("\n");
}

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #656d76; --bg: #ffffff; --line: #d0d7de;
  --good: #1a7f37; --warn: #9a6700; --bad: #cf222e; --info: #0969da; --tint: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #8d96a0; --bg: #0d1117; --line: #30363d;
  --good: #3fb950; --warn: #d29922; --bad: #f85149; --info: #58a6ff; --tint: #161b22; } }
* { box-sizing: border-box; }
body { margin: 0 auto; padding: 2rem 1.25rem 4rem; max-width: 80rem; color: var(--fg); background: var(--bg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .75rem; padding-bottom: .3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 0 0 .25rem; }
.summary { font-size: 1.1rem; font-weight: 600; margin: .25rem 0; }
.muted, .facts { color: var(--muted); }
.facts { margin: .15rem 0; font-size: .9rem; }
.checker { padding: .5rem .75rem; border-left: 4px solid var(--good); background: var(--tint); }
.checker.bad { border-color: var(--bad); }
.checker.warn { border-color: var(--warn); }
.alert { padding: .75rem 1rem; margin: .75rem 0; border: 1px solid var(--line); border-left: 4px solid var(--bad); border-radius: 6px; }
.alert p { margin: .25rem 0; }
pre { margin: .5rem 0 0; padding: .75rem; overflow-x: auto; background: var(--tint); border-radius: 6px;
  font: 13px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; word-break: break-word; }
summary { cursor: pointer; color: var(--muted); font-size: .9rem; }
table { width: 100%; border-collapse: collapse; font-size: .92rem; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); }
td { white-space: nowrap; }
td.note { white-space: normal; overflow-wrap: anywhere; min-width: 12rem; }
td.job { font-weight: 600; }
td.runs { letter-spacing: .08em; }
.legend { color: var(--muted); font-size: .85rem; margin: .5rem 0 0; }
.since ul { padding-left: 1.25rem; }
.since li { margin: .2rem 0; overflow-wrap: anywhere; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad { background: color-mix(in srgb, var(--bad) 8%, transparent); }
tr.warn { background: color-mix(in srgb, var(--warn) 8%, transparent); }
.status { font-weight: 600; }
.status.good { color: var(--good); } .status.warn { color: var(--warn); }
.status.bad { color: var(--bad); } .status.info { color: var(--info); }
.table-wrap { overflow-x: auto; }
footer { margin-top: 2rem; color: var(--muted); font-size: .85rem; }
`.trim();

/** The brief as one self-contained HTML page. */
export function renderBriefHtml(brief: Brief): string {
  const title = `Morning brief — ${brief.date}`;
  const parts: string[] = [];
  parts.push(`<h1>${escapeHtml(title)}</h1>`);
  parts.push(`<p class="summary">${escapeHtml(brief.summary)}</p>`);
  parts.push(`<p class="muted">As of ${escapeHtml(`${brief.time} ${brief.tz}`)}</p>`);
  if (brief.checker) {
    parts.push(
      `<p class="checker ${tone(brief.checker.status)}"><strong>Checker:</strong> ${escapeHtml(brief.checker.text)}</p>`,
    );
  }
  parts.push(`<h2>Needs attention${brief.alerts.length ? ` (${brief.alerts.length})` : ""}</h2>`);
  if (brief.alerts.length === 0) parts.push(`<p>Nothing: no job is alerting.</p>`);
  for (const alert of brief.alerts) parts.push(alertHtml(alert));
  parts.push(sinceHtml(brief));
  parts.push(`<div class="table-wrap">\n${renderPanelHtml(brief.rows).trimEnd()}\n</div>`);
  if (brief.unmonitored.length > 0) {
    parts.push(`<h2>Unmonitored cron lines (${brief.unmonitored.length})</h2>`, `<p class="muted">${escapeHtml(UNMONITORED_NOTE)}</p>`);
    parts.push(`<ul>\n${brief.unmonitored.map((line) => `<li><code>${escapeHtml(unmonitoredText(line))}</code></li>`).join("\n")}\n</ul>`);
  }
  parts.push(`<footer>Generated by lastbeat report at ${escapeHtml(brief.now.toISOString())}.</footer>`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${escapeHtml(`${title}: ${brief.summary}`)}</title>
<style>
${STYLE}
</style>
</head>
<body>
<main>
${parts.join("\n")}
</main>
</body>
</html>
`;
}
