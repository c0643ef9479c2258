import { open, rename } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { writeHeartbeat } from "lastbeat";
import type { BenchConfig } from "./config.js";
import type { Row } from "./row.js";
import { alternate, elapsedMs, perRound, roundRatios, summarize, type Summary } from "./stats.js";

/**
 * Durable heartbeat write, in process: `writeHeartbeat` against plain Node doing the syscalls the
 * format requires (open a temp file in the same folder, write, fsync, close, rename), one write
 * after the other, `writesPerRound` of each per round.
 */
export async function measureWrite(config: BenchConfig, dir: string): Promise<Row[]> {
  const n = config.writesPerRound;
  const host = hostname();
  let counter = 0;

  const plainWrite = async () => {
    const file = join(dir, "plain.last");
    const temp = `${file}.${process.pid}.${counter++}.tmp`;
    const at = new Date().toISOString();
    const beat = { format: "lastbeat/1", job: "plain", status: "ok", at, interval_s: 300, last_ok_at: at, pid: process.pid, host };
    const handle = await open(temp, "w", 0o644);
    try {
      await handle.write(`${JSON.stringify(beat)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  };

  const timed = (fn: () => Promise<unknown>) => async () => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const start = process.hrtime.bigint();
      await fn();
      samples.push(elapsedMs(start));
    }
    return samples;
  };

  const rounds = await alternate(
    {
      ok: timed(() => writeHeartbeat("bench-ok", { every: "5m", dir, strict: true })),
      fail: timed(() => writeHeartbeat("bench-fail", { every: "5m", dir, status: "fail", message: "exit code 1", strict: true })),
      plain: timed(plainWrite),
    },
    { rounds: config.rounds.write, warmup: config.warmup },
  );

  const row = (id: string, measure: string, side: number[][], stat: (s: Summary) => number, target: number | null): Row => {
    const ratio = summarize(roundRatios(side, rounds.plain, stat));
    return {
      id,
      measure,
      unit: "ms",
      lastbeat: summarize(perRound(side, stat)),
      baseline: summarize(perRound(rounds.plain, stat)),
      baselineLabel: "open+write+fsync+rename",
      ratio,
      target: target === null ? "—" : `ratio ≤ ${target}`,
      met: target === null ? null : ratio.p50 <= target,
    };
  };
  return [
    row("write.ok.p50", "durable write `writeHeartbeat` ok beat, p50", rounds.ok, (s) => s.p50, 1.3),
    row("write.ok.p99", "durable write `writeHeartbeat` ok beat, p99", rounds.ok, (s) => s.p99, 1.3),
    row("write.fail.p50", "durable write, fail beat (reads the previous beat), p50", rounds.fail, (s) => s.p50, null),
  ];
}
