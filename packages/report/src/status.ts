import type { JobStatus } from "lastbeat";

/**
 * A symbol that reads at a glance plus the word, so the status survives a plain-text mail and a
 * colour-blind reader: ✓ healthy, ◷ late (a warning), ✗ alerting, ▶ running, ‖ paused.
 * All are single-width characters so text columns stay aligned.
 */
export const STATUS_SYMBOL: Readonly<Record<JobStatus, string>> = {
  ok: "✓",
  late: "◷",
  flaky: "≈",
  running: "▶",
  paused: "‖",
  stale: "✗",
  failed: "✗",
  overrun: "✗",
  missing: "✗",
  invalid: "✗",
};

/** `✗ stale` */
export function statusLabel(status: JobStatus): string {
  return `${STATUS_SYMBOL[status]} ${status}`;
}
