import type { Summary } from "./stats.js";

/** One line of the results table (and of results.json). */
export interface Row {
  id: string;
  measure: string;
  unit: "ms" | "MiB" | "requests" | "×";
  /** Per-round values of the lastbeat side (a median or p99 per round, or one value per run). */
  lastbeat: Summary | null;
  baseline: Summary | null;
  baselineLabel: string;
  /** Per-round ratios lastbeat ÷ baseline, measured side by side. */
  ratio: Summary | null;
  target: string;
  /** Whether the target holds (judged on the median), null when there is no target. */
  met: boolean | null;
  /** Free text shown instead of numbers (e.g. request counts) or after them. */
  text?: string;
  note?: string;
}

export function fmt(value: number, unit: Row["unit"]): string {
  if (!Number.isFinite(value)) return "n/a";
  if (unit === "×") return `${value.toFixed(2)}×`;
  if (unit === "MiB") return `${value.toFixed(0)} MiB`;
  if (unit === "requests") return String(value);
  return value >= 100 ? `${value.toFixed(0)} ms` : value >= 10 ? `${value.toFixed(1)} ms` : `${value.toFixed(2)} ms`;
}

function spread(s: Summary | null, unit: Row["unit"]): string {
  if (!s) return "—";
  if (s.n === 1) return fmt(s.p50, unit);
  const bare = (v: number) => fmt(v, unit).replace(/ (ms|MiB)$|×$/, "");
  return `${fmt(s.p50, unit)} (${bare(s.min)}–${bare(s.max)})`;
}

/** The markdown table: median (min–max) of each side and of the side-by-side ratios. */
export function renderTable(rows: readonly Row[]): string {
  const lines = [
    "| measure | lastbeat | baseline | ratio | target | met |",
    "|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const lastbeat = row.text ?? spread(row.lastbeat, row.unit);
    const baseline = row.baseline ? `${spread(row.baseline, row.unit)} ${row.baselineLabel}` : row.baselineLabel || "—";
    const ratio = row.ratio ? spread(row.ratio, "×") : "—";
    const met = row.met === null ? "—" : row.met ? "yes" : "**no**";
    lines.push(`| ${row.measure} | ${lastbeat} | ${baseline} | ${ratio} | ${row.target} | ${met}${row.note ? ` (${row.note})` : ""} |`);
  }
  return `${lines.join("\n")}\n`;
}
