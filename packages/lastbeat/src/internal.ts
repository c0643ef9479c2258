// "lastbeat/internal": what @lastbeat/forge, @lastbeat/report and @lastbeat/cli share with the
// library beyond its public API. Not for users: these names change without a major version.
export { writeFileAtomically, removeStaleTemps } from "./atomic.js";
export type { AtomicFs, AtomicWriteOptions } from "./atomic.js";
export { buildHeartbeat, writeConfigErrorBeat } from "./write.js";
export type { ConfigErrorBeatOptions } from "./write.js";
export { readBoundedFile, readBoundedFileSync, readHeartbeatFile, readHeartbeatFileSync } from "./read.js";
export type { BoundedRead, ReadResult } from "./read.js";
export { parseHeartbeat, isThreshold, isTime } from "./parse.js";
export type { ParseResult } from "./parse.js";
export { sortJobStates, summarizeJobs, jobStateToJson, jobRowsJsonText, jobRowTexts, jsonWithJobs, jsonWithJobTexts, statusJson, isCheckerJob } from "./job-states.js";
export type { JobStateJson } from "./job-states.js";
export { parseManifest, loadManifest, scheduleInterval, declarationFor } from "./manifest.js";
export type { Manifest } from "./manifest.js";
export { parseDuration, parseGrace, formatDuration } from "./duration.js";
export { validateSchedule, validateTimeZone, previousOccurrence, latestOccurrence } from "./schedule.js";
export { systemTimeZone, cronTimeZone, cronDaemonTimeZone, runtimeZoneWithoutTZ, isKnownTimeZone } from "./zone.js";
export { resolveHeartbeatDir, defaultHeartbeatDir, makeDirs, expandDirs, systemHeartbeatDir, SYSTEM_HEARTBEAT_DIR } from "./dir.js";
export { errnoText } from "./errors.js";
export { isValidJobName, validateJobName } from "./job-name.js";
export { secretsIn, redact } from "./secrets.js";
export { MAX_HEARTBEAT_BYTES, MAX_FUTURE_SKEW_MS, MAX_OUTPUT_TAIL_BYTES, STATUS_SEVERITY, CHECKER_JOB, MAX_RUNS, MAX_THRESHOLD, JOURNAL_FILE } from "./types.js";
export type { RunRecord, MaintenanceWindow, JournalEntry } from "./types.js";
export { ALERTING_STATUSES } from "./types.js";
export { isoTime } from "./iso.js";
export { readJournal, updateJournal, journalChanges, changeTime, journalJob, isJournalJob, parseJournalLine, JOURNAL_MAX_BYTES, JOURNAL_KEEP_DAYS, MAX_JOURNAL_REASON_CHARS } from "./journal.js";
export type { JournalRead, ReadJournalOptions, JournalUpdate, UpdateJournalOptions } from "./journal.js";
