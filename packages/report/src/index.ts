export { renderBrief, formatBrief, renderPanel, isReportFormat, REPORT_FORMATS } from "./render.js";
export type { ReportFormat } from "./render.js";
export { buildBrief, briefJson } from "./brief.js";
export type { Brief, BriefAlert, BriefOptions, CheckerFreshness, UnmonitoredLine } from "./brief.js";
export { panelRows, panelJson, noteFor, PANEL_COLUMNS } from "./panel.js";
export type { PanelRow, RenderOptions } from "./panel.js";
export { STATUS_SYMBOL, statusLabel } from "./status.js";
export { formatAgo, formatRatio, formatRunLength, formatSpan, formatWhen, isValidTimeZone, localTimeZone } from "./time.js";
