import { Option } from "commander";
import { writeHeartbeat, type BeatStatus } from "lastbeat";
import { MAX_FUTURE_SKEW_MS } from "lastbeat/internal";
import { UsageError } from "../errors.js";
import type { RegisterCommand } from "../io.js";
import {
  dirOption,
  durationOption,
  jsonOption,
  nowOption,
  parseExitCodeArg,
  parseGraceArg,
  required,
  singleDir,
} from "../options.js";

interface BeatFlags {
  every?: number;
  schedule?: string;
  tz?: string;
  grace?: string;
  maxRuntime?: number;
  status?: BeatStatus;
  exitCode?: number;
  message?: string;
  dir?: string[];
  now?: Date;
  json?: boolean;
}

export const registerBeat: RegisterCommand = (program, io) => {
  program
    .command("beat")
    .description("write one heartbeat for a job (at the end of a shell or cron job)")
    .argument("<job>", "job name: letters, digits, . _ - (the file is <dir>/<job>.last)")
    .addOption(durationOption("--every <duration>", "how often the job runs: 300, 90s, 5m, 1h, 1d, 1w (required)"))
    .option("--schedule <cron>", "5-field cron expression of the expected run times")
    .option("--tz <zone>", "IANA time zone of --schedule (default: this machine's, as cron uses)")
    .addOption(new Option("--grace <2x|duration>", "alert after this multiple of the interval, or this long past due").argParser(parseGraceArg))
    .addOption(durationOption("--max-runtime <duration>", "a started run older than this is overrun"))
    .addOption(new Option("--status <status>", "what this beat reports (default ok)").choices(["ok", "fail", "start"]))
    .addOption(new Option("--exit-code <code>", "the job's exit code: 0 is ok, anything else fail (e.g. --exit-code $?)").argParser(parseExitCodeArg))
    .option("--message <text>", "one line for humans (shown in status, the alert issue and the report)")
    .addOption(dirOption("heartbeat folder (default: $LASTBEAT_DIR, /var/run/lastbeat/heartbeats, ~/.lastbeat/heartbeats)"))
    .addOption(nowOption("write the beat as of this time (demos and tests)"))
    .addOption(jsonOption("print the heartbeat written"))
    .addHelpText(
      "after",
      `
Examples:
  $ lastbeat beat backup --every 1d
  $ /usr/local/bin/backup.sh; lastbeat beat backup --every 1d --exit-code $?
  $ lastbeat beat report --every 1h --status fail --message "upstream API down"`,
    )
    .action(async (job: string, flags: BeatFlags) => {
      const status = flags.status ?? (flags.exitCode === undefined ? "ok" : flags.exitCode === 0 ? "ok" : "fail");
      const dir = singleDir(flags, io);
      if (flags.now && flags.now.getTime() - io.now().getTime() > MAX_FUTURE_SKEW_MS) {
        // Every reader would call such a beat invalid: refuse it instead of writing an alert.
        throw new UsageError(`--now ${flags.now.toISOString()} is more than 5 minutes in the future`);
      }
      const message = flags.message ?? (status === "fail" && flags.exitCode !== undefined ? `exit code ${flags.exitCode}` : undefined);
      const written = await writeHeartbeat(job, {
        every: required(flags.every, "--every <duration>"),
        status,
        strict: true,
        now: flags.now ?? io.now(),
        env: io.env,
        ...(dir !== undefined && { dir }),
        ...(flags.schedule !== undefined && { schedule: flags.schedule }),
        ...(flags.tz !== undefined && { tz: flags.tz }),
        ...(flags.grace !== undefined && { grace: flags.grace }),
        ...(flags.maxRuntime !== undefined && { maxRuntime: flags.maxRuntime }),
        ...(flags.exitCode !== undefined && { exitCode: flags.exitCode }),
        ...(message !== undefined && { message }), // tokens in io.env are redacted by writeHeartbeat
      });
      // Silent by default: cron mails any output.
      if (flags.json) io.stdout.write(`${JSON.stringify(written, null, 2)}\n`);
    });
};
