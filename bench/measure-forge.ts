import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeHeartbeat } from "lastbeat";
// The loopback GitHub/Gitea/GitLab fake of the test suite, with its request log.
import { startFakeForge, type FakeForge, type Flavor } from "../test/support/fake-forge.js";
import type { BenchConfig } from "./config.js";
import type { Row } from "./row.js";

const T0 = Date.parse("2025-06-02T06:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

interface Step {
  id: string;
  measure: string;
  /** Beats written before the run: [job, minutes after T0, status]. */
  beats?: ReadonlyArray<readonly [string, number, "ok" | "fail"]>;
  /** When the check runs, minutes after T0. */
  checkAt: number;
  /** Only the steady states have a target: one read, no write. */
  steady: boolean;
  timed: boolean;
}

/*
 * One story, run in order against a fresh fake forge: two healthy runs, a job goes stale (new
 * incident), the same again (steady alerting), a second job fails (the alerting set changes),
 * the same again, then both recover. The first run is a warm-up (it may create the label).
 */
const STORY: readonly Step[] = [
  { id: "warmup", measure: "first run", beats: [["fast", 0, "ok"], ["slow", 0, "ok"]], checkAt: 1, steady: false, timed: false },
  { id: "healthy", measure: "steady healthy (nothing alerting, no issue open)", checkAt: 2, steady: true, timed: true },
  { id: "incident", measure: "new incident (a job goes stale: issue created)", checkAt: 20, steady: false, timed: true },
  { id: "alerting", measure: "steady alerting (same alerting set, issue open)", checkAt: 21, steady: true, timed: true },
  { id: "change", measure: "alerting set changes (a second job fails)", beats: [["slow", 21.5, "fail"]], checkAt: 22, steady: false, timed: true },
  { id: "alerting2", measure: "steady alerting after the change", checkAt: 23, steady: true, timed: true },
  { id: "recovery", measure: "recovery (closing comment, issue closed)", beats: [["fast", 24, "ok"], ["slow", 24, "ok"]], checkAt: 25, steady: false, timed: true },
];

/** Forge requests per `lastbeat check` run, counted at the loopback fake (GitHub, Gitea and GitLab flavours). */
export async function measureForge(config: BenchConfig): Promise<Row[]> {
  const available = await run(config, ["check", "--help"], {}).then(
    (r) => r.code === 0,
    () => false,
  );
  if (!available) {
    return [
      {
        id: "forge.unavailable",
        measure: "forge requests per `check` run",
        unit: "requests",
        lastbeat: null,
        baseline: null,
        baselineLabel: "",
        ratio: null,
        target: "steady: 1 read, 0 writes",
        met: null,
        text: "not measured: this build has no `lastbeat check`",
      },
    ];
  }
  const rows: Row[] = [];
  for (const flavor of ["github", "gitea", "gitlab"] as const satisfies readonly Flavor[]) rows.push(...(await story(config, flavor)));
  return rows;
}

async function story(config: BenchConfig, flavor: Flavor): Promise<Row[]> {
  const forge = await startFakeForge({ flavor });
  const dir = await mkdtemp(join(tmpdir(), `lastbeat-bench-forge-${flavor}-`));
  const rows: Row[] = [];
  try {
    for (const step of STORY) {
      for (const [job, minutes, status] of step.beats ?? []) {
        await writeHeartbeat(job, { every: job === "fast" ? "5m" : "1d", dir, status, now: at(minutes), strict: true });
      }
      forge.resetLog();
      const from = forge.requests.length;
      const result = await check(config, forge, flavor, dir, at(step.checkAt));
      if (result.code !== 0 && result.code !== 1) {
        throw new Error(`bench: lastbeat check (${flavor}, ${step.id}) exited ${result.code}: ${result.stderr.trim()}`);
      }
      if (!step.timed) continue;
      const { reads, writes } = forge.counts();
      const requests = forge.requests.slice(from).map((r) => `${r.method} ${shortPath(r.path)}`).join(", ");
      rows.push({
        id: `forge.${flavor}.${step.id}`,
        measure: `\`check\` (${flavor}): ${step.measure}`,
        unit: "requests",
        lastbeat: null,
        baseline: null,
        baselineLabel: "",
        ratio: null,
        target: step.steady ? "1 read, 0 writes" : "—",
        met: step.steady ? reads === 1 && writes === 0 : null,
        text: `${reads} read${reads === 1 ? "" : "s"}, ${writes} write${writes === 1 ? "" : "s"}: ${requests}`,
      });
    }
    const open = forge.openIssues();
    if (open.length !== 0) {
      throw new Error(`bench: the ${flavor} story should end with no open issue, found ${open.map((i) => `#${i.number} ${i.title}`).join("; ")}`);
    }
  } finally {
    await forge.close();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

const STORM_JOBS = 300;

/**
 * A mass outage: 300 jobs go stale at once, stay stale, then all recover. Writes per `check` run,
 * per mode, at the GitHub fake, which counts GitHub's secondary limits (80 writes a minute, 500
 * an hour) by each run's own time and refuses writes past them with 403.
 */
export async function measureStorm(config: BenchConfig): Promise<Row[]> {
  const rows: Row[] = [];
  for (const mode of ["per-job", "rollup"] as const) {
    const dir = await mkdtemp(join(tmpdir(), `lastbeat-bench-storm-${mode}-`));
    let clock = at(0);
    const forge = await startFakeForge({ flavor: "github", limitsClock: () => clock });
    try {
      const beatAll = async (minutes: number) => {
        for (let i = 0; i < STORM_JOBS; i++) {
          await writeHeartbeat(`job-${String(i).padStart(3, "0")}`, { every: "5m", dir, now: at(minutes), strict: true });
        }
      };
      await beatAll(0);
      const steps = [
        { id: "outage", measure: `${STORM_JOBS} jobs go stale at once`, checkAt: 20 },
        { id: "again", measure: "the next run, nothing changed", checkAt: 35 },
        { id: "recovery", measure: `all ${STORM_JOBS} recover`, checkAt: 51, beatAt: 50 },
        { id: "after", measure: "the run after the recovery (jobs beating again)", checkAt: 66, beatAt: 65 },
      ];
      const perRun: number[] = [];
      for (const step of steps) {
        if (step.beatAt !== undefined) await beatAll(step.beatAt);
        clock = at(step.checkAt);
        forge.resetLog();
        const from = forge.requests.length;
        const args = ["check", "--forge", "github", "--url", forge.url, "--repo", forge.repo, "--dir", dir, "--mode", mode, "--scope", "bench", "--now", clock.toISOString()];
        const result = await run(config, args, { LASTBEAT_TOKEN: forge.token });
        if (result.code !== 0 && result.code !== 1) throw new Error(`bench: storm (${mode}, ${step.id}) exited ${result.code}: ${result.stderr.trim()}`);
        const { writes } = forge.counts();
        perRun.push(writes);
        const kinds = new Map<string, number>();
        for (const r of forge.requests.slice(from).filter((q) => q.method !== "GET")) {
          const what = `${r.method} ${shortPath(r.path).replace(/\d+/g, "n")}`;
          kinds.set(what, (kinds.get(what) ?? 0) + 1);
        }
        const detail = [...kinds].map(([what, n]) => `${n}× ${what}`).join(", ");
        rows.push({
          id: `storm.${mode}.${step.id}`,
          measure: `\`check --mode ${mode}\` (github): ${step.measure}`,
          unit: "requests",
          lastbeat: null,
          baseline: null,
          baselineLabel: "",
          ratio: null,
          target: "≤ 40 writes, none refused",
          met: writes <= 40 && forge.limits.refused === 0,
          text: `${writes} write${writes === 1 ? "" : "s"}${detail ? `: ${detail}` : ""}`,
        });
      }
      if (forge.openIssues().length !== 0) throw new Error(`bench: the ${mode} storm should end with no open issue: ${forge.openIssues().map((i) => i.title).join("; ")}`);
      rows.push({
        id: `storm.${mode}.hour`,
        measure: `\`check --mode ${mode}\` (github): writes in the storm's hour`,
        unit: "requests",
        lastbeat: null,
        baseline: null,
        baselineLabel: "",
        ratio: null,
        target: "≤ 500 an hour",
        met: forge.limits.inHourBefore(clock) <= 500,
        text: `${perRun.reduce((a, b) => a + b, 0)} writes over ${perRun.length} runs`,
      });
    } finally {
      await forge.close();
      await rm(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

function shortPath(path: string): string {
  return path.replace(/^\/repos\/[^/]+\/[^/]+/, "").replace(/^\/projects\/[^/]+/, "");
}

function check(config: BenchConfig, forge: FakeForge, flavor: Flavor, dir: string, now: Date) {
  return run(
    config,
    ["check", "--forge", flavor, "--url", forge.url, "--repo", forge.repo, "--dir", dir, "--now", now.toISOString()],
    { LASTBEAT_TOKEN: forge.token },
  );
}

/** Asynchronous on purpose: the fake forge answers from this process's event loop. */
function run(config: BenchConfig, args: string[], env: Record<string, string>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      config.cli.command,
      [...config.cli.args, ...args],
      { env: { ...process.env, NO_COLOR: "1", ...env }, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (error && typeof error.code !== "number") reject(error);
        else resolve({ code: child.exitCode ?? 0, stderr });
      },
    );
  });
}
