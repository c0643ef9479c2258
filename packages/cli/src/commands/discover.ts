import { accessSync, constants, statSync } from "node:fs";
import { chown, readFile, stat } from "node:fs/promises";
import { basename, delimiter, dirname, isAbsolute, join } from "node:path";
import { Option } from "commander";
import { errnoText, systemTimeZone, writeFileAtomically } from "lastbeat/internal";
import { systemCrontabs, type CrontabSource } from "../cron-jobs.js";
import { kindOf } from "../cron-scan.js";
import { declaredNames, wrapCrontab, type WrapResult } from "../cron-wrap.js";
import { EXIT, UsageError } from "../errors.js";
import type { RegisterCommand } from "../io.js";
import { absolute, collect, collectPaths, jsonOption } from "../options.js";

/*
 * `lastbeat discover`: the crontabs with every unmonitored line wrapped in `lastbeat run`, and the
 * manifest that declares those jobs (docs/crontab.md, "Discover"). Prints by default; `--write`
 * edits the files atomically after a backup. A spool file (what `crontab -e` edits) is written
 * only for a user named by `--user` (repeatable); the others are left as they are, named on stderr,
 * and the exit code is 1 (lines are left unwrapped), while every other file is written.
 */
interface DiscoverFlags {
  crontab?: string[];
  crontabs?: boolean;
  write?: boolean;
  user?: string[];
  json?: boolean;
  lastbeat?: string;
}

/** The `PATH` cron gives a line when its crontab sets none (Vixie cron as Debian builds it). */
const CRON_DEFAULT_PATH = "/usr/bin:/bin";

export const registerDiscover: RegisterCommand = (program, io, setExit) => {
  program
    .command("discover")
    .description("wrap every cron line that runs no lastbeat in `lastbeat run`, and print the matching manifest")
    .addOption(new Option("--crontab <file>", "a crontab to discover; repeatable").argParser(collectPaths))
    .addOption(new Option("--crontabs", "the system's crontabs: /etc/crontab, /etc/cron.d/*, the user spool"))
    .addOption(new Option("--write", "edit the crontab files (atomically, after a backup .<name>.lastbeat-bak beside each)"))
    .addOption(new Option("--user <name>", "with --write: also edit this user's spool crontab; repeatable").argParser(collect))
    .addOption(new Option("--lastbeat <command>", "how the wrapped lines start lastbeat (default: `lastbeat` if cron's PATH finds it, else its full path)"))
    .addOption(jsonOption("print the crontabs and the manifest as JSON"))
    .addHelpText(
      "after",
      `
Lines already running lastbeat, lines ending in "# lastbeat: ignore", environment lines and
comments are kept as they are; @reboot lines have no schedule and are left for you to wrap.
Running it again changes nothing. Cron runs a line with the PATH its crontab sets, else
${CRON_DEFAULT_PATH}: where that PATH does not reach the lastbeat on yours, the line calls it by its
full path, and a PATH without node is reported.

Examples:
  $ lastbeat discover --crontab /etc/cron.d/shop
  $ sudo lastbeat discover --crontab /etc/cron.d/shop --write`,
    )
    .action(async (flags: DiscoverFlags) => {
      const sources: CrontabSource[] = [];
      const root = absolute(io.env.LASTBEAT_CRON_ROOT || "/", io);
      if (flags.crontabs) {
        const system = await systemCrontabs(root);
        sources.push(...system.sources);
        for (const warning of system.warnings) io.stderr.write(`lastbeat: ${warning}\n`);
      }
      for (const file of flags.crontab ?? []) {
        const path = absolute(file, io);
        if (!sources.some((s) => s.path === path)) sources.push({ path, kind: kindOf(path) });
      }
      if (sources.length === 0) throw new UsageError("discover needs --crontab <file> or --crontabs");
      const texts = new Map<string, string>();
      for (const source of sources) {
        try {
          texts.set(source.path, await readFile(source.path, "utf8"));
        } catch (error) {
          throw new UsageError(`cannot read crontab ${source.path}: ${errnoText(error)}`, { cause: error });
        }
      }
      const options = (s: CrontabSource) => ({ source: s.path, kind: s.kind, ...(s.user !== undefined && { user: s.user }) });
      // Names already declared anywhere are never given out again.
      const taken = new Set(sources.flatMap((s) => declaredNames(texts.get(s.path) as string, options(s))));
      const invoke = lastbeatCommand(flags.lastbeat, io.env.PATH);
      const warnings: string[] = invoke.warning === undefined ? [] : [invoke.warning];
      const results = sources.map((s) => {
        const lastbeatFor = (cronPath: string | undefined) => {
          const path = cronPath ?? CRON_DEFAULT_PATH;
          const warning = `${s.path}: cron's PATH here (${path}) has no node, which lastbeat needs: set PATH above the line to include ${dirname(process.execPath)}`;
          if (!findOnPath("node", path) && !warnings.includes(warning)) warnings.push(warning);
          return invoke.forPath(path);
        };
        return { source: s, original: texts.get(s.path) as string, ...wrapCrontab(texts.get(s.path) as string, { ...options(s), taken, lastbeatFor }) };
      });
      // The one zone cron daemons disagree on: say so where a wrapped line takes it as --tz.
      for (const r of results) {
        const zoned = r.wrapped.filter((w) => w.tz !== undefined);
        if (zoned.length === 0) continue;
        warnings.push(
          `${r.source.path}: line${zoned.length === 1 ? "" : "s"} ${zoned.map((w) => w.line).join(", ")} take${zoned.length === 1 ? "s" : ""} CRON_TZ as --tz, the zone cronie (RHEL, Fedora, Arch) runs ${zoned.length === 1 ? "it" : "them"} in; Debian's and Ubuntu's cron ignore CRON_TZ and run every line in the host's zone: there, drop CRON_TZ and --tz`,
        );
      }
      // Only a line that is wrapped needs lastbeat (or node) on cron's PATH.
      if (results.some((r) => r.wrapped.length > 0)) for (const warning of warnings) io.stderr.write(`lastbeat: ${warning}\n`);
      // --write edits every changed file but the spool crontabs of users not named by --user: those
      // are left as they are (a user's own crontab, which `crontab -e` edits), named in one line.
      const written = new Set<string>();
      const leftOwners: string[] = [];
      if (flags.write) {
        const users = new Set(flags.user ?? []);
        for (const r of results) {
          if (r.wrapped.length === 0) continue;
          const owner = r.source.user ?? basename(r.source.path);
          if (isSpool(r.source) && !users.has(owner)) leftOwners.push(owner);
          else written.add(r.source.path);
        }
        for (const r of results) if (written.has(r.source.path)) await rewrite(r.source.path, r.original, r.text);
        if (leftOwners.length > 0) {
          const names = [...new Set(leftOwners)].sort();
          io.stderr.write(
            names.length === 1
              ? `lastbeat: left the spool crontab of ${names[0]} unedited: add --user ${names[0]} to edit it (or edit it with crontab -e)\n`
              : `lastbeat: left the spool crontabs of ${names.join(", ")} unedited: add --user <name> to edit one (or edit it with crontab -e)\n`,
          );
          // Everything else was written; 1 says lines are still unwrapped, as a check says jobs alert.
          setExit(EXIT.alerting);
        }
      }

      // The manifest declares the jobs of the lines wrapped (with --write, only those written: a line
      // left unwrapped would be `missing` for ever). A schedule without `tz` is read in UTC: each
      // job gets the zone cron runs it in.
      let hostZone: string | undefined;
      const declaring = flags.write ? results.filter((r) => written.has(r.source.path)) : results;
      const manifest = { jobs: Object.fromEntries(declaring.flatMap((r) => r.wrapped.map((w) => [w.job, { schedule: w.schedule, tz: w.tz ?? (hostZone ??= systemTimeZone(root)) }]))) };

      if (flags.json) {
        const crontabs = results.map((r) => ({ file: r.source.path, changed: r.wrapped.length > 0, written: written.has(r.source.path), wrapped: r.wrapped, skipped: r.skipped, text: r.text }));
        io.stdout.write(`${JSON.stringify({ crontabs, manifest }, null, 2)}\n`);
        return;
      }
      for (const r of results) for (const s of r.skipped) io.stderr.write(`lastbeat: ${r.source.path}:${s.line}: not wrapped: ${s.reason}\n`);
      if (flags.write) {
        for (const r of results) {
          if (written.has(r.source.path)) io.stdout.write(`${r.source.path}: wrapped ${r.wrapped.map((w) => `${w.job} (line ${w.line})`).join(", ")}; backup ${backupPath(r.source.path)}\n`);
        }
        return;
      }
      io.stdout.write(printed(results, manifest));
    });
};

/**
 * How a wrapped line starts lastbeat: plain `lastbeat` where cron's PATH finds the one on the
 * caller's PATH, else that one's full path — Debian's user crontabs run with /usr/bin:/bin and
 * `npm install -g` puts lastbeat in /usr/local/bin, where such a line would never find it.
 */
function lastbeatCommand(given: string | undefined, callerPath: string | undefined): { forPath(cronPath: string): string; warning?: string } {
  if (given !== undefined) {
    if (!SAFE_WORD.test(given)) throw new UsageError(`--lastbeat ${JSON.stringify(given)}: give a command or a path without spaces or shell characters`);
    // The readers know a cron line runs lastbeat by its command's file name: any other name would
    // leave the wrapped lines unmonitored to them, and wrapped again by the next discover.
    if (basename(given) !== "lastbeat") {
      throw new UsageError(`--lastbeat ${JSON.stringify(given)}: the command's file name must be lastbeat (a path to it, or a link named lastbeat), or status and check will not know the lines`);
    }
    return { forPath: () => given };
  }
  const found = findOnPath("lastbeat", callerPath ?? "");
  if (found === null || !SAFE_WORD.test(found)) {
    const why = found === null ? "lastbeat is not on your PATH" : `lastbeat's path ${JSON.stringify(found)} has shell characters`;
    return { forPath: () => "lastbeat", warning: `${why}: the wrapped lines run plain \`lastbeat\`, so cron's PATH must find it (or pass --lastbeat <full path>)` };
  }
  return { forPath: (cronPath) => (cronPath.split(delimiter).includes(dirname(found)) ? "lastbeat" : found) };
}

const SAFE_WORD = /^[A-Za-z0-9_./+-]+$/;

/** The first executable file `name` in the folders of `path` (only absolute folders count), else null. */
function findOnPath(name: string, path: string): string | null {
  for (const folder of path.split(delimiter)) {
    if (!isAbsolute(folder)) continue;
    const candidate = join(folder, name);
    try {
      if (!statSync(candidate).isFile()) continue;
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here, or not executable: keep looking, as a shell would
    }
  }
  return null;
}

/** The crontabs, then the manifest as comments: the whole output is still a valid crontab. */
function printed(results: ({ source: CrontabSource } & WrapResult)[], manifest: object): string {
  let out = "";
  for (const r of results) {
    if (results.length > 1) out += `# ==> ${r.source.path} <==\n`;
    out += r.text.endsWith("\n") || r.text === "" ? r.text : `${r.text}\n`;
  }
  const json = JSON.stringify(manifest, null, 2).split("\n").map((line) => `# ${line}`);
  return `${out}\n# lastbeat.json, declaring these jobs before their first beat:\n${json.join("\n")}\n`;
}

function isSpool(source: CrontabSource): boolean {
  return source.kind === "user" && /\/var\/spool\/cron(\/crontabs)?$/.test(dirname(source.path));
}

/** Dotted, so neither cron (cron.d skips names with a dot) nor `--crontabs` reads it as a crontab. */
function backupPath(file: string): string {
  return join(dirname(file), `.${basename(file)}.lastbeat-bak`);
}

async function rewrite(file: string, original: string, text: string): Promise<void> {
  try {
    const info = await stat(file);
    const mode = info.mode & 0o7777;
    const backup = backupPath(file);
    await writeFileAtomically(backup, original, mode);
    await writeFileAtomically(file, text, mode);
    // A spool file must stay its user's (cron checks the owner); root rewrote it.
    if (process.getuid?.() === 0 && (info.uid !== 0 || info.gid !== 0)) {
      await chown(backup, info.uid, info.gid);
      await chown(file, info.uid, info.gid);
    }
  } catch (error) {
    throw new UsageError(`cannot write crontab ${file}: ${errnoText(error)}`, { cause: error });
  }
}
