import { basename } from "node:path";
import { MAX_WRAPPER_DEPTH, isWrapper, lastbeatInvocation, lastbeatUse, shellWords, wrappedBy } from "./cron-jobs.js";
import { parseCrontab, stdinStart } from "./crontab.js";

/*
 * `lastbeat discover`'s rewrite of one crontab: every line that runs no lastbeat is wrapped in
 * `lastbeat run <job> --schedule '<its schedule>' -- sh -c '<its command>'`. Everything else
 * (environment lines, comments, `# lastbeat: ignore` lines, lines already monitored, the checker's
 * own `lastbeat check`/`report` lines, lines cron rejects) is kept byte for byte, so a second run
 * changes nothing.
 */

export interface WrappedJob {
  job: string;
  line: number;
  schedule: string;
  tz?: string;
}

export interface WrapResult {
  text: string;
  wrapped: WrappedJob[];
  /** Lines left as they are, with why (`@reboot` has no schedule to declare). */
  skipped: { line: number; reason: string }[];
}

export interface WrapOptions {
  source: string;
  kind: "system" | "user";
  user?: string;
  /** Job names already in use (monitored lines, earlier files): a derived name never reuses one. */
  taken: Set<string>;
  /**
   * The command word that starts lastbeat for a line, given the `PATH` cron uses for it
   * (undefined: cron's default). Plain `lastbeat` when absent.
   */
  lastbeatFor?: (cronPath: string | undefined) => string;
}

/** Rewrites `text`; adds every name it gives out to `options.taken`. */
export function wrapCrontab(text: string, options: WrapOptions): WrapResult {
  const parsed = parseCrontab(text, { source: options.source, kind: options.kind, ...(options.user !== undefined && { user: options.user }) });
  const lines = text.split("\n");
  const wrapped: WrappedJob[] = [];
  const skipped: WrapResult["skipped"] = [];
  for (const entry of parsed.entries) {
    // A line that runs lastbeat already, as a job or as the checker (`lastbeat check`), stays as written.
    if (entry.ignored || lastbeatUse(entry.command) !== null) continue;
    if (entry.schedule === null) {
      skipped.push({ line: entry.line, reason: `${entry.scheduleText} has no schedule to declare: wrap it by hand with lastbeat run <job> --every <duration>` });
      continue;
    }
    const job = uniqueName(jobNameFor(entry.command), options.taken);
    options.taken.add(job);
    const raw = lines[entry.line - 1] as string;
    const cr = raw.endsWith("\r") ? "\r" : "";
    const line = cr ? raw.slice(0, -1) : raw;
    const end = line.trimEnd().length;
    const start = end - entry.commandText.length;
    const cut = stdinStart(entry.commandText);
    const command = entry.commandText.slice(0, cut).trimEnd();
    const stdin = entry.commandText.slice(cut);
    const tz = entry.tz !== undefined ? ` --tz ${shellQuote(entry.tz)}` : "";
    const word = options.lastbeatFor?.(entry.path) ?? "lastbeat";
    const wrap = `${word} run ${job} --schedule ${shellQuote(entry.schedule)}${tz} -- sh -c ${shellQuote(command)}${stdin === "" ? "" : stdin}`;
    lines[entry.line - 1] = `${line.slice(0, start)}${wrap}${line.slice(end)}${cr}`;
    wrapped.push({ job, line: entry.line, schedule: entry.schedule, ...(entry.tz !== undefined && { tz: entry.tz }) });
  }
  return { text: lines.join("\n"), wrapped, skipped };
}

/** Names of the jobs that `text`'s lines already declare (`lastbeat run/beat <job>`). */
export function declaredNames(text: string, options: Omit<WrapOptions, "taken" | "lastbeatFor">): string[] {
  const parsed = parseCrontab(text, { source: options.source, kind: options.kind, ...(options.user !== undefined && { user: options.user }) });
  return parsed.entries.flatMap((entry) => lastbeatInvocation(entry.command)?.job ?? []);
}

/** `'…'` for sh: nothing inside is special but `'` itself. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}

const INTERPRETERS = new Set(["sh", "bash", "dash", "zsh", "python", "python3", "node", "perl", "php", "ruby"]);
const OPERATORS = new Set([";", "&&", "||", "|", "&", "(", ")", "{", "}"]);

/**
 * A job name from what the command runs: its program (or the script an interpreter or
 * `run-parts` runs), without folder and extension, made valid
 * (`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`). The same command always gives the same name.
 */
export function jobNameFor(command: string): string {
  let words = shellWords(command);
  let i = 0;
  let unwrapped = 0;
  const skipTo = (from: number) => {
    // past `cd /x &&` and `VAR=1`: the command that does the work comes after
    let j = from;
    while (j < words.length && !OPERATORS.has(words[j] as string)) j++;
    return j + 1;
  };
  for (;;) {
    const word = words[i];
    if (word === undefined) break;
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) i++;
    else if (word === "cd" || word === "umask" || word === "export" || word === "set") i = skipTo(i);
    else if (isWrapper(word)) {
      // `sudo -u app /usr/bin/x`, `flock -n /tmp/x sync.sh`: read as each wrapper reads its options,
      // so the name is x's or sync's, not app's or the lock file's.
      const inner = unwrapped++ < MAX_WRAPPER_DEPTH ? wrappedBy(words.slice(i)) : null;
      if (inner !== null && inner.length > 0) {
        words = inner;
        i = 0;
        continue;
      }
      i++;
      while (words[i]?.startsWith("-") || /^\d+[smhd]?$/.test(words[i] ?? "")) i++; // their flags, nice's/timeout's numbers
    } else break;
  }
  let program = basename(words[i] ?? "");
  if (INTERPRETERS.has(program) || program === "run-parts") {
    const target = words.slice(i + 1).find((w) => !w.startsWith("-") && !OPERATORS.has(w));
    if (target !== undefined && !(INTERPRETERS.has(program) && words[i + 1] === "-c")) program = basename(target);
  }
  const name = program
    .replace(/\.(sh|bash|py|js|mjs|pl|rb|php)$/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 120);
  return name === "" ? "cron-job" : name;
}

function uniqueName(name: string, taken: ReadonlySet<string>): string {
  if (!taken.has(name)) return name;
  for (let n = 2; ; n++) if (!taken.has(`${name}-${n}`)) return `${name}-${n}`;
}

