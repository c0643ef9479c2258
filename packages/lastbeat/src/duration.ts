import { LastbeatError } from "./errors.js";

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/**
 * The longest duration accepted: 100 years. Longer ones put due times past what a date can hold
 * (year 275760) once multiplied by a grace, and no cron job runs less often.
 */
export const MAX_DURATION_SECONDS = 100 * 365.25 * 86_400;

/**
 * Parses `300`, `90s`, `5m`, `1h`, `1d`, `1w` (and compounds like `1h30m`) into seconds.
 * `what` names the flag or field in the error.
 */
export function parseDuration(input: string | number, what = "duration"): number {
  if (typeof input === "number") {
    if (Number.isFinite(input) && input > 0) return atMost100Years(input, String(input), what);
    throw new LastbeatError("E_DURATION", `${what} must be a positive number of seconds, got ${String(input)}`);
  }
  const text = input.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return parseDuration(Number(text), what);
  const parts = text.match(/^(?:\d+(?:\.\d+)?[smhdw])+$/) ? [...text.matchAll(/(\d+(?:\.\d+)?)([smhdw])/g)] : null;
  if (!parts || parts.length === 0) {
    throw new LastbeatError(
      "E_DURATION",
      `${what}: cannot read ${JSON.stringify(input)} as a duration (use 300, 90s, 5m, 1h, 1d or 1w)`,
    );
  }
  let seconds = 0;
  for (const [, amount, unit] of parts) seconds += Number(amount) * (UNIT_SECONDS[unit as string] ?? 0);
  if (!(seconds > 0)) throw new LastbeatError("E_DURATION", `${what} must be longer than zero, got ${JSON.stringify(input)}`);
  return atMost100Years(seconds, text, what);
}

function atMost100Years(seconds: number, text: string, what: string): number {
  if (seconds <= MAX_DURATION_SECONDS) return seconds;
  throw new LastbeatError("E_DURATION", `${what}: ${text} is longer than 100 years`);
}

/** Compact human duration: `45s`, `5m`, `1h 30m`, `2d 3h`, `1w 2d` (two largest units). */
export function formatDuration(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds)) return "?";
  const sign = totalSeconds < 0 ? "-" : "";
  // A file may carry any number (`"interval_s": 1e300` makes the job invalid); show it readably.
  if (Math.abs(totalSeconds) > MAX_DURATION_SECONDS) return `${sign}over 100 years`;
  let rest = Math.round(Math.abs(totalSeconds));
  if (rest < 60) return `${sign}${rest}s`;
  const parts: string[] = [];
  for (const [unit, size] of [["w", 604_800], ["d", 86_400], ["h", 3600], ["m", 60], ["s", 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
    if (parts.length === 2) break;
    if (parts.length === 1 && rest === 0) break;
  }
  return sign + parts.join(" ");
}

/** A larger multiple of a long interval puts the alert past the last date a `Date` can hold. */
const MAX_GRACE_MULTIPLE = 1000;

/** No grace declared: silent for more than twice the interval. One object, shared: every scanned job asks. */
const DEFAULT_GRACE: Readonly<{ multiple: number }> = Object.freeze({ multiple: 2 });

/** `"2x"` → { multiple: 2 }; `"30m"` → { seconds: 1800 }. Throws E_DURATION on anything else. */
export function parseGrace(grace: string | undefined): Readonly<{ multiple: number } | { seconds: number }> {
  if (grace === undefined) return DEFAULT_GRACE;
  const multiple = /^(\d+(?:\.\d+)?)x$/i.exec(grace.trim());
  if (multiple) {
    const n = Number(multiple[1]);
    if (n > MAX_GRACE_MULTIPLE) throw new LastbeatError("E_DURATION", `grace ${JSON.stringify(grace)} must be at most ${MAX_GRACE_MULTIPLE}x`);
    if (n >= 1) return { multiple: n };
    throw new LastbeatError("E_DURATION", `grace ${JSON.stringify(grace)} must be at least 1x`);
  }
  return { seconds: parseDuration(grace, "grace") };
}
