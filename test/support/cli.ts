import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const cliSource = fileURLToPath(new URL("../../packages/cli/src/bin.ts", import.meta.url));
/** tsx's loader by its file URL (its package's export), so a child may run from any folder. */
const tsx = new URL("../../node_modules/tsx/dist/loader.mjs", import.meta.url).href;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
}

/**
 * Runs the `lastbeat` CLI from its TypeScript source as a real child process
 * (no build needed): `node --conditions=lastbeat-source --import tsx packages/cli/src/bin.ts`.
 */
export function lastbeatArgs(args: readonly string[]): string[] {
  return ["--conditions=lastbeat-source", "--import", tsx, cliSource, ...args];
}

export function runLastbeat(args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return runCommand(process.execPath, lastbeatArgs(args), options);
}

/** Any command as a real child process, with NO_COLOR set and its output captured. */
export function runCommand(file: string, args: readonly string[], options: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: "1", ...options.env })) {
      if (v !== undefined) env[k] = v;
    }
    const child = spawn(file, args, { cwd: options.cwd ?? repoRoot, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
    // A command that exits without reading stdin (`sh -c "command -v x"`) closes the pipe: EPIPE
    // here is not the command's failure, its exit code says how it went.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}
