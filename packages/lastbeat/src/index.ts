export { writeFileAtomically } from "./atomic.js";
export type { AtomicFs } from "./atomic.js";
export { writeHeartbeat, withHeartbeat, buildHeartbeat } from "./write.js";
export type { WriteHeartbeatOptions, WithHeartbeatOptions, WrittenHeartbeat } from "./write.js";
export { readHeartbeatFile, readBoundedFile, scanHeartbeats } from "./read.js";
export type { ReadResult, BoundedRead, ScanOptions } from "./read.js";
export { parseHeartbeat, cutStart, cutEnd } from "./parse.js";
export type { ParseResult } from "./parse.js";
export { evaluate, expectedWindow, parseGrace, declarationOf, sortJobStates, jobStateToJson, statusJson, summarizeJobs } from "./evaluate.js";
export type { EvaluateContext, JobStateJson } from "./evaluate.js";
export { parseManifest, loadManifest, scheduleInterval } from "./manifest.js";
export type { Manifest } from "./manifest.js";
export { parseDuration, formatDuration } from "./duration.js";
export { validateJobName, isValidJobName } from "./job-name.js";
export { validateSchedule, validateTimeZone, nextOccurrence } from "./schedule.js";
export { resolveHeartbeatDir, resolveSafeHeartbeatDir, defaultHeartbeatDir, assertSafeDir, expandDirs, errnoText, SYSTEM_HEARTBEAT_DIR } from "./dir.js";
export { LastbeatError } from "./errors.js";
export { SECRET_ENV, secretsIn, redact } from "./secrets.js";
export type { LastbeatErrorCode } from "./errors.js";
export {
  HEARTBEAT_FORMAT,
  MAX_HEARTBEAT_BYTES,
  MAX_FUTURE_SKEW_MS,
  MAX_MESSAGE_BYTES,
  MAX_OUTPUT_TAIL_BYTES,
  ALERTING_STATUSES,
  STATUS_SEVERITY,
  CHECKER_JOB,
} from "./types.js";
export type { Heartbeat, BeatStatus, JobStatus, JobState, Declaration } from "./types.js";
