import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runLastbeat } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

// promtool comes from the Debian package `prometheus` (installed by .ci/run).
const exec = promisify(execFile);
const rulesDir = join(repoRoot, "examples", "prometheus");

let dir: string;
beforeAll(async () => {
  dir = await testdir("lastbeat-promtool-");
});

async function promtool(args: string[], input?: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = execFile("promtool", args, { cwd: dir }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
    child.stdin!.end(input ?? "");
  });
}

/** Heartbeats covering every kind of series: ok with duration, failed, stale, started, invalid, missing. */
async function metricsText(): Promise<string> {
  const env = { LASTBEAT_DIR: dir };
  const at = "2025-01-31T06:00:00Z";
  const beat = (args: string[]) => runLastbeat(["beat", ...args, "--now", at], { env });
  await beat(["healthy", "--every", "1d"]);
  await beat(["stale", "--every", "5m"]);
  await beat(["broken", "--every", "1h", "--exit-code", "2", "--message", 'quote " and \\ backslash']);
  await beat(["running", "--every", "1h", "--status", "start", "--max-runtime", "30m"]);
  // What `lastbeat run` writes (its clock cannot be pinned): duration and exit code.
  await writeFile(
    join(dir, "wrapped.last"),
    JSON.stringify({ format: "lastbeat/1", job: "wrapped", status: "ok", at, interval_s: 3600, duration_ms: 1234, exit_code: 0 }),
  );
  await writeFile(join(dir, "garbage.last"), "{not json");
  await writeFile(join(dir, "lastbeat.json"), JSON.stringify({ jobs: { never: { every: "1h" } } }));
  const result = await runLastbeat(["metrics", "--manifest", join(dir, "lastbeat.json"), "--now", "2025-01-31T06:20:00Z"], { env });
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return result.stdout;
}

describe("promtool", () => {
  it("is installed (Debian package prometheus)", async () => {
    const { stdout, stderr } = await exec("promtool", ["--version"]);
    expect(stdout + stderr).toMatch(/promtool, version/);
  });

  it("check metrics accepts `lastbeat metrics` output, lint included", async () => {
    const text = await metricsText();
    expect(text).toContain('lastbeat_job_status{job="stale",status="stale"} 1');
    expect(text).toContain('lastbeat_job_status{job="never",status="missing"} 1');
    expect(text).toContain('lastbeat_last_duration_seconds{job="wrapped"} 1.234');
    const result = await promtool(["check", "metrics"], text);
    expect(result).toEqual({ code: 0, output: "" });
  });

  it("the --out file is the same exposition, written atomically (no temp file left)", async () => {
    const out = join(dir, "out", "lastbeat.prom");
    await (await import("node:fs/promises")).mkdir(join(dir, "out"));
    const result = await runLastbeat(["metrics", "--out", out, "--now", "2025-01-31T06:20:00Z"], { env: { LASTBEAT_DIR: dir } });
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(join(dir, "out"))).toEqual(["lastbeat.prom"]);
    expect((await promtool(["check", "metrics"], await readFile(out, "utf8"))).code).toBe(0);
  });

  it("check rules accepts the example rule file", async () => {
    const result = await promtool(["check", "rules", join(rulesDir, "lastbeat.rules.yml")]);
    expect(result.output).toContain("SUCCESS: 2 rules found");
    expect(result.code).toBe(0);
  });

  it("test rules: the example unit test passes (fires for a stale job, not for a healthy one)", async () => {
    const result = await promtool(["test", "rules", join(rulesDir, "lastbeat.rules.test.yml")]);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });

  it("test rules on the real metrics: the alert fires for every alerting job and no other", async () => {
    const text = await metricsText();
    // Each sample of the exposition becomes a constant input series, as node_exporter would serve it.
    const series = text
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#") && !line.startsWith("lastbeat_scan_timestamp_seconds"))
      .map((line) => {
        const cut = line.lastIndexOf(" ");
        return { series: line.slice(0, cut), values: `${line.slice(cut + 1)}x20` };
      });
    const alerting = [...text.matchAll(/^lastbeat_job_status\{job="([^"]+)",status="(stale|failed|overrun|missing|invalid)"\} 1$/gm)].map(
      (m) => ({ job: m[1]!, status: m[2]! }),
    );
    expect(alerting.map((a) => a.job).sort()).toEqual(["broken", "garbage", "never", "stale"]);
    const test = {
      rule_files: [join(rulesDir, "lastbeat.rules.yml")],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: series,
          alert_rule_test: [
            {
              eval_time: "5m",
              alertname: "LastbeatJobAlerting",
              exp_alerts: alerting.map((a) => ({
                exp_labels: { severity: "warning", job: a.job, lastbeat_job: a.job, status: a.status },
                exp_annotations: {
                  summary: `cron job ${a.job} is ${a.status}`,
                  description: `lastbeat reports ${a.job} as ${a.status}. Run \`lastbeat status\` on .`,
                },
              })),
            },
          ],
        },
      ],
    };
    // JSON is YAML.
    await writeFile(join(dir, "generated.test.yml"), JSON.stringify(test, null, 2));
    const result = await promtool(["test", "rules", join(dir, "generated.test.yml")]);
    expect(result.output).toContain("SUCCESS");
    expect(result.code).toBe(0);
  });
});
