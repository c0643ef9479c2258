import { spawn } from "node:child_process";
import { setTimeout as delay } from "node:timers/promises";
import type { BenchConfig } from "./config.js";
import { rssReporter } from "./processes.js";
import type { Row } from "./row.js";
import { summarize } from "./stats.js";

const MiB = 1024 * 1024;
/** How long the slow reader leaves the pipe unread before it starts reading. */
const READER_DELAY_MS = 3000;

/**
 * Peak RSS of `lastbeat run` passing 1 GiB of output to a reader that does not read for its first
 * 3 s (`lastbeat run … | (sleep 3; wc -c)`): with backpressure the command waits for the reader,
 * without it every unread byte sits in lastbeat's memory. The baseline is the floor for a Node
 * process forwarding the same bytes: a child's stdout piped to its own with `stream.pipe`.
 */
export async function measureRun(config: BenchConfig, dir: string): Promise<Row[]> {
  const bytes = (config.quick ? 256 : 1024) * MiB;
  const runs = config.quick ? 1 : 2;
  const producer = ["head", "-c", String(bytes), "/dev/zero"];
  const cli = config.cli.command === process.execPath ? config.cli.args : [config.cli.command];
  const lastbeat: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < runs; i++) {
    lastbeat.push(await peakRssThroughSlowReader([...cli, "run", "bench-pipe", "--every", "1h", "--dir", dir, "--", ...producer], bytes));
    const forward = `require("child_process").spawn(${JSON.stringify(producer[0])}, ${JSON.stringify(producer.slice(1))}, { stdio: ["ignore", "pipe", "inherit"] }).stdout.pipe(process.stdout)`;
    plain.push(await peakRssThroughSlowReader(["-e", forward], bytes));
  }
  const s = summarize(lastbeat);
  return [
    {
      id: "memory.run.pipe",
      measure: `peak RSS, \`lastbeat run\` passing ${bytes / MiB >= 1024 ? `${bytes / MiB / 1024} GiB` : `${bytes / MiB} MiB`} to a reader that waits ${READER_DELAY_MS / 1000} s`,
      unit: "MiB",
      lastbeat: s,
      baseline: summarize(plain),
      baselineLabel: "Node child-to-stdout pipe",
      ratio: null,
      target: "< 100 MiB",
      met: s.max < 100,
    },
  ];
}

/** Runs `node <args>` with its stdout read late, checks every byte arrived, returns its peak RSS in MiB. */
async function peakRssThroughSlowReader(args: string[], bytes: number): Promise<number> {
  const rss = rssReporter();
  try {
    const child = spawn(process.execPath, [...rss.nodeArgs, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    await delay(READER_DELAY_MS); // the slow reader: nothing is read from the pipe meanwhile
    let received = 0;
    child.stdout.on("data", (chunk: Buffer) => (received += chunk.length));
    const code = await closed;
    if (code !== 0) throw new Error(`bench: node ${args.join(" ")} exited ${code}: ${stderr.trim()}`);
    if (received !== bytes) throw new Error(`bench: ${received} bytes arrived instead of ${bytes}`);
    return rss.peakMiB();
  } finally {
    rss.remove();
  }
}
