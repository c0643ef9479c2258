import type { JobState } from "lastbeat";
import { briefJsonParts, buildBrief, renderBriefJson, renderBriefMarkdown, renderBriefText } from "./brief.js";
import type { Brief, BriefOptions } from "./brief.js";
import { renderBriefHtml, renderPanelHtml } from "./html.js";
import { panelJsonParts, panelRows, renderPanelJson, renderPanelMarkdown, renderPanelText } from "./panel.js";
import type { RenderOptions } from "./panel.js";
import { journalNote } from "./since.js";
import { inlineMarkdown, plainLine } from "lastbeat/text";

export const REPORT_FORMATS = ["md", "text", "json", "html"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function isReportFormat(value: string): value is ReportFormat {
  return (REPORT_FORMATS as readonly string[]).includes(value);
}

/** The heartbeat panel alone, for embedding in another report. Pure: (states, now, tz) → text. */
export function renderPanel(states: readonly JobState[], options: RenderOptions & { format?: ReportFormat }): string {
  const format = options.format ?? "md";
  if (format === "json") return renderPanelJson(states, options);
  const rows = panelRows(states, options);
  // The Availability column is `—` throughout without a journal: say why, under the panel.
  const note = options.journal === undefined ? null : journalNote(options.journal, options.now, options.tz ?? "UTC");
  if (format === "text") return renderPanelText(rows) + (note === null ? "" : `${plainLine(note)}\n`);
  if (format === "html") return renderPanelHtml(rows, note);
  return renderPanelMarkdown(rows) + (note === null ? "" : `${inlineMarkdown(note)}\n`);
}

/** The morning brief. Pure: (states, now, tz) → text. */
export function renderBrief(states: readonly JobState[], options: BriefOptions & { format?: ReportFormat }): string {
  return formatBrief(buildBrief(states, options), options.format);
}

/** A brief already built (see `buildBrief`) in one format. */
export function formatBrief(brief: Brief, format: ReportFormat = "md"): string {
  switch (format) {
    case "text":
      return renderBriefText(brief);
    case "json":
      return renderBriefJson(brief);
    case "html":
      return renderBriefHtml(brief);
    case "md":
      return renderBriefMarkdown(brief);
  }
}

/**
 * renderPanel's text in pieces to write one after another: JSON a hundred jobs at a time (a
 * fleet's is too long for one string), the other formats whole.
 */
export function renderPanelParts(states: readonly JobState[], options: RenderOptions & { format?: ReportFormat }): Iterable<string> {
  return options.format === "json" ? panelJsonParts(states, options) : [renderPanel(states, options)];
}

/** formatBrief's text in pieces, as renderPanelParts. */
export function formatBriefParts(brief: Brief, format: ReportFormat = "md"): Iterable<string> {
  return format === "json" ? briefJsonParts(brief) : [formatBrief(brief, format)];
}
