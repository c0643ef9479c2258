// The public API: what a job or a monitoring script calls. What only lastbeat's sibling packages
// need lives in "lastbeat/internal", so that users see a small surface we can keep stable.
export { writeHeartbeat, withHeartbeat } from "./write.js";
export type { WriteHeartbeatOptions, WithHeartbeatOptions, WrittenHeartbeat } from "./write.js";
export { scanHeartbeats } from "./read.js";
export type { ScanOptions } from "./read.js";
export { evaluate } from "./evaluate.js";
export type { EvaluateContext } from "./evaluate.js";
export { LastbeatError } from "./errors.js";
export type { LastbeatErrorCode } from "./errors.js";
export type { Heartbeat, BeatStatus, JobStatus, JobState, Declaration } from "./types.js";
export type { MaintenanceWindow } from "./types.js";
