export { runCli } from "./cli.js";
export { EXIT, UsageError, colorEnabled } from "./io.js";
export type { CliIo, OutputStream, RegisterCommand } from "./io.js";
