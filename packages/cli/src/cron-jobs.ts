import { readdir, readFile, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Declaration } from "lastbeat";
import { errnoText, isValidJobName, scheduleInterval } from "lastbeat/internal";
import { UsageError } from "./errors.js";
import { parseCrontab, type CronEntry, type CronProblem } from "./crontab.js";

/*
 * What crontabs say about jobs: lines that run `lastbeat run <job>` / `lastbeat beat <job>`
 * declare that job (so one that never beats is `missing`); the other lines are unmonitored.
 */

/** A crontab to read and whether it has a user column. */
export interface CrontabSource {
  path: string;
  kind: "system" | "user";
  /** For a spool file: its owner. */
  user?: string;
}

/** A job declared by a cron line. */
export interface CronDeclaredJob {
  job: string;
  declaration: Declaration;
  entry: CronEntry;
}

export interface CronInventory {
  declared: CronDeclaredJob[];
  /** Lines that run no lastbeat (without `# lastbeat: ignore`). */
  unmonitored: CronEntry[];
  problems: CronProblem[];
  /** Folders or files that could not be read (e.g. the spool when not root): one line each. */
  warnings: string[];
}

/**
 * The system's crontabs under `root` (default `/`): `/etc/crontab`, `/etc/cron.d/*` (names cron
 * reads: letters, digits, `_` and `-`, so no `*.dpkg-old`), and the user spool
 * `/var/spool/cron/crontabs/*` (Debian; `/var/spool/cron/*` files on Fedora-style hosts).
 */
export async function systemCrontabs(root = "/"): Promise<{ sources: CrontabSource[]; warnings: string[] }> {
  const sources: CrontabSource[] = [];
  const warnings: string[] = [];
  const etcCrontab = join(root, "etc/crontab");
  if (await isFile(etcCrontab)) sources.push({ path: etcCrontab, kind: "system" });
  const list = async (dir: string): Promise<string[]> => {
    try {
      return (await readdir(dir)).sort();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTDIR") warnings.push(`cannot read ${dir}: ${errnoText(error)}; its jobs are not checked`);
      return [];
    }
  };
  const cronD = join(root, "etc/cron.d");
  for (const name of await list(cronD)) {
    if (/^[A-Za-z0-9_-]+$/.test(name) && (await isFile(join(cronD, name)))) sources.push({ path: join(cronD, name), kind: "system" });
  }
  for (const spool of [join(root, "var/spool/cron/crontabs"), join(root, "var/spool/cron")]) {
    for (const name of await list(spool)) {
      if (name.startsWith(".") || name.startsWith("tmp.")) continue;
      if (await isFile(join(spool, name))) sources.push({ path: join(spool, name), kind: "user", user: name });
    }
  }
  return { sources, warnings };
}

async function isFile(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isFile() ?? false;
}

/** Reads the crontabs; `strict` sources (given by name) that cannot be read are an error. */
export async function readCronInventory(
  sources: readonly CrontabSource[],
  options: { hostTimeZone: string; strict?: ReadonlySet<string> },
): Promise<CronInventory> {
  const inventory: CronInventory = { declared: [], unmonitored: [], problems: [], warnings: [] };
  for (const source of sources) {
    let text: string;
    try {
      text = await readFile(source.path, "utf8");
    } catch (error) {
      const message = `cannot read crontab ${source.path}: ${errnoText(error)}`;
      if (options.strict?.has(source.path)) throw new UsageError(message);
      inventory.warnings.push(`${message}; its jobs are not checked`);
      continue;
    }
    const parsed = parseCrontab(text, { source: source.path, kind: source.kind, ...(source.user !== undefined && { user: source.user }) });
    inventory.problems.push(...parsed.problems);
    for (const entry of parsed.entries) {
      const invocation = lastbeatInvocation(entry.command);
      if (invocation === null) {
        if (!entry.ignored) inventory.unmonitored.push(entry);
        continue;
      }
      if (!isValidJobName(invocation.job)) {
        inventory.problems.push({
          source: entry.source,
          line: entry.line,
          text: entry.text,
          reason: `lastbeat ${invocation.command} ${JSON.stringify(invocation.job)}: not a valid job name`,
        });
        continue;
      }
      let declaration: Declaration;
      try {
        declaration = declarationFor(entry, options.hostTimeZone);
      } catch (error) {
        // A schedule that never comes (`0 0 30 2 *`) or an unknown CRON_TZ: the line is reported.
        inventory.problems.push({ source: entry.source, line: entry.line, text: entry.text, reason: (error as Error).message });
        continue;
      }
      inventory.declared.push({ job: invocation.job, declaration, entry });
    }
  }
  return inventory;
}

/** The line's schedule in its zone (`CRON_TZ`, else the host's cron's: see zone.ts). */
function declarationFor(entry: CronEntry, hostTimeZone: string): Declaration {
  // @reboot has no rhythm: the line only says the job exists; its timing comes from its beats.
  if (entry.schedule === null) return {};
  const tz = entry.tz ?? hostTimeZone;
  return { schedule: entry.schedule, tz, intervalSeconds: scheduleInterval(entry.schedule, tz) };
}

/**
 * `lastbeat run <job>` / `lastbeat beat <job>` anywhere in a shell command (after `cd /x &&`,
 * `VAR=1`, a path such as `/usr/local/bin/lastbeat` or `npx lastbeat`), with flags before or
 * after the job name. Null when the command runs no lastbeat.
 */
export function lastbeatInvocation(command: string): { command: "run" | "beat"; job: string } | null {
  const words = shellWords(command);
  let commandPosition = true;
  for (let i = 0; i < words.length - 1; i++) {
    const word = words[i] as string;
    if (SHELL_OPERATORS.has(word)) {
      commandPosition = true;
      continue;
    }
    if (!commandPosition) continue;
    // `X=1 lastbeat …`, `npx lastbeat …`, `nice -n 10 lastbeat …`: still the command word to come.
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word) || PREFIX_COMMANDS.has(basename(word)) || word.startsWith("-")) continue;
    if (basename(word) !== "lastbeat") {
      commandPosition = false;
      continue;
    }
    const sub = words[i + 1];
    if (sub !== "run" && sub !== "beat") continue;
    for (let j = i + 2; j < words.length; j++) {
      const arg = words[j] as string;
      if (arg === "--" || SHELL_OPERATORS.has(arg)) break;
      if (arg.startsWith("-")) {
        // `--every 5m`: the next word is the value, unless it is a flag itself or the flag is known to take none.
        if (!arg.includes("=") && !BOOLEAN_FLAGS.has(arg) && words[j + 1] !== undefined && !(words[j + 1] as string).startsWith("-")) j++;
        continue;
      }
      return { command: sub, job: arg };
    }
  }
  return null;
}

/** Commands that run the next word as the command (their own flags start with `-`). */
const PREFIX_COMMANDS = new Set(["npx", "exec", "env", "nice", "ionice", "nohup", "sudo", "chronic", "time", "command"]);
const BOOLEAN_FLAGS = new Set(["--no-overlap", "--json", "-h", "--help"]);
const SHELL_OPERATORS = new Set([";", "&&", "||", "|", "&", "(", ")", "{", "}"]);

/** Splits shell text into words and operators, honouring quotes and backslashes (enough to find a command). */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  const flush = () => {
    if (inWord) words.push(word);
    word = "";
    inWord = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      word += text.slice(i + 1, end === -1 ? text.length : end);
      inWord = true;
      i = end === -1 ? text.length : end;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        if (text[j] === "\\" && j + 1 < text.length) j++;
        word += text[j];
      }
      inWord = true;
      i = j;
    } else if (c === "\\" && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) flush();
    else if (";&|(){}".includes(c)) {
      flush();
      const two = text.slice(i, i + 2);
      if (two === "&&" || two === "||") {
        words.push(two);
        i++;
      } else words.push(c);
    } else if (c === "#" && !inWord) {
      break; // a shell comment (e.g. `# lastbeat: ignore`)
    } else {
      word += c;
      inWord = true;
    }
  }
  flush();
  return words;
}

/** `run-parts [opts] <folder>` in a command: the folder, or null. */
export function runPartsFolder(command: string): string | null {
  const words = shellWords(command);
  const at = words.findIndex((w) => basename(w) === "run-parts");
  if (at === -1) return null;
  for (let j = at + 1; j < words.length; j++) {
    const w = words[j] as string;
    if (SHELL_OPERATORS.has(w)) break;
    if (!w.startsWith("-")) return w;
  }
  return null;
}
