/*
 * Crontab files as Debian's cron (Vixie cron 3.0) reads them: `/etc/crontab` and `/etc/cron.d/*`
 * with their user column, user crontabs (the spool) without. No npm package parses crontab
 * *files* with the user column and cron's own quirks (the `crontab` package drives `crontab -l`,
 * `cron-parser` parses expressions and brings luxon), so this is our own, checked against croner
 * by property tests. The rules are written down in docs/crontab.md.
 */

/** One field of the five: its values and whether cron saw it start with `*` (DOM_STAR/DOW_STAR). */
export interface CronField {
  values: ReadonlySet<number>;
  star: boolean;
}

/** A cron line that runs a command. */
export interface CronEntry {
  /** The file, as given. */
  source: string;
  /** 1-based line number. */
  line: number;
  /** The user the command runs as: the user column, or the spool file's owner. */
  user: string | null;
  /**
   * The 5-field expression lastbeat evaluates (croner syntax, same times as cron), or null for
   * `@reboot`, which has no schedule.
   */
  schedule: string | null;
  /** The schedule as written in the file (`@daily`, `*\/5 * * * *`, `0 6 * jan mon-fri`). */
  scheduleText: string;
  /**
   * `CRON_TZ` in effect for this line (cronie reads the schedule in it), or undefined: the host's
   * zone. A `TZ=` line is not the schedule's zone: cron only passes it on to the commands.
   */
  tz: string | undefined;
  /** `PATH` set above this line, or undefined: cron's default (`/usr/bin:/bin`). */
  path: string | undefined;
  /** The shell command as cron runs it (before the first unescaped `%`, `\%` unescaped). */
  command: string;
  /** The command text exactly as written, `%` part included. */
  commandText: string;
  /** Ends with `# lastbeat: ignore`. */
  ignored: boolean;
  /** The whole line as written. */
  text: string;
}

/** A line cron would reject or lastbeat cannot read: reported, never dropped. */
export interface CronProblem {
  source: string;
  line: number;
  text: string;
  reason: string;
}

export interface ParsedCrontab {
  entries: CronEntry[];
  problems: CronProblem[];
}

export interface ParseCrontabOptions {
  /** Path (or name) shown in problems. */
  source: string;
  /** `system` files (`/etc/crontab`, `/etc/cron.d/*`) have a user column; `user` files do not. */
  kind: "system" | "user";
  /** For a user crontab: its owner (the spool file's name). */
  user?: string;
}

interface FieldSpec {
  name: string;
  low: number;
  high: number;
  names?: readonly string[];
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

export const FIELDS: readonly FieldSpec[] = [
  { name: "minute", low: 0, high: 59 },
  { name: "hour", low: 0, high: 23 },
  { name: "day of month", low: 1, high: 31 },
  // Names map to 1..12 (jan = 1).
  { name: "month", low: 1, high: 12, names: MONTHS },
  // 0 and 7 are both Sunday.
  { name: "day of week", low: 0, high: 7, names: DAYS },
];

/** The nicknames of Vixie cron and what they stand for; `@reboot` has no schedule. */
export const NICKNAMES: Readonly<Record<string, string | null>> = {
  "@reboot": null,
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

export class CronSyntaxError extends Error {
  override readonly name = "CronSyntaxError";
}

/**
 * Parses one field the way cron's get_list/get_range do: lists of `*`, `n`, `a-b`, each range
 * with an optional `/step`; month and weekday names (three letters, any case). Throws
 * CronSyntaxError naming the field. A step after a single number (`5/10`) is refused: Vixie cron
 * silently reads it as `5` alone while other crons read `5-59/10`, so it never means one thing.
 */
export function parseCronField(text: string, spec: FieldSpec): CronField {
  const values = new Set<number>();
  const fail = (why: string): never => {
    throw new CronSyntaxError(`${spec.name} ${JSON.stringify(text)}: ${why}`);
  };
  if (text === "") fail("empty");
  const number = (token: string): number => {
    if (/^\d+$/.test(token)) {
      const n = Number(token);
      if (n < spec.low || n > spec.high) fail(`${token} is outside ${spec.low}-${spec.high}`);
      return n;
    }
    const index = spec.names?.indexOf(token.toLowerCase()) ?? -1;
    if (index === -1) fail(spec.names ? `${JSON.stringify(token)} is not a number or a name like ${spec.names[1]}` : `${JSON.stringify(token)} is not a number`);
    return spec.names === MONTHS ? index + 1 : index;
  };
  for (const part of text.split(",")) {
    const match = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/.exec(part);
    if (!match) fail(part === "" ? "empty list item" : `cannot read ${JSON.stringify(part)}`);
    const [, range, stepText] = match as unknown as [string, string, string | undefined];
    let from: number;
    let to: number;
    if (range === "*") {
      from = spec.low;
      to = spec.high === 7 ? 6 : spec.high;
    } else if (range.includes("-")) {
      const [a, b] = range.split("-") as [string, string];
      from = number(a);
      to = number(b);
      if (from > to) fail(`range ${range} runs backwards`);
    } else {
      from = to = number(range);
      if (stepText !== undefined) fail(`a step needs a range or * (cron reads ${range}/${stepText} as ${range} alone); write ${range}-${spec.high === 7 ? 6 : spec.high}/${stepText}`);
    }
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) fail("a step must be at least 1");
    for (let v = from; v <= to; v += step) values.add(spec.high === 7 && v === 7 ? 0 : v);
  }
  return { values, star: text.startsWith("*") };
}

/** The field's values as croner text: `*`, `*\/s`, `a-b/s`, or a list of runs. */
function fieldText(field: CronField, spec: FieldSpec, written: string): string {
  const high = spec.high === 7 ? 6 : spec.high;
  const sorted = [...field.values].sort((a, b) => a - b);
  if (sorted.length === high - spec.low + 1) return "*";
  const star = /^\*\/(\d+)$/.exec(written);
  // croner refuses a step past the field's maximum, which cron reads as the first value alone.
  if (star && Number(star[1]) <= spec.high) return `*/${star[1]}`;
  if (sorted.length >= 3) {
    const step = (sorted[1] as number) - (sorted[0] as number);
    if (step > 1 && sorted.every((v, i) => v === (sorted[0] as number) + i * step)) {
      return `${sorted[0]}-${sorted[sorted.length - 1]}/${step}`;
    }
  }
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(j > i ? `${sorted[i]}-${sorted[j]}` : `${sorted[i]}`);
    i = j + 1;
  }
  return parts.join(",");
}

/**
 * Five cron fields → the croner expression that fires at exactly the same minutes. Cron's day
 * rule: when either day field starts with `*`, a day must match both; otherwise either
 * (croner ORs by default; a `+` on the weekday asks it to AND).
 */
export function cronToCroner(fields: readonly string[]): string {
  if (fields.length !== 5) throw new CronSyntaxError(`needs 5 time fields, got ${fields.length}`);
  const parsed = fields.map((text, i) => parseCronField(text, FIELDS[i] as FieldSpec));
  const texts = parsed.map((field, i) => fieldText(field, FIELDS[i] as FieldSpec, fields[i] as string));
  const dom = parsed[2] as CronField;
  const dow = parsed[4] as CronField;
  let domText = texts[2] as string;
  let dowText = texts[4] as string;
  if (dom.star || dow.star) {
    if (domText !== "*" && dowText !== "*") dowText = `+${dowText}`;
  } else if (domText === "*" || dowText === "*") {
    // Either set is every day: OR makes it every day.
    domText = "*";
    dowText = "*";
  }
  return [texts[0], texts[1], domText, texts[3], dowText].join(" ");
}

const ENV_LINE = /^\s*([^\s=]+)\s*=\s?(.*)$/;
const IGNORE = /#\s*lastbeat:\s*ignore\s*$/;

/** Parses a crontab file's text; never throws: what it cannot read becomes a problem. */
export function parseCrontab(text: string, options: ParseCrontabOptions): ParsedCrontab {
  const entries: CronEntry[] = [];
  const problems: CronProblem[] = [];
  const env = new Map<string, string>();
  const lines = text.split("\n");
  // Cron needs a newline after the last entry; a last line without one is not run.
  const unterminated = lines.length > 0 && lines[lines.length - 1] !== "" ? lines.length : -1;
  if (lines[lines.length - 1] === "") lines.pop();
  lines.forEach((raw, index) => {
    const number = index + 1;
    const line = raw.replace(/\r$/, "");
    const trimmed = line.trim();
    if (trimmed === "" || trimmed.startsWith("#")) return;
    const problem = (reason: string) => problems.push({ source: options.source, line: number, text: line, reason });
    if (number === unterminated) {
      problem("no newline at the end of the file: cron does not run this last line");
      return;
    }
    const envMatch = /^[*@\d]/.test(trimmed) ? null : ENV_LINE.exec(line);
    if (envMatch) {
      env.set(envMatch[1] as string, unquote((envMatch[2] as string).trim()));
      return;
    }
    const tz = env.get("CRON_TZ") || undefined;
    try {
      const { schedule, scheduleText, rest } = readSchedule(trimmed);
      let user = options.user ?? null;
      let commandText = rest;
      if (options.kind === "system") {
        const m = /^(\S+)\s+(.*)$/.exec(rest);
        if (!m) throw new CronSyntaxError(rest === "" ? "no user and no command" : "a user but no command");
        user = m[1] as string;
        commandText = m[2] as string;
      }
      if (commandText.trim() === "") throw new CronSyntaxError("no command");
      entries.push({
        source: options.source,
        line: number,
        user,
        schedule,
        scheduleText,
        tz,
        path: env.get("PATH"),
        command: commandOf(commandText),
        commandText,
        ignored: IGNORE.test(commandText),
        text: line,
      });
    } catch (error) {
      if (!(error instanceof CronSyntaxError)) throw error;
      problem(error.message);
    }
  });
  return { entries, problems };
}

function readSchedule(line: string): { schedule: string | null; scheduleText: string; rest: string } {
  if (line.startsWith("@")) {
    const m = /^(\S+)\s*(.*)$/.exec(line) as RegExpExecArray;
    const nickname = (m[1] as string).toLowerCase();
    if (!(nickname in NICKNAMES)) {
      throw new CronSyntaxError(`unknown nickname ${m[1]} (cron knows ${Object.keys(NICKNAMES).join(", ")})`);
    }
    return { schedule: NICKNAMES[nickname] ?? null, scheduleText: m[1] as string, rest: m[2] as string };
  }
  const m = /^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
  if (!m) throw new CronSyntaxError("needs 5 time fields and a command");
  const fields = m.slice(1, 6) as string[];
  return { schedule: cronToCroner(fields), scheduleText: fields.join(" "), rest: m[6] ?? "" };
}

/** `%` ends the command (the rest is its stdin); `\%` is a literal `%`. */
export function commandOf(commandText: string): string {
  let out = "";
  for (let i = 0; i < commandText.length; i++) {
    const c = commandText[i];
    if (c === "\\" && commandText[i + 1] === "%") {
      out += "%";
      i++;
    } else if (c === "%") break;
    else out += c;
  }
  return out.trim();
}

/** Where the command text's `%` part starts (its length when there is none). */
export function stdinStart(commandText: string): number {
  for (let i = 0; i < commandText.length; i++) {
    if (commandText[i] === "\\" && commandText[i + 1] === "%") i++;
    else if (commandText[i] === "%") return i;
  }
  return commandText.length;
}

function unquote(value: string): string {
  const m = /^(['"])(.*)\1$/.exec(value);
  return m ? (m[2] as string) : value;
}
