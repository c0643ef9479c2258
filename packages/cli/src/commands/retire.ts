import { rm } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { defaultHeartbeatDir, errnoText, validateJobName, writeFileAtomically } from "lastbeat/internal";
import { UsageError } from "../errors.js";
import type { RegisterCommand } from "../io.js";
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
    .argument("<job>", "the job name, or <job>@<folder> as a scan of several folders names it")
    .addOption(dirOption("heartbeat folder (default: $LASTBEAT_DIR, else the folder the readers use)"))
    .addOption(nowOption("record this time as the retirement (demos and tests)"))
    .addOption(jsonOption("print what was done"))
    .addHelpText(
      "after",
      `
Remove the job's cron line too, or its next run brings it back.

Examples:
  $ lastbeat retire old-backup
  $ lastbeat retire 'backup@/mnt/fleet/web-3/heartbeats'   # as status names it with several folders`,
    )
    .action(async (name: string, flags: { dir?: string[]; now?: Date; json?: boolean }) => {
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
  const at = name.indexOf("@");
  if (at < 0) return { job: name, folder: null };
  const folder = name.slice(at + 1);
  if (!isAbsolute(folder)) throw new UsageError(`retire ${JSON.stringify(name)}: after the @ goes the job's heartbeat folder, an absolute path`);
  return { job: name.slice(0, at), folder };
}
