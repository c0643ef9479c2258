import { Option } from "commander";
import { UsageError, healthExit } from "../errors.js";
import type { CliIo, RegisterCommand } from "../io.js";
import { absolute, addScanOptions, durationOption, parsePathArg, type ScanFlags } from "../options.js";
import { journalPaths, readJournals } from "../brief-journal.js";
import { writeParts } from "../out-file.js";
import { addCronOptions, cronScan, scanStates, unmonitoredJson, type CronFlags } from "../cron-scan.js";
import { HEARTBEAT_USE } from "../slim.js";
import { retiredIn } from "../folder-memory.js";
import { defaultHeartbeatDir } from "lastbeat/internal";

interface ReportFlags extends ScanFlags, CronFlags {
  panel?: boolean;
  format?: "md" | "text" | "json" | "html";
  out?: string;
  tz?: string;
  since?: number;
  checker: boolean;
}

export const registerReport: RegisterCommand = (program, io, setExit) => {
  const command = program
    .command("report")
    .description("render the morning brief: summary, alerting jobs with their output, what happened since the last brief, the heartbeat panel");
  addCronOptions(addScanOptions(command))
    .option("--panel", "print only the heartbeat panel, for embedding in another report")
    .addOption(
      new Option("--format <format>", "md (default), text for a terminal or mail, json, html (one page)").choices([
        "md",
        "text",
        "json",
        "html",
      ]),
    )
    .option("--json", "same as --format json")
    .addOption(new Option("--out <file>", "write to this file (atomically) instead of stdout").argParser(parsePathArg))
    .option("--tz <zone>", "IANA time zone for dates and times (default: the machine's)")
    .addOption(durationOption("--since <duration>", "how far back \"Since the last brief\" looks, from the checker's journal (default: 1d)"))
    .option("--no-checker", "do not treat a stale or missing heartbeat-checker as an alert")
    .addHelpText(
      "after",
      `
Exits 1 while a job is alerting, so cron notices even if nobody reads the brief.

Examples:
  $ lastbeat report --tz Europe/Berlin
  $ lastbeat report --since 3d          # what happened over the weekend
  $ lastbeat report --panel >> morning-brief.md
  $ lastbeat report --format html --out /var/www/ops/brief.html
  $ lastbeat report --format text | mail -s "morning brief" ops@example.com`,
    )
    .action(async (flags: ReportFlags) => {
      if (flags.json && flags.format !== undefined && flags.format !== "json") {
        throw new UsageError(`--json conflicts with --format ${flags.format}`);
      }
      if (flags.panel && flags.since !== undefined) {
        throw new UsageError("--since applies to the full brief's \"Since the last brief\" section; --panel has none");
      }
      const format = flags.json ? "json" : (flags.format ?? "md");
      // date-fns comes with the report package: loaded here, never by `lastbeat beat`.
      const report = await import("@lastbeat/report");
      const tz = flags.tz ?? defaultTimeZone(io, report);
      if (!report.isValidTimeZone(tz)) {
        throw new UsageError(`--tz ${JSON.stringify(tz)} is not a time zone; use an IANA name like Europe/Berlin or UTC`);
      }
      const scan = await cronScan(flags, io);
      const scanned = await scanStates(scan, io.env, HEARTBEAT_USE.report);
      const journal = await readJournals(journalPaths(scanned), io.env);
      // As check judges them: a job the journal says is alerting whose file vanished, and which is
      // not retired, is `missing` ("heartbeat file removed"), never dropped as if it recovered.
      const retired = retiredIn(scan.expansion, scan.options.dirs ?? [defaultHeartbeatDir(io.env)]);
      const states = report.withVanishedFromJournal(scanned, journal, scan.now, retired);
      const options = { now: scan.now, tz, format, journal };
      let parts: Iterable<string>;
      let alerting: boolean;
      if (flags.panel) {
        parts = report.renderPanelParts(states, options);
        alerting = states.some((state) => state.alerting);
      } else {
        const unmonitored = (scan.inventory?.unmonitored ?? []).map((entry) => {
          const { source, line, schedule, user, command } = unmonitoredJson(entry);
          return { where: `${source}:${line}`, schedule, user, command };
        });
        const since = flags.since === undefined ? {} : { sinceSeconds: flags.since };
        const brief = report.buildBrief(states, { ...options, ...since, checker: flags.checker, unmonitored });
        parts = report.formatBriefParts(brief, format);
        alerting = brief.states.some((state) => state.alerting);
      }
      await writeParts(io, flags.out === undefined ? undefined : absolute(flags.out, io), parts);
      setExit(healthExit(alerting));
    });
};

/** `$TZ` when it names a zone (in-process callers pass their own env), else the machine's zone. */
function defaultTimeZone(io: CliIo, report: typeof import("@lastbeat/report")): string {
  const tz = io.env.TZ?.replace(/^:/, "");
  return tz && report.isValidTimeZone(tz) ? tz : report.localTimeZone();
}
