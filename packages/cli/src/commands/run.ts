import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { constants as osConstants } from "node:os";
import type { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { Command } from "commander";
import { LastbeatError, writeHeartbeat, type WriteHeartbeatOptions } from "lastbeat";
import {
  MAX_OUTPUT_TAIL_BYTES,
  buildHeartbeat,
  errnoText,
  formatDuration,
  isValidJobName,
  resolveHeartbeatDir,
  writeConfigErrorBeat,
  type ConfigErrorBeatOptions,
} from "lastbeat/internal";
import { EXIT, UsageError } from "../errors.js";
import type { CliIo, OutputStream, RegisterCommand } from "../io.js";
import { absolute, addBeatOptions, beatDirOption, declarationFrom, singleDir, type BeatFlags } from "../options.js";
import { OutputTail } from "../output-tail.js";
import { acquireRunLock, holderOf, LockError, type LockHolder } from "../lock.js";

interface RunFlags extends BeatFlags {
  overlap: boolean;
}

/**
 * Signals meant for the job, passed on to the command while it runs: those a supervisor (cron,
 * systemd, Kubernetes, a terminal) sends to stop it, and those a program gives its own meaning
 * (USR1/USR2: reopen logs, dump state; WINCH: httpd's graceful stop). Listening also keeps Node's
 * defaults away: USR1 would open the inspector on 127.0.0.1:9229 in a process that often runs as
 * root, and USR2 would kill the wrapper and leave a `start` beat. Job control (TSTP, CONT) is left
 * to the kernel: it stops and continues the whole process group already.
 */
const FORWARDED_SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"];

export const registerRun: RegisterCommand = (program, io, setExit) => {
  const run = program
    .command("run")
    .description("run a command between a start beat and an ok/fail beat (exit code, duration, output tail)")
    .argument("<job>", "job name: letters, digits, . _ - (the file is <dir>/<job>.last)")
    .argument("[command...]", "the command and its arguments, after --")
    .usage("[options] <job> -- <command> [args...]");
  addBeatOptions(run)
    .option("--no-overlap", "skip (exit 0) while the previous run of this job on this host is still alive")
    .addOption(beatDirOption())
    .addHelpText(
      "after",
      `
The command's stdout and stderr pass through; the last 4 KiB are kept in the heartbeat.
lastbeat exits with the command's exit code (127 not found, 126 not executable, 128+n killed by signal n).
A mistake in lastbeat's own flags never stops the command after --: it is reported on stderr,
the command runs, and the job shows as invalid (alerting) until the flags are fixed.

Examples:
  $ lastbeat run backup --every 1d --max-runtime 2h -- /usr/local/bin/backup.sh --full
  $ lastbeat run sync --every 5m --no-overlap -- rsync -a /srv/ backup:/srv/
  $ lastbeat run fetch --every 15m --alert-after 3 --recover-after 2 -- ./fetch-rates.sh

--alert-after 3: the first two failures in a row show as flaky (not alerting); the third alerts.
--recover-after 2: once alerting, the job needs two ok runs in a row to recover.`,
    )
    .action(async (job: string, command: string[], flags: RunFlags, self: Command) => {
      // commander keeps the words as given on its root command (untyped): needed to tell
      // `run -- backup.sh` (no job name) from `run backup.sh` (no command).
      const argv = (self.parent as unknown as { rawArgs?: string[] } | null)?.rawArgs ?? [];
      setExit(await holdingSignals(() => runJob(job, command, flags, io, argv)));
    });
};

/**
 * Signals whose default would end the wrapper: forwarded while the command runs, and held (not
 * acted on) for the rest of `run`, around the start and final beats. Released, Node falls back to
 * the system's default, so a USR2 just after the command ended killed `run` and left its `start` beat.
 */
const HELD_SIGNALS: readonly NodeJS.Signals[] = ["SIGUSR1", "SIGUSR2"];

export async function holdingSignals<T>(work: () => Promise<T>): Promise<T> {
  const hold = () => {};
  for (const signal of HELD_SIGNALS) process.on(signal, hold);
  try {
    return await work();
  } finally {
    for (const signal of HELD_SIGNALS) process.off(signal, hold);
  }
}

const SYNOPSIS = "lastbeat run <job> --every <duration>|--schedule <cron> -- <command> [args…]";

async function runJob(job: string, command: string[], flags: RunFlags, io: CliIo, argv: readonly string[]): Promise<number> {
  const dash = argv.indexOf("--");
  // With no word before `--`, commander took the command's first word for the job name.
  const noJob = dash >= 0 && argv.length - dash - 1 === command.length + 1 && argv[dash + 1] === job;
  const [file, ...args] = noJob ? [job, ...command] : command;
  if (file === undefined || file === "") throw new UsageError(`missing the command: ${SYNOPSIS}`);
  if (noJob) return runUnmonitored(null, [file, ...args], io, new UsageError(`missing the job name: ${SYNOPSIS}`), flags.dir?.[0]);

  let base: WriteHeartbeatOptions;
  let given: string | undefined;
  try {
    given = singleDir(flags, io);
    // Reported by `beatFailures`, once per problem: not by writeHeartbeat, once per beat.
    base = { ...declarationFrom(flags), env: io.env, stderr: SILENT };
    // Every option is checked before the command starts, and a bad one never costs the run.
    buildHeartbeat(job, { ...base, status: "start" });
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof LastbeatError)) throw error;
    return runUnmonitored(job, [file, ...args], io, error, flags.dir?.[0]);
  }
  const runId = randomUUID();
  const extraEnv = { LASTBEAT_JOB: job, LASTBEAT_RUN_ID: runId };
  const failed = beatFailures(job, io);
  let dir: string;
  try {
    dir = await resolveHeartbeatDir({ env: io.env, ...(given !== undefined && { dir: given }) });
  } catch (error) {
    if (!(error instanceof LastbeatError)) throw error;
    // Good flags, a folder that cannot be used: no beat can say so, not even a config_error one.
    failed(error, "start");
    return (await runCommand(file, args, io, extraEnv)).exitCode;
  }
  const startedAt = io.now();
  // A heartbeat that cannot be written never stops the job (the checker sees it stale: the design
  // fails safe); what went wrong is said once, below.
  const beat = async (options: Partial<WriteHeartbeatOptions>) =>
    (await writeHeartbeat(job, { ...base, dir, runId, now: io.now(), ...options })).error;

  let release: ((final: () => Promise<void>) => Promise<void>) | undefined;
  if (flags.overlap) {
    failed(await beat({ status: "start", startedAt }), "start");
  } else {
    let lock: Awaited<ReturnType<typeof acquireRunLock>>;
    try {
      lock = await acquireRunLock({
      dir,
      job,
      self: holderOf(startedAt, { run_id: runId }),
      clock: io.now,
      ...(flags.maxRuntime !== undefined && { maxAgeMs: flags.maxRuntime * 1000 }),
      onAcquired: async () => failed(await beat({ status: "start", startedAt }), "start"),
      onBusy: async (holder) =>
        // Keeps the running run's identity and start: a hung run stays `overrun`, measured from
        // its own start, however many runs are skipped.
        failed(
          await beat({
            status: "start",
            startedAt: new Date(holder.at),
            pid: holder.pid,
            ...(holder.run_id !== undefined && { runId: holder.run_id }),
            message: skipMessage(io.now(), holder, flags.maxRuntime),
          }),
          "skip",
        ),
      onStale: (message) => io.stderr.write(`lastbeat: ${job}: ${message}\n`),
      });
    } catch (error) {
      if (!(error instanceof LockError) && typeof (error as NodeJS.ErrnoException).code !== "string") throw error;
      // Running without the guard could overlap a run the user asked us to keep apart; not
      // running must not be silent: a fail beat names why, so the checker alerts now, not when
      // the job turns stale.
      const why = `not run: --no-overlap could not take its lock (${error instanceof LockError ? error.message : errnoText(error)})`;
      io.stderr.write(`lastbeat: ${job}: ${why}\n`);
      failed(await beat({ status: "fail", startedAt, message: why }), "skip");
      return EXIT.forge;
    }
    if (!lock.acquired) {
      io.stderr.write(`lastbeat: ${job}: ${skipMessage(io.now(), lock.holder, flags.maxRuntime)}\n`);
      return 0;
    }
    release = lock.release;
  }

  const outcome = await runCommand(file, args, io, extraEnv);
  const durationMs = outcome.durationMs;
  const final = async () => {
    const failure = await beat({
      status: outcome.exitCode === 0 ? "ok" : "fail",
      startedAt,
      durationMs,
      exitCode: outcome.exitCode,
      ...(outcome.signal !== undefined && { signal: outcome.signal }),
      ...(outcome.message !== undefined && { message: outcome.message }),
      ...(outcome.tail !== "" && { outputTail: outcome.tail }), // writeHeartbeat redacts tokens
    });
    failed(failure, "end");
  };
  if (release) await release(final);
  else await final();
  return outcome.exitCode;
}

/** Takes writeHeartbeat's own report of a failure: `run` says it itself, see `beatFailures`. */
const SILENT = { write: () => true };

/** The beat that failed: before the command (`start`), after it (`end`), or of a run not run (`skip`). */
type BeatMoment = "start" | "end" | "skip";

/**
 * Says each distinct heartbeat failure once per run, in one line, with what it means for the
 * job: the start and the final beat mostly fail alike (an unusable folder), and a beat that was
 * not written makes nothing `invalid`: the job turns stale, or stays missing.
 */
function beatFailures(job: string, io: CliIo, afterStart = "running and then overrun"): (failure: LastbeatError | undefined, moment: BeatMoment) => void {
  const said = new Set<string>();
  let started = true;
  return (failure, moment) => {
    if (failure === undefined) return;
    if (moment === "start") started = false;
    if (said.has(failure.message)) return;
    said.add(failure.message);
    const unrecorded = `its beats are not recorded, so ${job} turns stale or stays missing until this is fixed`;
    const consequence =
      moment === "start"
        ? `the command runs anyway; ${unrecorded}`
        : moment === "end" && started
          ? `the end of this run is not recorded, so ${job} shows as ${afterStart} until this is fixed`
          : unrecorded;
    io.stderr.write(`lastbeat: ${job}: ${failure.message} (${consequence})\n`);
  };
}

/**
 * `lastbeat run`'s own flags were wrong: say so in one line, run the command all the same (a typo
 * in the wrapper must not cost the job its run) and pass its exit code through. The heartbeat
 * records the error, so every reader reports the job `invalid` and the checker alerts; when the
 * heartbeat cannot be written either, a second line says so.
 */
async function runUnmonitored(
  job: string | null,
  command: string[],
  io: CliIo,
  error: Error,
  dirFlag: string | undefined,
  alreadySaid = false,
): Promise<number> {
  const problem = error.message.replace(/^error: /, "").trim().replace(/\s*\n\s*/g, " ");
  const named = job !== null && isValidJobName(job);
  const failed = named ? beatFailures(job, io, "invalid") : () => {};
  const [file = "", ...args] = command;
  const beat = async (options: Omit<ConfigErrorBeatOptions, "error" | "env" | "stderr" | "dir">) => {
    if (!named) return undefined;
    const written = await writeConfigErrorBeat(job, {
      error: problem,
      env: io.env,
      stderr: SILENT,
      // An empty --dir (an unset variable) was refused: the default folder, where the checker reads, not the working one.
      ...(dirFlag !== undefined && dirFlag !== "" && { dir: absolute(dirFlag, io) }),
      ...options,
    });
    return written.error;
  };
  const startedAt = io.now();
  const notStarted = await beat({ status: "start", now: startedAt, startedAt });
  // "Reported invalid" only when a beat says so: an unusable folder has its own line, below.
  const consequence = !named ? "; no heartbeat is written" : notStarted === undefined ? `; ${job} is reported invalid until this is fixed` : "";
  if (!alreadySaid) io.stderr.write(`error: ${problem} (the command runs anyway${consequence})\n`);
  failed(notStarted, "start");
  const outcome = await runCommand(file, args, io, { ...(named && { LASTBEAT_JOB: job }) });
  const notEnded = await beat({
    status: outcome.exitCode === 0 ? "ok" : "fail",
    now: io.now(),
    startedAt,
    durationMs: outcome.durationMs,
    exitCode: outcome.exitCode,
    ...(outcome.tail !== "" && { outputTail: outcome.tail }),
  });
  failed(notEnded, "end");
  return outcome.exitCode;
}

/**
 * For the CLI entry: when commander itself refused `run`'s flags (an unknown option, a bad
 * value) and a command follows `--`, run it anyway as above. Undefined when that does not apply.
 * Commander has printed the error line already.
 */
export async function runAfterRefusedFlags(argv: readonly string[], runCommandDef: Command | undefined, error: Error, io: CliIo): Promise<number | undefined> {
  const at = argv.findIndex((arg) => !arg.startsWith("-"));
  const dash = argv.indexOf("--");
  if (argv[at] !== "run" || dash < at || dash === argv.length - 1) return undefined;
  const own = argv.slice(at + 1, dash);
  const takesValue = new Set(
    (runCommandDef?.options ?? []).filter((option) => option.required || option.optional).map((option) => option.long),
  );
  let job: string | null = null;
  let dirFlag: string | undefined;
  for (let i = 0; i < own.length; i++) {
    const word = own[i]!;
    if (word === "--dir") dirFlag ??= own[i + 1];
    else if (word.startsWith("--dir=")) dirFlag ??= word.slice("--dir=".length);
    if (word.startsWith("-")) {
      if (takesValue.has(word)) i++;
      continue;
    }
    job ??= word;
  }
  return runUnmonitored(job, argv.slice(dash + 1), io, error, dirFlag, true);
}

/**
 * A run past its max runtime whose process is alive here is not taken over (lock.ts): the line
 * says so, and that the job alerts as overrun until that run ends or is killed.
 */
function skipMessage(now: Date, holder: LockHolder, maxRuntimeSeconds: number | undefined): string {
  const skipped = `skipped the run at ${now.toISOString()}: the previous run (pid ${holder.pid} on ${holder.host}, started ${holder.at}) is still running`;
  const overrun = maxRuntimeSeconds !== undefined && now.getTime() - Date.parse(holder.at) > maxRuntimeSeconds * 1000;
  return overrun ? `${skipped}, past its --max-runtime ${formatDuration(maxRuntimeSeconds)}: overrun until it ends or is killed` : skipped;
}

interface CommandOutcome {
  exitCode: number;
  signal?: string;
  message?: string;
  tail: string;
  /** From spawn to the command's own exit: not the wait for children it left holding the pipes. */
  durationMs: number;
}

/** How long the pipes may stay silent, once the command has exited, before we stop reading them. */
const LINGER_MS = 2000;

/**
 * Spawns the command with stdin inherited and stdout/stderr piped through to ours, keeping the
 * last 4 KiB of both, and forwards stop signals to it. Resolves once its output is drained.
 *
 * Backpressure: while our stdout (or stderr) cannot take more, the command's pipe is not read, so
 * the command waits on its own write and our memory stays bounded however much it prints and
 * however slowly our reader reads.
 */
function runCommand(file: string, args: string[], io: CliIo, extraEnv: Record<string, string>): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    // Keep a margin beyond the 4 KiB stored: a token cut in two by the window's edge is still
    // whole here, so writeHeartbeat can redact it before cutting to MAX_OUTPUT_TAIL_BYTES.
    const tail = new OutputTail(MAX_OUTPUT_TAIL_BYTES + 1024);
    const received = new Set<NodeJS.Signals>();
    const started = process.hrtime.bigint();
    let exitedAt: bigint | undefined;
    const child = spawn(file, args, {
      cwd: io.cwd,
      env: { ...io.env, ...extraEnv },
      stdio: ["inherit", "pipe", "pipe"],
    });
    const forward = (signal: NodeJS.Signals) => {
      received.add(signal);
      child.kill(signal);
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    let settled = false;
    let lingerTimer: NodeJS.Timeout | undefined;
    let waitingForReader = 0;
    // A background process the command left behind may hold the pipes open for hours: once the
    // command has exited, stop reading after LINGER_MS of silence. Time spent waiting for our own
    // slow reader is not silence: that output is still coming through.
    const linger = () => {
      clearTimeout(lingerTimer);
      if (exitedAt === undefined || settled || waitingForReader > 0) return;
      lingerTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, LINGER_MS).unref();
    };
    const flow: FlowControl = {
      onData: linger,
      onWait: () => {
        waitingForReader++;
        clearTimeout(lingerTimer);
      },
      onResume: () => {
        waitingForReader--;
        linger();
      },
    };
    const finish = (outcome: Omit<CommandOutcome, "tail" | "durationMs">) => {
      if (settled) return;
      settled = true;
      clearTimeout(lingerTimer);
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
      const durationMs = Number((exitedAt ?? process.hrtime.bigint()) - started) / 1e6;
      resolve({ ...outcome, tail: tail.text(), durationMs });
    };

    pipeThrough(child.stdout, io.stdout, tail, flow);
    pipeThrough(child.stderr, io.stderr, tail, flow);

    child.on("error", (error: NodeJS.ErrnoException) => {
      // Like a shell: 127 when the command is not found, 126 when it cannot be executed.
      const notFound = error.code === "ENOENT";
      const what = notFound
        ? "command not found"
        : error.code === "EACCES"
          ? "permission denied (not executable)"
          : `cannot execute (${error.code ?? error.message})`;
      io.stderr.write(`lastbeat: ${file}: ${what}\n`);
      finish({ exitCode: notFound ? 127 : 126, message: `${file}: ${what}` });
    });
    child.on("exit", () => {
      exitedAt = process.hrtime.bigint();
      linger();
    });
    child.on("close", (code, signal) => {
      if (signal !== null) {
        const number = osConstants.signals[signal] ?? 0;
        const by = received.has(signal) ? `${signal} (forwarded to the command)` : signal;
        finish({ exitCode: 128 + number, signal, message: `killed by ${by}` });
      } else {
        finish({ exitCode: code ?? 1, ...(code !== 0 && { message: `exit code ${code}` }) });
      }
    });
  });
}

interface FlowControl {
  /** Output arrived. */
  onData(): void;
  /** Our side is full: the pipe is paused until it drains. */
  onWait(): void;
  onResume(): void;
}

function pipeThrough(from: Readable, to: OutputStream, tail: OutputTail, flow: FlowControl): void {
  const decoder = new StringDecoder("utf8");
  from.on("data", (chunk: Buffer) => {
    tail.push(chunk);
    const more = to.writeBytes ? to.writeBytes(chunk) : to.write(decoder.write(chunk));
    flow.onData();
    if (more === false && to.drained) {
      from.pause();
      flow.onWait();
      void to.drained().then(() => {
        flow.onResume();
        from.resume();
      });
    }
  });
  from.on("end", () => {
    const rest = decoder.end();
    if (rest && !to.writeBytes) to.write(rest);
  });
  from.on("error", () => {
    // A destroyed pipe (see `linger` above) is not the command's failure.
  });
}
