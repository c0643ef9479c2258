import { statSync } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { Option } from "commander";
import { writeHeartbeat, type JobState } from "lastbeat";
import {
  CHECKER_JOB,
  FOLDERS_FILE,
  isCheckerJob,
  isUnbeaten,
  readFolderMemory,
  rememberFolders,
  writeFolderMemory,
  DECLARED_FILE,
  readDeclaredMemory,
  rememberDeclared,
  writeDeclaredMemory,
  JOURNAL_FILE,
  JOURNAL_MAX_BYTES,
  isValidJobName,
  formatDuration,
  isoTime,
  redact,
  secretsIn,
  sortJobStates,
  statusJson,
  updateJournal,
} from "lastbeat/internal";
import { plainLine } from "lastbeat/text";
import type { AppliedAction, Forge, SyncMode } from "@lastbeat/forge";
import { UsageError, healthExit } from "../errors.js";
import type { CliIo, RegisterCommand } from "../io.js";
import { checkerDir, checkerFolder, lockCheckerFolder } from "../folder-memory.js";
import { absolute, addScanOptions, durationOption, jsonOption, parsePathArg, type ScanFlags } from "../options.js";
import { addCronOptions, cronScan, scanStates, type CronFlags, type CronScan } from "../cron-scan.js";
import { InvalidArgumentError } from "commander";
import { HEARTBEAT_USE } from "../slim.js";
import { writeParts } from "../out-file.js";

/** The checker's own heartbeat: a stale checker is itself an alert (docs/spec.md, "Morning brief"). */

const FORGES = ["github", "gitea", "gitlab", "file", "none"] as const;
type ForgeFlag = (typeof FORGES)[number];

/** Where each forge's token is read from, first found wins. */
const TOKEN_ENV: Record<"github" | "gitea" | "gitlab", string[]> = {
  github: ["LASTBEAT_TOKEN", "GITHUB_TOKEN", "GH_TOKEN"],
  gitea: ["LASTBEAT_TOKEN", "GITEA_TOKEN", "FORGEJO_TOKEN"],
  gitlab: ["LASTBEAT_TOKEN", "GITLAB_TOKEN"],
};

interface CheckFlags extends ScanFlags, CronFlags {
  forge?: ForgeFlag;
  repo?: string;
  url?: string;
  mode?: SyncMode;
  label?: string;
  dryRun?: boolean;
  quiet?: boolean;
  every?: number;
  scope?: string;
  maxNewIssues?: number;
}

interface CheckConfig {
  forge: ForgeFlag;
  repo: string;
  url: string | undefined;
  token: string;
  mode: SyncMode;
  label: string;
  dryRun: boolean;
  everySeconds: number;
  scope: string;
  maxNewIssues: number;
  /** Writes one run may make, from how often it runs: GitHub allows 500 content writes an hour. */
  maxWrites: number;
}

export const registerCheck: RegisterCommand = (program, io, setExit) => {
  addCronOptions(
    addScanOptions(
      program
        .command("check")
        .description("open, update or close the alert issue on a forge; exit 1 when a job is alerting"),
    ),
  )
    .addOption(new Option("--forge <forge>", "where the alert issue lives (default: $LASTBEAT_FORGE)").choices(FORGES))
    .addOption(new Option("--repo <repo>", "owner/name on GitHub or Gitea, group/subgroup/project on GitLab; a folder for --forge file").argParser(parsePathArg))
    .addOption(new Option("--url <url>", "API base: GitHub Enterprise (https://ghe.example.com/api/v3), Gitea/Forgejo (https://git.example.com) or self-managed GitLab (https://gitlab.example.com)").argParser(parsePathArg))
    .addOption(new Option("--mode <mode>", "one issue for all alerting jobs, or one per job").choices(["rollup", "per-job"]).default("rollup"))
    .option("--label <name>", "label that marks the alert issues (created when missing)", "heartbeat")
    .option("--scope <name>", "which checker the issues belong to when many share a repository (default: $LASTBEAT_SCOPE, else the host name)")
    .addOption(new Option("--max-new-issues <n>", "per-job mode: new issues a run may open; the rest share one storm issue").argParser(parseCount).default(10))
    .option("--dry-run", "print the planned forge actions and change nothing")
    .option("--quiet", "print only when the forge was changed (an issue opened, edited, commented or closed): from cron, one mail per change; errors are always printed")
    .addOption(durationOption("--every <duration>", "how often cron runs this check, for its own heartbeat (default 15m)"))
    .addOption(jsonOption("print the status JSON object (docs/spec.md) plus the forge actions"))
    .addHelpText(
      "after",
      `
Token: $LASTBEAT_TOKEN, else $GITHUB_TOKEN (github), $GITEA_TOKEN (gitea) or $GITLAB_TOKEN (gitlab). Never printed.
Scope: checkers on many hosts can share one repository and label; each only touches the issues
of its own scope. In Kubernetes (a new host name every run) --scope is required.
Journal: each change of a job's status is appended to heartbeat-checker.journal beside the
checker's own heartbeat, for the morning brief (kept 90 days; not on --dry-run).
Folders: the folders each --dir pattern matched are remembered in heartbeat-checker.folders
beside it; one that no longer matches alerts until it is back or retired (lastbeat retire 'folder:<dir>').
Declared jobs: since when each is declared is kept in heartbeat-checker.declared beside it; one
that never beat alerts as missing once its first run from then is overdue, however often its
crontab or manifest changes.

Examples:
  */15 * * * *  lastbeat check --quiet --forge github --repo acme/ops
  */15 * * * *  lastbeat check --quiet --forge gitea --url https://git.example.com --repo ops/alerts
  */15 * * * *  lastbeat check --quiet --forge gitlab --repo acme/infra/ops
  */15 * * * *  lastbeat check --quiet --forge file --repo /var/lib/lastbeat/issues
(--quiet: it prints, and cron mails, only when the forge changed.)`,
    )
    .action(async (flags: CheckFlags) => {
      const config = configFrom(flags, io);
      const scan = await cronScan(flags, io);
      const ownDir = checkerDir(flags, io);
      // The checker's own beats carry the real time, unless the whole run is pinned with --now.
      const beatTime = () => flags.now ?? io.now();

      const { ForgeError } = await import("@lastbeat/forge");
      const folder = config.dryRun ? null : checkerFolder(ownDir, io);
      // The checker's beats and journal go into a folder it scans only when the folder is there.
      // Created by them, a mistyped --dir or a share not mounted would hold just the checker's beat
      // and scan healthy; missing, it is the scan's `folder:<dir>` alert, as for `status`. (With
      // only globs to scan, its beat goes to the default folder, which it then creates.)
      const scansOwnFolder = ownDir !== undefined || !flags.dir?.length;
      const home = folder !== null && (!scansOwnFolder || (await isFolder(folder))) ? folder : null;
      // Two checkers sharing a folder (on one host, or an HA pair on a shared mount) never sync or
      // write the journal at once: the second waits, then sees the first's work.
      const lock = folder === null ? null : await lockCheckerFolder(folder, io);
      try {
        // While it runs, the checker is `running`, not stale from its previous run.
        if (home !== null) await beat(config, ownDir, io, beatTime(), "start");
        const states = runningItself(await scanStates(scan, io.env, HEARTBEAT_USE.check), home);
        let applied: AppliedAction[] = [];
        // The scan's states, plus remembered alerting jobs whose heartbeat file vanished.
        let synced: readonly JobState[] = states;
        let deferredWrites = 0;
        let failure: Error | null = null;
        let forge: Forge | null = null;
        if (config.forge !== "none") {
          try {
            forge = await createForge(config, io);
            const { syncAlerts } = await import("@lastbeat/forge");
            // The folders the scan read (it always says, once it ran: scanStates above).
            const retired = await retiredJobs(scan.expansion?.dirs ?? []);
            const result = await syncAlerts(forge, {
              mode: config.mode,
              scope: config.scope,
              label: config.label,
              states,
              now: scan.now,
              dryRun: config.dryRun,
              maxNewIssues: config.maxNewIssues,
              maxWrites: config.maxWrites,
              retired,
              ...(scan.expansion && { scannedDirs: new Set(scan.expansion.dirs) }),
            });
            applied = result.applied;
            synced = result.states;
            deferredWrites = result.deferredWrites;
            // From cron (--quiet) once a day, on the first check after midnight UTC: a host's
            // every run would mail it, fifty hosts' during an upgrade every 15 minutes each.
            if (!flags.quiet || firstCheckOfDay(scan.now, config.everySeconds)) {
              for (const left of result.unadopted) io.stderr.write(unadoptedWarning(left, states, config.scope));
            }
          } catch (error) {
            if (!(error instanceof ForgeError)) throw error;
            failure = error;
          }
        }
        if (home !== null) {
          await beat(config, ownDir, io, beatTime(), failure ? "fail" : "ok", failure ? `forge not synced: ${failure.message}` : undefined);
          // Without the forge's memory (none, or unreachable), the journal's keeps an alert open.
          await recordChanges(home, journaled(states, synced), scan.now, io, config.forge === "none" || failure !== null);
          await rememberMatched(home, scan, io);
          await rememberDeclaredJobs(home, scan, io);
        }
        await print(io, flags, config, synced, applied, forge, scan.now, failure, deferredWrites);
        if (failure) throw failure;
        setExit(healthExit(synced.some((s) => s.alerting)));
      } finally {
        await lock?.release();
      }
    });
};

function configFrom(flags: CheckFlags, io: CliIo): CheckConfig {
  const forgeText = flags.forge ?? io.env.LASTBEAT_FORGE;
  if (!forgeText) throw new UsageError(`check needs --forge ${FORGES.join("|")}`);
  if (!(FORGES as readonly string[]).includes(forgeText)) {
    throw new UsageError(`--forge must be one of ${FORGES.join(", ")}, got ${JSON.stringify(forgeText)}`);
  }
  const forge = forgeText as ForgeFlag;
  const config: CheckConfig = {
    forge,
    repo: flags.repo ?? "",
    url: flags.url,
    token: "",
    mode: flags.mode ?? "rollup",
    label: (flags.label ?? "heartbeat").trim(),
    dryRun: flags.dryRun === true,
    everySeconds: flags.every ?? 15 * 60,
    scope: "",
    maxNewIssues: flags.maxNewIssues ?? 10,
    maxWrites: 0,
  };
  // Four runs an hour may write 40 each; a checker run more often writes less each time, so
  // that an hour never sends more than 400 (GitHub stops at 500).
  config.maxWrites = Math.max(6, Math.min(40, Math.floor((400 * config.everySeconds) / 3600)));
  if (config.label === "" || /[,\n]/.test(config.label)) throw new UsageError(`--label must be one label name, got ${JSON.stringify(flags.label)}`);
  if (forge === "none") {
    // It would never print anything: no forge is ever changed.
    if (flags.quiet) throw new UsageError("--quiet prints only when the forge changed, and --forge none changes none: drop --quiet");
    return config;
  }
  config.scope = scopeFrom(flags, io);
  if (forge === "file") {
    if (!flags.repo) throw new UsageError("--forge file needs --repo <folder> (where the issue files go)");
    config.repo = absolute(flags.repo, io);
    // A folder of issue files (created when missing); a file there is the user's to fix, not an outage.
    if (statSync(config.repo, { throwIfNoEntry: false })?.isDirectory() === false) {
      throw new UsageError(`--forge file --repo ${config.repo} is not a folder: give the folder the issue files go into`);
    }
    return config;
  }
  // GitLab projects sit in groups and subgroups: group/subgroup/project.
  const repoShape = forge === "gitlab" ? /^[^/\s]+(\/[^/\s]+)+$/ : /^[^/\s]+\/[^/\s]+$/;
  if (!flags.repo || !repoShape.test(flags.repo) || flags.repo.split("/").some((s) => s === "." || s === "..")) {
    const shape = forge === "gitlab" ? "group/project (or group/subgroup/project)" : "owner/name";
    throw new UsageError(`--forge ${forge} needs --repo ${shape}${flags.repo ? `, got ${JSON.stringify(flags.repo)}` : ""}`);
  }
  if (forge === "gitea" && !flags.url) throw new UsageError("--forge gitea needs --url (e.g. https://git.example.com)");
  if (flags.url !== undefined && !/^https?:\/\/[^\s]+$/i.test(flags.url)) {
    throw new UsageError(`--url must be an http(s) URL, got ${JSON.stringify(flags.url)}`);
  }
  const names = TOKEN_ENV[forge];
  const token = names.map((n) => io.env[n]?.trim()).find((v) => !!v);
  if (!token) {
    throw new UsageError(
      `--forge ${forge} needs a token: set LASTBEAT_TOKEN or ${names[1]} (one that can read and write issues of ${flags.repo})`,
    );
  }
  config.token = token;
  return config;
}

/**
 * `--scope`, else LASTBEAT_SCOPE, else the host name. A Kubernetes pod has a new host name on
 * every run, so there a scope must be given: a default would leave each run's issues behind.
 */
function scopeFrom(flags: CheckFlags, io: CliIo): string {
  const given = flags.scope ?? (io.env.LASTBEAT_SCOPE?.trim() || undefined);
  if (given === undefined && io.env.KUBERNETES_SERVICE_HOST) {
    throw new UsageError(
      "check needs --scope <name> (or LASTBEAT_SCOPE) in Kubernetes: a pod's host name changes every run, so the default scope would never find its own issues again",
    );
  }
  const scope = given ?? hostname();
  if (!isValidScope(scope)) {
    const from = flags.scope !== undefined ? "--scope" : given !== undefined ? "LASTBEAT_SCOPE" : "the host name";
    throw new UsageError(
      `--scope must be letters, digits, '.', '_' or '-' (at most 128, starting with a letter or digit); ${from} gives ${JSON.stringify(scope)}`,
    );
  }
  return scope;
}

function parseCount(value: string): number {
  if (!/^\d{1,6}$/.test(value.trim())) throw new InvalidArgumentError("Use a whole number like 10.");
  return Number(value);
}

/** Same rule as job names: it goes into markers and titles as it is. */
function isValidScope(scope: string): boolean {
  return isValidJobName(scope);
}

/**
 * Jobs retired on purpose: `lastbeat retire <job>` leaves `<job>.retired` in the heartbeat folder.
 * Only the names are read, never the contents. Each counts under its folder's name too
 * (`<job>@<folder>`), the name a scan of several folders gives a job found in more than one.
 * `dirs`: the folders the scan read (its expansion of the patterns, remembered folders included).
 */
async function retiredJobs(dirs: readonly string[]): Promise<Set<string>> {
  const retired = new Set<string>();
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith(".retired")) continue;
      const job = name.slice(0, -".retired".length);
      if (isValidJobName(job)) retired.add(job).add(`${job}@${dir}`);
    }
  }
  return retired;
}

/**
 * The checker is this very process, so its own heartbeat reads `running` while it checks. For any
 * other job a start beat after a failed run stays `failed` (a run in progress is no recovery), but
 * the checker would put itself into the issue it is syncing on the first run after a forge outage
 * and take itself out on the next. Its own failures reach people through the brief's freshness line.
 */
function runningItself(states: JobState[], folder: string | null): JobState[] {
  if (folder === null) return states;
  const isOwn = ownBeat(folder);
  return states.map((state) => {
    const hb = state.heartbeat;
    if (state.status !== "failed" || hb?.status !== "start" || !isOwn(state)) return state;
    return { ...state, status: "running", alerting: false, alertingSince: null, reason: `started ${isoTime(new Date(hb.started_at ?? hb.at))}` };
  });
}

/**
 * Whether a state is the one of this checker's own heartbeat in `folder`. By name first (it is
 * `heartbeat-checker`, or `heartbeat-checker@<dir>` with several folders): a fleet's other paths
 * are never resolved.
 */
function ownBeat(folder: string): (state: JobState) => boolean {
  const own = resolve(folder, `${CHECKER_JOB}.last`);
  return (state) => isCheckerJob(state.job) && state.file !== null && resolve(state.file) === own;
}

const isFolder = (path: string) => stat(path).then((info) => info.isDirectory(), () => false);

/**
 * Adds the folders the patterns matched for the first time to the checker's folder memory
 * (docs/spec.md, "Folders"), under the checker's lock: read again here, so another checker's
 * additions are kept. Written only when something was added. A memory that cannot be written is
 * one warning: it never changes what the check reports or its exit code.
 */
async function rememberMatched(folder: string, scan: CronScan, io: CliIo): Promise<void> {
  const matched = scan.expansion?.matched;
  if (matched === undefined || matched.size === 0) return;
  const path = join(folder, FOLDERS_FILE);
  const before = scan.folderMemory?.path === path ? await readFolderMemory(path) : null;
  const { memory, changed } = rememberFolders(before?.memory ?? new Map(), matched);
  if (!changed) return;
  try {
    await writeFolderMemory(path, memory);
  } catch (error) {
    io.stderr.write(`warning: ${redact((error as Error).message, secretsIn(io.env))}\n`);
  }
}

/**
 * Keeps since when each declared job is declared in the checker's memory (docs/spec.md, "A declared
 * job that has not beaten yet"), under the checker's lock: a job remembered keeps its time, a new
 * one gets the time this run judged it by, a job its file (read this run) no longer declares is
 * forgotten. Read again here, and the jobs of files this run did not read are kept: another
 * checker sharing the folder keeps its own. A memory that cannot be written is one warning: it
 * never changes what the check reports or its exit code.
 */
async function rememberDeclaredJobs(folder: string, scan: CronScan, io: CliIo): Promise<void> {
  const path = join(folder, DECLARED_FILE);
  // Nothing declared and no file that could have declared anything read: nothing to keep.
  if (scan.declared === null && scan.declaringRead.size === 0) return;
  const before = await readDeclaredMemory(path);
  const { memory } = rememberDeclared(before.memory, scan.declared?.entries ?? new Map(), scan.declaringRead);
  // Written on every run: its time is this check's, and its files those this check read (with
  // those another checker sharing the folder read), so a job new to the memory in one of them
  // dates from this check.
  const files = new Set([...scan.declaringRead, ...(before.checked?.read ?? [])]);
  try {
    await writeDeclaredMemory(path, memory, { at: scan.now, read: files });
  } catch (error) {
    io.stderr.write(`warning: ${redact((error as Error).message, secretsIn(io.env))}\n`);
  }
}

/**
 * What the journal records: each synced job as the scan judged it, before the forge carried its
 * "alerting since" back to the start of the incident (the issue's table says since when the job is
 * down; the journal says when each status began: a failed job that went stale went stale when its
 * grace ran out). A job whose file vanished (`missing`, "heartbeat file removed") went missing
 * when this check noticed, as nothing tells when the file went.
 */
function journaled(scanned: readonly JobState[], synced: readonly JobState[]): JobState[] {
  const byJob = new Map(scanned.map((state) => [state.job, state]));
  return synced.map((state) => {
    const scan = byJob.get(state.job);
    // A job the forge kept alerting while it waits for a first run (keptAlerting) is as synced:
    // its incident goes on, it did not recover.
    if (scan === undefined) return { ...state, alertingSince: null };
    return isUnbeaten(scan) && state.alerting ? state : scan;
  });
}

/**
 * Appends the jobs' status changes to the journal beside the checker's heartbeat (docs/spec.md,
 * "The checker's journal"), under the checker's lock. A journal that cannot be read or written is
 * one warning: it never changes what the check reports or its exit code.
 */
async function recordChanges(folder: string, states: readonly JobState[], now: Date, io: CliIo, keepAlerting: boolean): Promise<void> {
  const path = join(folder, JOURNAL_FILE);
  // While it checks, the checker itself is always `running`: a line for it would say nothing.
  const isOwn = ownBeat(folder);
  const jobs = states.filter((s) => !isOwn(s));
  const secrets = secretsIn(io.env);
  try {
    const update = await updateJournal(path, jobs, { now, reason: (s) => redact(s.reason, secrets), keepAlerting });
    if (update.overCap) {
      io.stderr.write(`warning: the journal ${path} is ${mebibytes(update.bytesBefore)}, over its cap of ${mebibytes(JOURNAL_MAX_BYTES)}: trimmed to each job's latest entry and the newest that fit\n`);
    }
    if (update.skippedLines > 0) {
      io.stderr.write(`warning: the journal ${path} had ${update.skippedLines} ${update.skippedLines === 1 ? "line that is not an entry" : "lines that are not entries"}; rewritten without ${update.skippedLines === 1 ? "it" : "them"}\n`);
    }
  } catch (error) {
    io.stderr.write(`warning: journal not updated: ${redact((error as Error).message, secrets)}\n`);
  }
}

const mebibytes = (bytes: number) => `${(bytes / 1_048_576).toFixed(1)} MiB`;

async function createForge(config: CheckConfig, io: CliIo): Promise<Forge> {
  const forge = await import("@lastbeat/forge");
  switch (config.forge) {
    case "github":
      return forge.createGitHubForge({ repo: config.repo, token: config.token, ...(config.url !== undefined && { baseUrl: config.url }) });
    case "gitea":
      return forge.createGiteaForge({ repo: config.repo, token: config.token, url: config.url!, ...(io.sleep && { sleep: io.sleep }) });
    case "gitlab":
      return forge.createGitLabForge({ repo: config.repo, token: config.token, ...(config.url !== undefined && { url: config.url }), ...(io.sleep && { sleep: io.sleep }) });
    case "file":
      return forge.createFileForge({ dir: config.repo, now: io.now });
    default:
      throw new UsageError(`--forge ${config.forge} has no adapter`);
  }
}

async function beat(
  config: CheckConfig,
  dir: string | undefined,
  io: CliIo,
  now: Date,
  status: "start" | "ok" | "fail",
  message?: string,
): Promise<void> {
  await writeHeartbeat(CHECKER_JOB, {
    every: config.everySeconds,
    status,
    ...(dir !== undefined && { dir }),
    ...(message !== undefined && { message }),
    now,
    env: io.env,
    stderr: io.stderr,
  });
}

/** What check prints: the alerting jobs, then each forge action; written in large pieces (writeParts). */
async function print(
  io: CliIo,
  flags: CheckFlags,
  config: CheckConfig,
  states: readonly JobState[],
  applied: readonly AppliedAction[],
  forge: Forge | null,
  now: Date,
  failure: Error | null,
  deferredWrites: number,
): Promise<void> {
  const actions = applied.map((a) => ({
    kind: a.kind,
    issue: a.issue,
    ...(a.duplicate_of !== undefined && { duplicate_of: a.duplicate_of }),
  }));
  if (flags.json) {
    const json = {
      ...statusJson(states, now),
      actions,
      ...(config.dryRun && { dry_run: true }),
      ...(deferredWrites > 0 && { deferred_writes: deferredWrites }),
      ...(failure && { error: failure.message }),
    };
    io.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return;
  }
  // --quiet: cron mails what a job prints, so print only what changed the forge: a healthy or
  // steady run every 15 minutes is no mail, an outage of 2,000 jobs one mail per change.
  if (flags.quiet && !applied.some((a) => a.kind !== "none")) return;
  const lines: string[] = [];
  const alerting = sortJobStates(states.filter((s) => s.alerting));
  if (alerting.length === 0) {
    lines.push(`${states.length} ${states.length === 1 ? "job" : "jobs"}, none alerting.\n`);
  } else {
    lines.push(`${alerting.length} of ${states.length} ${states.length === 1 ? "job" : "jobs"} alerting:\n`);
    for (const s of alerting) {
      const age = s.ageSeconds !== null ? ` (last beat ${formatDuration(s.ageSeconds)} ago)` : "";
      // Job names of broken files and reasons quoting a job's message are untrusted (plainLine).
      lines.push(`  ${plainLine(s.job)}: ${s.status}${age}: ${plainLine(s.reason)}\n`);
    }
  }
  await writeParts(io, undefined, forge && !failure ? lines.concat(actionLines(config, applied, forge, deferredWrites)) : lines);
}

/** Whether `now` is the day's first check (UTC) for a checker run every `everySeconds`. */
function firstCheckOfDay(now: Date, everySeconds: number): boolean {
  const sinceMidnight = (now.getTime() % 86_400_000 + 86_400_000) % 86_400_000;
  return sinceMidnight < everySeconds * 1000;
}

/**
 * An issue from before scopes that names jobs of this checker, left open (docs/forges.md, "Issues
 * from before scopes"): said on every run (with --quiet, once a day), so it is never left open
 * without anybody being told.
 */
function unadoptedWarning(left: { issue: number; url: string; jobs: string[] }, states: readonly JobState[], scope: string): string {
  const alertingHere = states.some((s) => s.alerting && left.jobs.includes(s.job));
  const named = left.jobs.map((job) => plainLine(job, 200)).join(", ");
  const one = left.jobs.length === 1;
  const why = alertingHere ? "it names jobs this host does not run" : one ? "that job does not alert here" : "none of them alerts here";
  return `warning: issue #${left.issue} (${plainLine(left.url, 500)}) is from before scopes and names ${plainLine(named, 1000)}; this checker (scope ${scope}) leaves it open, as ${why} and which host it was opened for cannot be told: close it by hand once ${one ? "that job alerts" : "they alert"} on no host\n`;
}

function actionLines(config: CheckConfig, applied: readonly AppliedAction[], forge: Forge, deferredWrites: number): string[] {
  const lines: string[] = [];
  const would = config.dryRun ? "would " : "";
  const ref = (n: number | null) => (n === null ? "a new issue" : `#${n}`);
  for (const a of applied) {
    const line =
      a.kind === "none"
        ? a.issue === null
          ? "nothing to do"
          : `${ref(a.issue)} is up to date`
        : a.kind === "create"
          ? `${would}open ${ref(a.issue)}${a.recovered ? " (found after a lost answer, not sent twice)" : ""}`
          : a.kind === "update"
            ? `${would}update ${ref(a.issue)}`
            : a.kind === "comment"
              ? a.recovered
                ? `${ref(a.issue)} already has this comment (posted by the last run), not sent twice`
                : `${would}comment on ${ref(a.issue)}`
              : `${would}close ${ref(a.issue)}${a.duplicate_of !== undefined ? ` (duplicate of #${a.duplicate_of})` : ""}${a.recovered ? " (its closing comment was posted by the last run, not sent twice)" : ""}`;
    lines.push(`${forge.target}: ${line}\n`);
  }
  if (deferredWrites > 0) {
    lines.push(`${forge.target}: ${deferredWrites} more ${deferredWrites === 1 ? "write" : "writes"} left for the next run (at most ${config.maxWrites} a run)\n`);
  }
  return lines;
}
