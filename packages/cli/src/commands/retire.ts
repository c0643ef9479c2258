import { rm } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { FOLDERS_FILE, defaultHeartbeatDir, errnoText, forgetFolder, jobAndFolder, readFolderMemory, validateJobName, writeFileAtomically, writeFolderMemory } from "lastbeat/internal";
import { UsageError } from "../errors.js";
import { checkerDir, checkerFolder, lockCheckerFolder } from "../folder-memory.js";
import type { CliIo, RegisterCommand } from "../io.js";
import { dirOption, jsonOption, nowOption, singleDir } from "../options.js";

/*
 * `lastbeat retire <job>`: a job removed on purpose. Its heartbeat file goes, and `<job>.retired`
 * stays in the folder so the checker knows the vanished file is not an outage (docs/crontab.md,
 * "Retiring a job"). Only the marker's name is read; its contents are for people.
 */
export const registerRetire: RegisterCommand = (program, io) => {
  program
    .command("retire")
    .description("remove a job on purpose: delete its heartbeat and leave <job>.retired so it is not missed")
    .argument("<job>", "the job name, <job>@<folder> as a scan of several folders names it, or folder:<dir> to forget a folder a --dir pattern matched")
    .addOption(dirOption("heartbeat folder (default: $LASTBEAT_DIR, else the folder the readers use)"))
    .addOption(nowOption("record this time as the retirement (demos and tests)"))
    .addOption(jsonOption("print what was done"))
    .addHelpText(
      "after",
      `
Remove the job's cron line too, or its next run brings it back.

Examples:
  $ lastbeat retire old-backup
  $ lastbeat retire 'backup@/mnt/fleet/web-3/heartbeats'   # as status names it with several folders
  $ lastbeat retire 'folder:/mnt/fleet/web-3/heartbeats' --dir /var/lib/hb --dir '/mnt/fleet/*/heartbeats'
      # a host gone for good: the checker forgets a folder its pattern matched (give check's --dir flags)`,
    )
    .action(async (name: string, flags: { dir?: string[]; now?: Date; json?: boolean }) => {
      if (name.startsWith(FOLDER_PREFIX)) return forget(name.slice(FOLDER_PREFIX.length), flags, io);
      const { job, folder } = qualified(name);
      validateJobName(job);
      if (folder !== null && flags.dir !== undefined) throw new UsageError(`retire ${name} names its folder: drop --dir`);
      const dir = folder ?? singleDir(flags, io) ?? defaultHeartbeatDir(io.env);
      const file = join(dir, `${job}.last`);
      const marker = join(dir, `${job}.retired`);
      const at = (flags.now ?? io.now()).toISOString();
      try {
        // The marker first: a checker running in between sees a retired job, never a vanished one.
        await writeFileAtomically(marker, `${JSON.stringify({ job, retired_at: at })}\n`);
      } catch (error) {
        throw new UsageError(`cannot retire ${job}: cannot write ${marker}: ${errnoText(error)}`, { cause: error });
      }
      let removed = true;
      try {
        await rm(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
          throw new UsageError(`cannot retire ${job}: cannot remove ${file}: ${errnoText(error)}`, { cause: error });
        }
        removed = false;
      }
      if (flags.json) io.stdout.write(`${JSON.stringify({ job, retired_at: at, removed: removed ? file : null, marker }, null, 2)}\n`);
      else io.stdout.write(`retired ${job}: ${removed ? `removed ${file}` : `no ${file} to remove`}; ${marker} records it\n`);
    });
};

/** `backup@/mnt/fleet/web-3/heartbeats` → the job and its folder; a plain name has no folder. */
function qualified(name: string): { job: string; folder: string | null } {
  const split = jobAndFolder(name);
  if (split.folder !== null && !isAbsolute(split.folder)) throw new UsageError(`retire ${JSON.stringify(name)}: after the @ goes the job's heartbeat folder, an absolute path`);
  return split;
}

const FOLDER_PREFIX = "folder:";

/**
 * `lastbeat retire 'folder:<dir>'`: the checker forgets a folder one of its patterns matched, so a
 * host gone for good stops alerting as "heartbeat folder does not exist" (docs/spec.md, "Folders").
 * The memory is `heartbeat-checker.folders` in the checker's folder (found from check's own `--dir`
 * flags: the first plain one, else the readers' default), changed under the checker's lock.
 */
async function forget(dir: string, flags: { dir?: string[]; json?: boolean }, io: CliIo): Promise<void> {
  if (!isAbsolute(dir)) throw new UsageError(`retire folder:${dir}: after folder: goes the folder as the alert names it, an absolute path`);
  // The checker's folder, found as check finds it: its --dir flags may be given as they are.
  const home = checkerFolder(checkerDir(flags, io), io);
  const path = join(home, FOLDERS_FILE);
  const lock = await lockCheckerFolder(home, io);
  try {
    const read = await readFolderMemory(path);
    if (read.warning !== null) throw new UsageError(`cannot retire folder:${dir}: ${read.warning}`);
    const { memory, patterns } = forgetFolder(read.memory, dir);
    if (patterns.length === 0) {
      throw new UsageError(
        `cannot retire folder:${dir}: the checker does not remember it in ${path}${read.found ? "" : " (no such file: give retire the checker's --dir flags)"}`,
      );
    }
    try {
      await writeFolderMemory(path, memory);
    } catch (error) {
      throw new UsageError(`cannot retire folder:${dir}: ${(error as Error).message}`, { cause: error });
    }
    if (flags.json) io.stdout.write(`${JSON.stringify({ folder: dir, patterns, memory: path }, null, 2)}\n`);
    else io.stdout.write(`retired folder:${dir}: forgotten by ${patterns.join(", ")} in ${path}; scanned again only while a pattern matches it\n`);
  } finally {
    await lock?.release();
  }
}
