/**
 * `date.toISOString()`, the same string, computed in plain arithmetic: a scan of 100,000 jobs
 * formats half a million times (reasons, `status --json`), and V8's own formatter costs several
 * times as much per call. Years outside 0000–9999 (signed six-digit years) and invalid dates go
 * to `toISOString` itself, which also keeps its RangeError for the latter.
 */
export function isoTime(date: Date): string {
  const ms = date.getTime();
  // 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z
  if (!(ms >= -62_167_219_200_000 && ms <= 253_402_300_799_999)) return date.toISOString();
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  // Days since 1970-01-01 to a civil date (Howard Hinnant, "chrono-compatible low-level date algorithms").
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const dayOfEra = z - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shifted = Math.floor((5 * dayOfYear + 2) / 153); // months from March
  const day = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
  const month = shifted < 10 ? shifted + 3 : shifted - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  // One flat string straight from its character codes: a template of many parts would be a rope of
  // a dozen heap objects, and every state keeps three or four of these for as long as it lives.
  return String.fromCharCode(
    ZERO + Math.floor(year / 1000), ZERO + (Math.floor(year / 100) % 10), ZERO + (Math.floor(year / 10) % 10), ZERO + (year % 10), DASH,
    ZERO + Math.floor(month / 10), ZERO + (month % 10), DASH, ZERO + Math.floor(day / 10), ZERO + (day % 10), T,
    ZERO + Math.floor(hours / 10), ZERO + (hours % 10), COLON, ZERO + Math.floor(minutes / 10), ZERO + (minutes % 10), COLON,
    ZERO + Math.floor(seconds / 10), ZERO + (seconds % 10), DOT,
    ZERO + Math.floor(millis / 100), ZERO + (Math.floor(millis / 10) % 10), ZERO + (millis % 10), Z,
  );
}

const [ZERO, DASH, T, COLON, DOT, Z] = [..."0-T:.Z"].map((c) => c.charCodeAt(0)) as [number, number, number, number, number, number];
