import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { EXIT, UsageError, reportError } from "./errors.js";
import type { CliIo, OutputStream, RegisterCommand } from "./io.js";
import { errnoText, redact, secretsIn } from "lastbeat/internal";

/**
 * Each command is loaded only when it runs (or when help lists them all), so `lastbeat beat` in a
 * tight cron loop never pays for Octokit or date-fns. The order is the order of `lastbeat --help`.
 */
const COMMANDS: ReadonlyArray<readonly [string, () => Promise<RegisterCommand>]> = [
  ["beat", async () => (await import("./commands/beat.js")).registerBeat],
  ["run", async () => (await import("./commands/run.js")).registerRun],
  ["status", async () => (await import("./commands/status.js")).registerStatus],
  ["check", async () => (await import("./commands/check.js")).registerCheck],
  ["report", async () => (await import("./commands/report.js")).registerReport],
  ["metrics", async () => (await import("./commands/metrics.js")).registerMetrics],
  ["init", async () => (await import("./commands/init.js")).registerInit],
  ["retire", async () => (await import("./commands/retire.js")).registerRetire],
  ["discover", async () => (await import("./commands/discover.js")).registerDiscover],

];

/**
 * The `lastbeat` command as a function of (argv, env, output streams): returns the exit code of
 * docs/spec.md and never calls `process.exit`. Only this function turns errors into exit codes.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const safeIo: CliIo = {
    ...io,
    stdout: redacting(io.stdout, io.env),
    stderr: redacting(io.stderr, io.env),
  };
  let exitCode: number = EXIT.healthy;
  const setExit = (code: number) => {
    exitCode = code;
  };

  let program: Command | undefined;
  try {
    // Inside the try: even a failure to build the program is reported like any other error.
    program = createProgram(safeIo);
    for (const [, load] of await commandsFor(argv)) (await load())(program, safeIo, setExit);
    await program.parseAsync([...argv], { from: "user" });
    await outputWritten(io.stdout, argv);
    return exitCode;
  } catch (error) {
    const code = reportError(error, safeIo.stderr, safeIo.env);
    if (code === EXIT.usage && error instanceof CommanderError && error.exitCode !== 0) {
      // `run`'s own usage errors never stop the job that follows `--`.
      const { runAfterRefusedFlags } = await import("./commands/run.js");
      const run = program?.commands.find((command) => command.name() === "run");
      return (await runAfterRefusedFlags(argv, run, error, safeIo)) ?? code;
    }
    return code;
  }
}

/**
 * Throws when what the command printed did not reach stdout (`lastbeat metrics > file` on a full
 * disk): exit 0 would say the metrics were written. A failed write is reported on a later turn of
 * the event loop, so one turn is waited for first. Not for `run`, whose exit code is its command's
 * and which passes the command's output on whoever reads it.
 */
async function outputWritten(stdout: OutputStream, argv: readonly string[]): Promise<void> {
  if (stdout.failure === undefined || argv.find((arg) => !arg.startsWith("-")) === "run") return;
  await new Promise((resolve) => setImmediate(resolve));
  const failure = stdout.failure();
  if (failure !== null) throw new UsageError(`cannot write to standard output: ${errnoText(failure)}`, { cause: failure });
}

function createProgram(safeIo: CliIo): Command {
  return new Command("lastbeat")
    .description("Make silent cron failures impossible to miss: heartbeat files, alerts, a morning brief.")
    .version(version(), "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .helpCommand("help [command]", "show help for a command")
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => void safeIo.stdout.write(text),
      writeErr: (text) => void safeIo.stderr.write(text),
      // Help is the same on every terminal (and pinned by snapshots).
      getOutHelpWidth: () => 80,
      getErrHelpWidth: () => 80,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
      // One clear line: commander puts "(Did you mean …?)" on a line of its own.
      outputError: (text, write) => write(`${text.trim().replace(/\s*\n\s*/g, " ")}\n`),
    })
    .addHelpText(
      "after",
      `
Examples:
  $ lastbeat beat backup --every 1d                  # at the end of a job
  $ lastbeat run backup --every 1d -- /usr/local/bin/backup.sh
  $ lastbeat status                                  # every job and its status
  $ lastbeat check --forge github --repo acme/ops    # open/close the alert issue

Exit codes: 0 all healthy, 1 a job is alerting, 2 usage or configuration error, 3 forge not synced,
70 a bug in lastbeat (please report it).
`,
    );
}

/** The command named by argv, or all of them for help and unknown commands. */
async function commandsFor(argv: readonly string[]): Promise<typeof COMMANDS> {
  const first = argv.find((arg) => !arg.startsWith("-"));
  const named = COMMANDS.filter(([name]) => name === first);
  return named.length === 1 ? named : COMMANDS;
}

/** Replaces the value of any token variable in everything the CLI prints. */
function redacting(stream: OutputStream, env: CliIo["env"]): OutputStream {
  const secrets = secretsIn(env);
  if (secrets.length === 0) return stream;
  const wrapped: OutputStream = { write: (chunk: string) => stream.write(redact(chunk, secrets)) };
  if (stream.isTTY !== undefined) wrapped.isTTY = stream.isTTY;
  // A wrapped command's own output passes through untouched (bytes cannot be searched safely
  // across chunks); `run` redacts the output tail it stores instead.
  if (stream.writeBytes) wrapped.writeBytes = stream.writeBytes.bind(stream);
  if (stream.drained) wrapped.drained = stream.drained.bind(stream);
  return wrapped;
}

// The bundled command (scripts/bundle-cli.mjs) has the version of the `lastbeat` package that
// ships it compiled in; from source it is read from this package's package.json.
declare const __LASTBEAT_VERSION__: string | undefined;
let cachedVersion: string | undefined;
function version(): string {
  if (typeof __LASTBEAT_VERSION__ === "string") return __LASTBEAT_VERSION__;
  if (cachedVersion === undefined) {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    cachedVersion = pkg.version;
  }
  return cachedVersion;
}
