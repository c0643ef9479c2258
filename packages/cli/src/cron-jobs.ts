import { open, readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import type { Declaration } from "lastbeat";
import { errnoText, isValidJobName, parseDuration, parseGrace, scheduleInterval } from "lastbeat/internal";
import { UsageError } from "./errors.js";
import { parseCrontab, type CronEntry, type CronProblem } from "./crontab.js";

/*
 * What crontabs say about jobs: lines that run `lastbeat run <job>` / `lastbeat beat <job>`
 * declare that job (so one that never beats is `missing`); lines that run another lastbeat command
 * (`check`, `report`, …) are lastbeat's own; the other lines are unmonitored.
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
  /** The crontabs read (a crontab that could not be read declares nothing this run). */
  read: string[];
  /** Lines that run no lastbeat at all (without `# lastbeat: ignore`). */
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
  const inventory: CronInventory = { declared: [], read: [], unmonitored: [], problems: [], warnings: [] };
  for (const source of sources) {
    let text: string;
    let modifiedAt: Date;
    try {
      ({ text, modifiedAt } = await readCrontab(source.path));
    } catch (error) {
      const message = `cannot read crontab ${source.path}: ${errnoText(error)}`;
      if (options.strict?.has(source.path)) throw new UsageError(message);
      inventory.warnings.push(`${message}; its jobs are not checked`);
      continue;
    }
    inventory.read.push(source.path);
    const parsed = parseCrontab(text, { source: source.path, kind: source.kind, ...(source.user !== undefined && { user: source.user }) });
    inventory.problems.push(...parsed.problems);
    for (const entry of parsed.entries) {
      const invocation = lastbeatUse(entry.command);
      if (invocation === null) {
        if (!entry.ignored) inventory.unmonitored.push(entry);
        continue;
      }
      // The checker's own lines (`lastbeat check`, `lastbeat report`, as the README sets a host up)
      // are no job and not unmonitored: the checker is watched by its own heartbeat,
      // heartbeat-checker, which alerts when stale or missing. Wrapped as a job, a checker that
      // exits 1 while anything alerts would record `fail` and keep that job failed for ever.
      if (invocation.command === "other") continue;
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
        // The crontab's time: the latest the line can have gone in (the checker's memory may know an
        // earlier one: declaredSince in cron-scan.ts).
        declaration = { ...declarationFor(entry, invocation, options.hostTimeZone), declaredAt: modifiedAt };
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

/** A crontab's text and when it last changed. */
async function readCrontab(path: string): Promise<{ text: string; modifiedAt: Date }> {
  const handle = await open(path, "r");
  try {
    const [text, info] = await Promise.all([handle.readFile("utf8"), handle.stat()]);
    return { text, modifiedAt: info.mtime };
  } finally {
    await handle.close().catch(() => {});
  }
}

/** The line's schedule in its zone (`CRON_TZ`, else the host's cron's: see zone.ts). */
function declarationFor(entry: CronEntry, invocation: Invocation, hostTimeZone: string): Declaration {
  // @reboot has no rhythm: the line only says the job exists; its timing comes from its beats.
  if (entry.schedule === null) return {};
  const tz = entry.tz ?? hostTimeZone;
  // A line's timing wins over the file's as a whole, like a manifest's: the grace and the maximum
  // runtime the line gives its job are part of it, or a hung run with `--max-runtime 2h` would be
  // judged by the default grace (two days for a daily job).
  const declaration: Declaration = { schedule: entry.schedule, tz, intervalSeconds: scheduleInterval(entry.schedule, tz) };
  if (invocation.grace !== undefined) {
    parseGrace(invocation.grace);
    declaration.grace = invocation.grace;
  }
  if (invocation.maxRuntime !== undefined) declaration.maxRuntimeSeconds = parseDuration(invocation.maxRuntime, "--max-runtime");
  return declaration;
}

/**
 * `lastbeat run <job>` / `lastbeat beat <job>` anywhere in a shell command: after `cd /x &&`,
 * `VAR=1`, under any path (`/usr/local/bin/lastbeat`), behind the commands that run another one
 * with options of their own (`sudo -u app`, `nice -n 10`, `timeout 1h`, `flock -n /tmp/x`,
 * `sh -c '…'`: see WRAPPERS), with flags before or after the job name. Null when the command runs
 * no lastbeat, or runs it behind a wrapper whose arguments it cannot read: a guess could take the
 * wrapper's own argument (`-u app`) for the job, so such a line stays unmonitored, text and all.
 * Null too when it runs only lastbeat's other commands (`lastbeat check`): see lastbeatUse.
 */
export function lastbeatInvocation(command: string): Invocation | null {
  const use = lastbeatUse(command);
  return use === null || use.command === "other" ? null : use;
}

/**
 * What a command runs of lastbeat, found as lastbeatInvocation finds it: the job it declares, else
 * `{ command: "other" }` when it runs lastbeat's other commands (`lastbeat check --quiet …`,
 * `sudo -u app lastbeat report | mail …`; the whole line, whatever else it runs), else null. Only a command word counts: in
 * `grep lastbeat /var/log/syslog` or `echo lastbeat check`, lastbeat is an argument.
 */
export function lastbeatUse(command: string): Invocation | OtherCommand | null {
  return invocationIn(shellWords(command), 0);
}

/**
 * Wrappers looked behind, one inside the other (`sudo -u app nice -n 5 timeout 1h …` is three), or
 * shell strings within shell strings. Deeper than this a line is unmonitored: another user's
 * crontab line of 20,000 `nice`s must not cost seconds or the stack of a root checker.
 */
export const MAX_WRAPPER_DEPTH = 16;

interface Invocation {
  command: "run" | "beat";
  job: string;
  /** The line's own `--grace` and `--max-runtime`, as written: part of what the line declares. */
  grace?: string;
  maxRuntime?: string;
}

/** A lastbeat command other than `run`/`beat` (`check`, `report`, `status`, `--version`, …): no job. */
interface OtherCommand {
  command: "other";
}

function invocationIn(words: readonly string[], depth: number): Invocation | OtherCommand | null {
  // A job declared anywhere in the line wins (`lastbeat check; lastbeat beat x` declares x), so
  // another lastbeat command is only remembered while the search goes on. A line with one of
  // lastbeat's other commands is lastbeat's whole, whatever else it runs: read as a job instead,
  // `discover` would wrap the checker in `lastbeat run`, whose job then latches `failed` (the
  // checker exits 1 while anything alerts), and shell syntax (redirections, guards, wrappers) is
  // too varied to tell a second job from the checker's setup safely (docs/crontab.md).
  let other: OtherCommand | null = null;
  let commandPosition = true;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (SHELL_OPERATORS.has(word)) {
      commandPosition = true;
      continue;
    }
    // `X=1 lastbeat …`, `then lastbeat …`: the command word is still to come.
    if (!commandPosition || ASSIGNMENT.test(word) || RESERVED_WORDS.has(word)) continue;
    commandPosition = false;
    const name = basename(word);
    if (name === "lastbeat") {
      const sub = words[i + 1];
      // `lastbeat run` or `beat` whose job cannot be read runs no job: it stays unmonitored, as before.
      if (sub !== "run" && sub !== "beat") other = { command: "other" };
      const found = jobAfter(words, i + 1);
      if (found !== null) return found;
      continue;
    }
    if (!WRAPPERS.has(name)) continue;
    // The wrapper's arguments end with its simple command; the command it runs is read on its own.
    const end = simpleCommandEnd(words, i + 1);
    const inner = depth < MAX_WRAPPER_DEPTH ? wrappedBy(words.slice(i, end)) : null;
    const found = inner === null ? null : invocationIn(inner, depth + 1);
    if (found?.command === "other") other = found;
    else if (found !== null) return found;
    i = end - 1;
  }
  return other;
}

/**
 * The words of the command a wrapper at the start of `words` runs (`sudo -u app nice -n 5 x` →
 * `nice -n 5 x`), read with the wrapper's own options (WRAPPERS); null when `words` does not start
 * with a wrapper, or with one whose arguments cannot be read or that runs no command.
 */
export function wrappedBy(words: readonly string[]): string[] | null {
  const wrapper = WRAPPERS.get(basename(words[0] ?? ""));
  return wrapper === undefined ? null : wrappedCommand(wrapper, words.slice(1, simpleCommandEnd(words, 1)));
}

/** Whether `word` (any path to it) is a command that runs another, as WRAPPERS knows them. */
export const isWrapper = (word: string): boolean => WRAPPERS.has(basename(word));

/** Where the simple command around `words[from]` ends: the next shell operator, or the end. */
function simpleCommandEnd(words: readonly string[], from: number): number {
  let end = from;
  while (end < words.length && !SHELL_OPERATORS.has(words[end] as string)) end++;
  return end;
}

/**
 * After `lastbeat`: `run` or `beat`, then the first word that is neither a flag nor a flag's value,
 * with the timing flags the line sets (`--grace`, `--max-runtime`, before or after the job name,
 * up to `--`): the line declares those as it declares the schedule.
 */
function jobAfter(words: readonly string[], at: number): Invocation | null {
  const sub = words[at];
  if (sub !== "run" && sub !== "beat") return null;
  let job: string | undefined;
  const timing: { grace?: string; maxRuntime?: string } = {};
  for (let j = at + 1; j < words.length; j++) {
    const arg = words[j] as string;
    if (arg === "--" || SHELL_OPERATORS.has(arg)) break;
    if (arg.startsWith("-")) {
      const eq = arg.indexOf("=");
      const name = eq >= 0 ? arg.slice(0, eq) : arg;
      // `--every 5m`: the next word is the value, unless it is a flag itself or the flag is known to take none.
      const takesNext = eq < 0 && !BOOLEAN_FLAGS.has(arg) && words[j + 1] !== undefined && !(words[j + 1] as string).startsWith("-");
      const value = eq >= 0 ? arg.slice(eq + 1) : takesNext ? (words[j + 1] as string) : undefined;
      if (takesNext) j++;
      if (value !== undefined && name === "--grace") timing.grace = value;
      if (value !== undefined && name === "--max-runtime") timing.maxRuntime = value;
      continue;
    }
    job ??= arg;
  }
  return job === undefined ? null : { command: sub, job, ...timing };
}

const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;
const RESERVED_WORDS = new Set(["!", "if", "then", "elif", "else", "while", "until", "do"]);
const BOOLEAN_FLAGS = new Set(["--no-overlap", "--json", "-h", "--help"]);
const SHELL_OPERATORS = new Set([";", "&&", "||", "|", "&", "(", ")", "{", "}"]);

/**
 * How a command that runs another one reads its own arguments, written as its source gives them
 * to getopt, so that what it runs is found behind them.
 */
interface WrapperSyntax {
  /** getopt's short options: a letter, then `:` when it takes a value, `::` when only an attached one (`-Evalue`). */
  short: string;
  /** getopt_long's long options, the same way (`user:`); as with getopt_long, a unique abbreviation works. */
  long?: readonly string[];
  /** Other words read among the options: nice's old `-10`, sudo's `VAR=value`. */
  alsoOptions?: RegExp;
  /** Arguments between the options and the command (timeout's duration); an optional one is taken only when it matches. */
  operands?: readonly { match: RegExp; optional?: true }[];
  /** Options after which no command runs (`ionice -p <pid>…`, `sudo -l`); `--help` and `--version` always are. */
  noCommand?: readonly string[];
  /** Options whose value is a shell command (`su -c '…'`). */
  shellValue?: readonly string[];
  /** Options whose value is split into the command's first words (`env -S 'lastbeat run x'`). */
  splitValue?: readonly string[];
  /** A shell: with one of these options its first argument is a shell command (`sh -c '…'`); without, a script. */
  shellFlag?: readonly string[];
  /** A word right after the operands that makes the next one a shell command (`flock <file> -c '…'`). */
  shellAfterOperands?: readonly string[];
  /**
   * GNU getopt's own order, options anywhere (su, runuser): the other words are the command only
   * with one of these options (`runuser -u app lastbeat …`); else they are a user and its shell's arguments.
   */
  permute?: { commandWith: readonly string[] };
}

type Arity = "none" | "required" | "optional";
/** By the number of colons after an option in getopt's spelling. */
const ARITY: readonly Arity[] = ["none", "required", "optional"];

interface Wrapper extends WrapperSyntax {
  shortOptions: ReadonlyMap<string, Arity>;
  longOptions: ReadonlyMap<string, Arity>;
}

const SU_OPTIONS = ["command:", "session-command:", "fast", "login", "preserve-environment", "pty", "shell:", "group:", "supp-group:", "whitelist-environment:"];

/** A shell: POSIX sh's and bash's one-letter options (`sh -ec`, `bash -lc`), `-o`/`-O <option>`, bash's long ones. */
const SHELL: WrapperSyntax = {
  short: "abCcDefhIiklmnPpqrsTtuVvxBEHo:O:",
  long: ["debugger", "dump-po-strings", "dump-strings", "init-file:", "rcfile:", "login", "noediting", "noprofile", "norc", "posix", "pretty-print", "restricted", "verbose"],
  shellFlag: ["-c"],
};

/**
 * The commands that run another one, by their file name: each one's options from its own source
 * (sudo 1.9, GNU coreutils 9, util-linux 2.38–2.42, moreutils, npm, the shells' builtins). A
 * wrapper not listed here ends the search: its command is unmonitored.
 */
const WRAPPERS: ReadonlyMap<string, Wrapper> = new Map(
  Object.entries<WrapperSyntax>({
    sudo: {
      // `-h host` is taken as a value: sudo reads a word after a lone -h that is not an option as the host.
      short: "+Aa:BbC:c:D:Eeg:Hh:iKklNnPp:R:r:SsT:t:U:u:Vv",
      long: ["askpass", "auth-type:", "background", "bell", "close-from:", "login-class:", "chdir:", "preserve-env::", "edit", "group:", "set-home", "host:", "login", "remove-timestamp", "reset-timestamp", "list", "no-update", "non-interactive", "preserve-groups", "prompt:", "chroot:", "role:", "stdin", "shell", "type:", "command-timeout:", "other-user:", "user:", "validate"],
      // sudo takes `VAR=value` among its options: any word with `=` not starting with `/` or `-`.
      alsoOptions: /^(?![/-]).*=/s,
      noCommand: ["-e", "--edit", "-l", "--list", "-v", "--validate", "-K", "--remove-timestamp", "-V"],
    },
    nice: { short: "+n:", long: ["adjustment:"], alsoOptions: /^-[-+]?\d+$/ },
    ionice: {
      short: "+c:n:p:P:tu:hV",
      long: ["class:", "classdata:", "pid:", "pgid:", "ignore", "uid:"],
      noCommand: ["-p", "--pid", "-P", "--pgid", "-u", "--uid", "-h", "-V"],
    },
    timeout: {
      short: "+fk:ps:v",
      long: ["foreground", "kill-after:", "preserve-status", "signal:", "verbose"],
      operands: [{ match: /^(\d+\.?\d*|\.\d+)[smhd]?$/ }],
    },
    flock: {
      short: "+sexnoFuw:E:hV",
      long: ["shared", "exclusive", "unlock", "nonblocking", "nb", "timeout:", "wait:", "conflict-exit-code:", "close", "no-fork", "verbose", "fcntl"],
      // The lock file, or a file descriptor's number and no command.
      operands: [{ match: /^/ }],
      shellAfterOperands: ["-c", "--command"],
      noCommand: ["-h", "-V"],
    },
    chronic: { short: "ev" },
    // `-` (an empty environment) may stand between the options and `NAME=value`.
    env: {
      short: "+a:C:iS:u:v0",
      long: ["argv0:", "ignore-environment", "null", "unset:", "chdir:", "default-signal::", "ignore-signal::", "block-signal::", "list-signal-handling", "debug", "split-string:"],
      operands: [{ match: /^-$/, optional: true }],
      splitValue: ["-S", "--split-string"],
    },
    nohup: { short: "+" },
    setsid: { short: "+cfwhV", long: ["ctty", "fork", "wait"], noCommand: ["-h", "-V"] },
    stdbuf: { short: "+i:o:e:", long: ["input:", "output:", "error:"] },
    chrt: {
      short: "+abdD:fiphmoP:T:rRvV",
      long: ["all-tasks", "batch", "deadline", "fifo", "idle", "pid", "max", "other", "rr", "sched-runtime:", "sched-period:", "sched-deadline:", "reset-on-fork", "verbose"],
      // Since util-linux 2.42 a policy without priorities (--other, --batch, --idle) may leave it out.
      operands: [{ match: /^\d+$/, optional: true }],
      noCommand: ["-p", "--pid", "-m", "--max", "-h", "-V"],
    },
    taskset: {
      short: "+apchV",
      long: ["all-tasks", "pid", "cpu-list"],
      // A mask (`03`, `0xff`) or, with -c, a list (`0-3,8`, `0-31:2`).
      operands: [{ match: /^(?:0[xX])?[\da-fA-F]+$|^[\d,:-]+$/ }],
      noCommand: ["-p", "--pid", "-h", "-V"],
    },
    su: { short: "c:fg:G:lmpPs:hVw:", long: SU_OPTIONS, shellValue: ["-c", "--command", "--session-command"], permute: { commandWith: [] }, noCommand: ["-h", "-V"] },
    runuser: {
      short: "c:fg:G:lmpPs:u:hVw:",
      long: [...SU_OPTIONS, "user:"],
      shellValue: ["-c", "--command", "--session-command"],
      permute: { commandWith: ["-u", "--user"] },
      noCommand: ["-h", "-V"],
    },
    npx: {
      short: "yc:p:w:dqs",
      long: ["yes", "no", "package:", "call:", "workspace:", "workspaces", "include-workspace-root", "loglevel:", "silent", "quiet", "registry:", "prefix:", "cache:", "userconfig:", "prefer-offline", "prefer-online", "offline", "no-install", "ignore-existing"],
      shellValue: ["-c", "--call"],
    },
    exec: { short: "cla:" },
    command: { short: "pvV", noCommand: ["-v", "-V"] },
    time: { short: "+af:o:pqvV", long: ["append", "format:", "output:", "portability", "quiet", "verbose"], noCommand: ["-V"] },
    sh: SHELL,
    bash: SHELL,
    dash: SHELL,
    ash: SHELL,
    ksh: SHELL,
    mksh: SHELL,
    zsh: SHELL,
  }).map(([name, syntax]) => [name, compile(syntax)]),
);

function compile(syntax: WrapperSyntax): Wrapper {
  const shortOptions = new Map<string, Arity>();
  for (const m of syntax.short.replace(/^\+/, "").matchAll(/(.)(:{0,2})/g)) shortOptions.set(m[1] as string, ARITY[(m[2] as string).length] as Arity);
  const longOptions = new Map<string, Arity>();
  for (const spec of [...(syntax.long ?? []), "help", "version"]) {
    const m = /^([^:]+)(:{0,2})$/.exec(spec) as RegExpExecArray;
    longOptions.set(m[1] as string, ARITY[(m[2] as string).length] as Arity);
  }
  return { ...syntax, shortOptions, longOptions };
}

/** The words of the command `wrapper` runs, given its arguments; null when it runs none we can tell. */
function wrappedCommand(wrapper: Wrapper, args: readonly string[]): string[] | null {
  const read = readOptions(wrapper, args);
  if (read === null) return null;
  const { options, rest } = read;
  const given = (names: readonly string[] | undefined) => options.find((o) => names?.includes(o.name));
  if (given(wrapper.noCommand) ?? given(["--help", "--version"])) return null;
  const shell = given(wrapper.shellValue);
  if (shell) return shellWords(shell.value ?? "");
  const split = given(wrapper.splitValue);
  if (split) return [...shellWords(split.value ?? ""), ...rest];
  if (wrapper.permute) return given(wrapper.permute.commandWith) ? rest : null;
  let at = 0;
  for (const operand of wrapper.operands ?? []) {
    const word = rest[at];
    if (word !== undefined && operand.match.test(word)) at++;
    else if (!operand.optional) return null;
  }
  const next = rest[at];
  if (wrapper.shellFlag) return given(wrapper.shellFlag) && next !== undefined ? shellWords(next) : null;
  if (next !== undefined && wrapper.shellAfterOperands?.includes(next)) return rest[at + 1] === undefined ? null : shellWords(rest[at + 1] as string);
  return rest.slice(at);
}

interface GivenOption {
  /** As the tool knows it: `-u`, `--user` (an abbreviation written out). */
  name: string;
  value?: string;
}

/**
 * The options at the start of `args` as getopt reads them (clusters `-nE`, attached values `-n10`,
 * `--user=app` or `--user app`, abbreviations, `--` ending them) and the words after them. Null on
 * an option the tool does not have: whether it takes the next word is unknown, so the command is.
 */
function readOptions(wrapper: Wrapper, args: readonly string[]): { options: GivenOption[]; rest: string[] } | null {
  const options: GivenOption[] = [];
  const others: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const word = args[i] as string;
    if (word === "--") return { options, rest: [...others, ...args.slice(i + 1)] };
    if (wrapper.alsoOptions?.test(word)) {
      options.push({ name: word });
    } else if (word.startsWith("--")) {
      const eq = word.indexOf("=");
      const name = longName(wrapper, word.slice(2, eq === -1 ? undefined : eq));
      const arity = name === undefined ? undefined : wrapper.longOptions.get(name);
      if (arity === undefined) {
        // Unknown, but with its value attached (`--registry=…`) it takes no other word.
        if (eq === -1) return null;
        options.push({ name: word });
      } else if (eq !== -1) {
        if (arity === "none") return null;
        options.push({ name: `--${name}`, value: word.slice(eq + 1) });
      } else if (arity === "required") {
        if (i + 1 === args.length) return null;
        options.push({ name: `--${name}`, value: args[++i] as string });
      } else options.push({ name: `--${name}` });
    } else if (word.startsWith("-") && word !== "-") {
      for (let j = 1; j < word.length; j++) {
        const name = `-${word[j]}`;
        const arity = wrapper.shortOptions.get(word[j] as string);
        if (arity === undefined) return null;
        if (arity === "none") {
          options.push({ name });
          continue;
        }
        if (j + 1 < word.length) options.push({ name, value: word.slice(j + 1) });
        else if (arity === "optional") options.push({ name });
        else if (i + 1 < args.length) options.push({ name, value: args[++i] as string });
        else return null;
        break;
      }
    } else if (wrapper.permute) others.push(word);
    else return { options, rest: args.slice(i) };
  }
  return { options, rest: others };
}

/** A long option's full name: as written, or the one option it abbreviates. */
function longName(wrapper: Wrapper, written: string): string | undefined {
  if (wrapper.longOptions.has(written)) return written;
  const candidates = written === "" ? [] : [...wrapper.longOptions.keys()].filter((name) => name.startsWith(written));
  return candidates.length === 1 ? candidates[0] : undefined;
}

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
