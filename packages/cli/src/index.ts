export { runCli } from "./cli.js";
export { EXIT, UsageError, exitCodeOf } from "./errors.js";
export { LockError } from "./lock.js";
export type { ExitCode } from "./errors.js";
export { colorEnabled } from "./io.js";
export type { CliIo, OutputStream, RegisterCommand } from "./io.js";
