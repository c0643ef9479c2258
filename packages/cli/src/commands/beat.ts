import { Option } from "commander";
import { writeHeartbeat, type BeatStatus } from "lastbeat";
import { MAX_FUTURE_SKEW_MS } from "lastbeat/internal";
import { UsageError } from "../errors.js";
import type { RegisterCommand } from "../io.js";
import {
  addBeatOptions,
  beatDirOption,
  declarationFrom,
  jsonOption,
  nowOption,
  parseExitCodeArg,
  singleDir,
  type BeatFlags,
} from "../options.js";

interface BeatCommandFlags extends BeatFlags {
  status?: BeatStatus;
  exitCode?: number;
  message?: string;
  now?: Date;
  json?: boolean;
}

export const registerBeat: RegisterCommand = (program, io) => {
  const command = program
    .command("beat")
    .description("write one heartbeat for a job (at the end of a shell or cron job)")
    .argument("<job>", "job name: letters, digits, . _ - (the file is <dir>/<job>.last)");
  addBeatOptions(command)
    .addOption(new Option("--status <status>", "what this beat reports (default ok)").choices(["ok", "fail", "start"]))
    .addOption(new Option("--exit-code <code>", "the job's exit code: 0 is ok, anything else fail (e.g. --exit-code $?)").argParser(parseExitCodeArg))
    .option("--message <text>", "one line for humans (shown in status, the alert issue and the report)")
    .addOption(beatDirOption())
    .addOption(nowOption("write the beat as of this time (demos and tests)"))
    .addOption(jsonOption("print the heartbeat written"))
    .addHelpText(
      "after",
      `
Examples:
  $ lastbeat beat backup --every 1d
  $ /usr/local/bin/backup.sh; lastbeat beat backup --every 1d --exit-code $?
  $ lastbeat beat report --every 1h --status fail --message "upstream API down"
  $ flaky-sync.sh; lastbeat beat sync --every 15m --alert-after 3 --exit-code $?

--alert-after 3: the first two failures in a row show as flaky (not alerting); the third alerts.
--recover-after 2: once alerting, the job needs two ok runs in a row to recover.`,
    )
    .action(async (job: string, flags: BeatCommandFlags) => {
      const status = flags.status ?? (flags.exitCode === undefined ? "ok" : flags.exitCode === 0 ? "ok" : "fail");
      const dir = singleDir(flags, io);
      if (flags.now && flags.now.getTime() - io.now().getTime() > MAX_FUTURE_SKEW_MS) {
        // Every reader would call such a beat invalid: refuse it instead of writing an alert.
        throw new UsageError(`--now ${flags.now.toISOString()} is more than 5 minutes in the future`);
      }
      const message = flags.message ?? (status === "fail" && flags.exitCode !== undefined ? `exit code ${flags.exitCode}` : undefined);
      const written = await writeHeartbeat(job, {
        ...declarationFrom(flags),
        status,
        strict: true,
        now: flags.now ?? io.now(),
        env: io.env,
        ...(dir !== undefined && { dir }),
        ...(flags.exitCode !== undefined && { exitCode: flags.exitCode }),
        ...(message !== undefined && { message }), // tokens in io.env are redacted by writeHeartbeat
      });
      // Silent by default: cron mails any output.
      if (flags.json) io.stdout.write(`${JSON.stringify(written, null, 2)}\n`);
    });
};
