import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

// The executable a user runs: bin/lastbeat → the bundled packages/lastbeat/dist/cli/lastbeat.mjs that
// `npm ci` builds (root `prepare`). Everything else tests the TypeScript source.
const bin = join(repoRoot, "bin", "lastbeat");
let dir: string;
beforeAll(async () => {
  if (!existsSync(join(repoRoot, "packages", "lastbeat", "dist", "cli", "lastbeat.mjs"))) {
    execFileSync("npm", ["run", "build"], { cwd: repoRoot, stdio: "ignore" });
  }
  dir = await testdir("lastbeat-bin-");
});

const run = (...args: string[]) => spawnSync(bin, args, { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", LASTBEAT_DIR: dir } });

describe("bin/lastbeat (the built binary)", () => {
  it("prints its version and help", () => {
    expect(run("--version")).toMatchObject({ status: 0, stdout: "0.1.0\n" });
    expect(run("--help").stdout).toContain("lastbeat check --forge github --repo acme/ops");
  });
  it("beats, runs a command, reports status, and loads check and report lazily", () => {
    expect(run("beat", "backup", "--every", "1d")).toMatchObject({ status: 0, stdout: "", stderr: "" });
    expect(run("run", "sync", "--every", "5m", "--", "sh", "-c", "echo synced; exit 3")).toMatchObject({ status: 3, stdout: "synced\n" });
    const status = run("status", "--json");
    expect(status.status).toBe(1);
    expect(JSON.parse(status.stdout).jobs.map((j: { job: string; status: string }) => [j.job, j.status])).toEqual([
      ["sync", "failed"],
      ["backup", "ok"],
    ]);
    const check = run("check", "--forge", "file", "--repo", join(dir, "issues"));
    expect(check.status).toBe(1);
    expect(check.stdout).toContain("open #1");
    expect(run("report", "--panel").stdout).toContain("| sync ");
  });
  it("answers a bad flag with one line and exit 2", () => {
    const bad = run("beat", "backup", "--evry", "1d");
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  });
});
