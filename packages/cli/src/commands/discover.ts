import { chown, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Option } from "commander";
import { errnoText, writeFileAtomically } from "lastbeat/internal";
import { systemCrontabs, type CrontabSource } from "../cron-jobs.js";
import { kindOf } from "../cron-scan.js";
import { declaredNames, wrapCrontab, type WrapResult } from "../cron-wrap.js";
import { UsageError } from "../errors.js";
import type { RegisterCommand } from "../io.js";
import { absolute, collect, jsonOption } from "../options.js";

/*
 * `lastbeat discover`: the crontabs with every unmonitored line wrapped in `lastbeat run`, and the
 * manifest that declares those jobs (docs/crontab.md, "Discover"). Prints by default; `--write`
 * edits the files atomically after a backup. A spool file (what `crontab -e` edits) is written
 * only for the user named by `--user`.
 */
interface DiscoverFlags {
  crontab?: string[];
  crontabs?: boolean;
  write?: boolean;
  user?: string;
  json?: boolean;
}

export const registerDiscover: RegisterCommand = (program, io) => {
  program
    .command("discover")
    .description("wrap every cron line that runs no lastbeat in `lastbeat run`, and print the matching manifest")
    .addOption(new Option("--crontab <file>", "a crontab to discover; repeatable").argParser(collect))
    .addOption(new Option("--crontabs", "the system's crontabs: /etc/crontab, /etc/cron.d/*, the user spool"))
    .addOption(new Option("--write", "edit the crontab files (atomically, after a backup .<name>.lastbeat-bak beside each)"))
    .addOption(new Option("--user <name>", "with --write: also edit this user's spool crontab"))
    .addOption(jsonOption("print the crontabs and the manifest as JSON"))
    .addHelpText(
      "after",
      `
Lines already running lastbeat, lines ending in "# lastbeat: ignore", environment lines and
comments are kept as they are; @reboot lines have no schedule and are left for you to wrap.
Running it again changes nothing.

Examples:
  $ lastbeat discover --crontab /etc/cron.d/shop
  $ sudo lastbeat discover --crontab /etc/cron.d/shop --write`,
    )
    .action(async (flags: DiscoverFlags) => {
      const sources: CrontabSource[] = [];
      if (flags.crontabs) {
        const system = await systemCrontabs(absolute(io.env.LASTBEAT_CRON_ROOT || "/", io));
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
      const results = sources.map((s) => ({ source: s, original: texts.get(s.path) as string, ...wrapCrontab(texts.get(s.path) as string, { ...options(s), taken }) }));
      const manifest = { jobs: Object.fromEntries(results.flatMap((r) => r.wrapped.map((w) => [w.job, { schedule: w.schedule, ...(w.tz !== undefined && { tz: w.tz }) }]))) };

      if (flags.write) {
        for (const r of results) {
          if (r.wrapped.length === 0) continue;
          const owner = r.source.user ?? basename(r.source.path);
          if (isSpool(r.source) && owner !== flags.user) {
            throw new UsageError(`refusing to edit the cron spool file ${r.source.path} without --user ${owner} (or edit it with crontab -e)`);
          }
        }
        for (const r of results) if (r.wrapped.length > 0) await rewrite(r.source.path, r.original, r.text);
      }

      if (flags.json) {
        const crontabs = results.map((r) => ({ file: r.source.path, changed: r.wrapped.length > 0, written: Boolean(flags.write) && r.wrapped.length > 0, wrapped: r.wrapped, skipped: r.skipped, text: r.text }));
        io.stdout.write(`${JSON.stringify({ crontabs, manifest }, null, 2)}\n`);
        return;
      }
      for (const r of results) for (const s of r.skipped) io.stderr.write(`lastbeat: ${r.source.path}:${s.line}: not wrapped: ${s.reason}\n`);
      if (flags.write) {
        for (const r of results) {
          if (r.wrapped.length > 0) io.stdout.write(`${r.source.path}: wrapped ${r.wrapped.map((w) => `${w.job} (line ${w.line})`).join(", ")}; backup ${backupPath(r.source.path)}\n`);
        }
        return;
      }
      io.stdout.write(printed(results, manifest));
    });
};

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
