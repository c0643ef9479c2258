import { existsSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** The instant the fixtures are written against; scans evaluate `--now` this, so results never drift. */
export const FIXTURE_NOW = new Date("2025-06-02T06:00:00Z");

/** Bump when the generated content changes, so cached folders are rebuilt. */
const FIXTURE_VERSION = 1;

const INTERVALS = [60, 300, 900, 3600, 86_400];

/** How many past runs a heartbeat of the `runs` fixtures carries: the most a beat keeps (MAX_RUNS). */
export const FIXTURE_RUNS = 20;

/**
 * A folder of `count` realistic heartbeat files (mostly ok, some late, stale, failed, running;
 * messages and output tails on the failures), generated once and kept in the cache folder:
 * 100k small files take a while to write and every measure reads the same ones. With `runs`,
 * each beat also carries its job's last 20 runs, as `lastbeat run` writes them.
 */
export async function heartbeatFolder(cacheDir: string, count: number, options: { runs?: boolean } = {}): Promise<string> {
  const dir = join(cacheDir, `heartbeats-${count}${options.runs ? "-runs" : ""}-v${FIXTURE_VERSION}`);
  const complete = `${dir}.complete`;
  if (existsSync(complete)) return dir;
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const job = `job-${String(i).padStart(6, "0")}`;
      const beat = heartbeatFor(job, i);
      if (options.runs) beat.runs = runsFor(beat, i);
      await writeFile(join(dir, `${job}.last`), `${JSON.stringify(beat)}\n`, { mode: 0o644 });
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  await writeFile(complete, `${count}\n`);
  return dir;
}

function heartbeatFor(job: string, i: number): Record<string, unknown> {
  const random = mulberry32(i);
  const interval = INTERVALS[i % INTERVALS.length]!;
  // Ages spread over 0–3 intervals: ok, late and stale all occur.
  const ageS = Math.floor(random() * 3 * interval);
  const at = new Date(FIXTURE_NOW.getTime() - ageS * 1000).toISOString();
  const roll = random();
  const status = roll < 0.03 ? "fail" : roll < 0.05 ? "start" : "ok";
  const beat: Record<string, unknown> = { format: "lastbeat/1", job, status, at, interval_s: interval };
  if (status === "ok") beat.last_ok_at = at;
  else beat.last_ok_at = new Date(FIXTURE_NOW.getTime() - (ageS + interval) * 1000).toISOString();
  if (status !== "start") {
    beat.started_at = new Date(FIXTURE_NOW.getTime() - (ageS + 12) * 1000).toISOString();
    beat.duration_ms = Math.floor(random() * 12_000);
    beat.exit_code = status === "fail" ? 1 : 0;
  }
  beat.pid = 1000 + (i % 30_000);
  beat.host = `host-${i % 50}`;
  if (status === "fail") {
    beat.message = "exit code 1";
    beat.output_tail = "Traceback (most recent call last):\n  File \"/opt/job.py\", line 42, in main\nConnectionError: upstream timed out\n";
  }
  return beat;
}

/**
 * The job's last FIXTURE_RUNS finished runs, newest first, one interval apart: the beat's own run
 * first when it finished (ok or fail), about one failure in ten before it.
 */
function runsFor(beat: Record<string, unknown>, i: number): Record<string, unknown>[] {
  const random = mulberry32(i + 0x5eed);
  const interval = beat.interval_s as number;
  const latest = Date.parse(beat.at as string) - (beat.status === "start" ? interval * 1000 : 0);
  return Array.from({ length: FIXTURE_RUNS }, (_, k) => {
    const failed = k === 0 && beat.status !== "start" ? beat.status === "fail" : random() < 0.1;
    return {
      at: new Date(latest - k * interval * 1000).toISOString(),
      status: failed ? "fail" : "ok",
      duration_ms: Math.floor(random() * 12_000),
      exit_code: failed ? 1 : 0,
    };
  });
}

/** A tiny deterministic PRNG so every run generates the same files. */
function mulberry32(seed: number): () => number {
  let a = seed + 0x6d2b79f5;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
