import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile, symlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

const WORKSPACES = { lastbeat: "packages/lastbeat", "@lastbeat/cli": "packages/cli", "@lastbeat/forge": "packages/forge", "@lastbeat/report": "packages/report" };

let scratch: string;

/**
 * A clean copy of the checkout (tracked and new files, nothing ignored: no dist, no stray demo
 * output) whose node_modules links the installed dependencies but resolves our own packages to
 * the copy, as `npm ci` on a fresh clone would.
 */
async function cleanCopy(into: string): Promise<void> {
  const { stdout } = await promisify(execFile)("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: repoRoot,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of stdout.split("\0").filter(Boolean)) {
    if (!existsSync(join(repoRoot, file))) continue; // deleted in the working tree
    await mkdir(dirname(join(into, file)), { recursive: true });
    await copyFile(join(repoRoot, file), join(into, file));
  }
  const modules = join(into, "node_modules");
  await mkdir(join(modules, "@lastbeat"), { recursive: true });
  for (const name of await readdir(join(repoRoot, "node_modules"))) {
    if (name === "lastbeat" || name === "@lastbeat" || name === ".package-lock.json") continue;
    await symlink(join(repoRoot, "node_modules", name), join(modules, name));
  }
  for (const [name, folder] of Object.entries(WORKSPACES)) await symlink(join(into, folder), join(modules, name));
}

function npmRunDemo(cwd: string, folder: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "demo", "--", folder], {
      cwd,
      env: { ...process.env, NO_COLOR: "1", TZ: "UTC", LASTBEAT_DIR: "", LASTBEAT_MANIFEST: "" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("npm run demo", () => {
  let run: Awaited<ReturnType<typeof npmRunDemo>>;
  let demo: string;
  let copy: string;
  let before: string[];

  beforeAll(async () => {
    scratch = await testdir("lastbeat-demo-test-");
    copy = join(scratch, "clone");
    demo = join(scratch, "demo");
    await cleanCopy(copy);
    before = (await readdir(copy)).sort();
    run = await npmRunDemo(copy, demo);
  });

  it("runs to the end from a clean copy", () => {
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Where everything is");
  });

  it("names every sample status, with its symbol", () => {
    for (const label of ["✓ ok", "◷ late", "✗ stale", "✗ failed", "▶ running", "✗ invalid", "≈ flaky"]) {
      expect(run.stdout).toContain(label);
    }
  });

  it("prints no error", () => {
    expect(run.stderr.replace(/^npm warn .*\n/gm, "")).toBe("");
  });

  it("runs status, check --forge file and report, and says where the issue and the brief are", async () => {
    expect(run.stdout).toContain("$ lastbeat status");
    expect(run.stdout).toContain("$ lastbeat check --forge file --repo $DEMO/issues");
    expect(run.stdout).toContain("$ lastbeat report");
    const brief = join(demo, "brief.md");
    expect(run.stdout).toContain(`brief        ${brief}`);
    expect(await readFile(brief, "utf8")).toMatch(/^# Morning brief — /);
    expect(await readFile(join(demo, "brief.html"), "utf8")).toMatch(/^<!doctype html>/);
    const issues = (await readdir(join(demo, "issues")).catch(() => [] as string[])).filter((name) => name.endsWith(".md"));
    expect(issues.length).toBe(1);
    expect(run.stdout).toContain(`alert issue  ${join(demo, "issues", issues[0]!)}`);
  });

  it("shows what happened overnight from the checker's journal, and a flaky job that does not alert", async () => {
    const brief = await readFile(join(demo, "brief.md"), "utf8");
    const section = brief.slice(brief.indexOf("## Since the last brief"), brief.indexOf("## Heartbeat panel"));
    // Times of day in the demo's clock; a night that spans midnight says "yesterday at".
    const at = String.raw`(?:yesterday )?at \d\d:\d\d`;
    const since = String.raw`down since (?:yesterday at )?\d\d:\d\d`;
    const line = (text: string) => new RegExp(`^- ${text}`, "m");
    expect(section).toMatch(line(String.raw`\*\*mail-queue\*\* failed ${at}, recovered ${at} — down 1h 10m \(last run failed: SMTP connection refused\)$`));
    expect(section).toMatch(line(String.raw`\*\*backup\*\* failed ${at} — ${since}, 5h so far`));
    expect(section).toMatch(line(String.raw`\*\*invoice-sync\*\* went stale ${at} — ${since}, 1h 30m so far`));
    expect(section).toMatch(line(String.raw`\*\*api-sync\*\* turned flaky ${at} \(1 of 3 failures before alerting`));
    expect(section).not.toContain("No journal");
    // Flaky is not alerting: not under "Needs attention", not in the issue.
    expect(brief.slice(0, brief.indexOf("## Since the last brief"))).not.toContain("api-sync");
    const issues = (await readdir(join(demo, "issues"))).filter((name) => name.endsWith(".md"));
    expect(await readFile(join(demo, "issues", issues[0]!), "utf8")).not.toContain("api-sync");
    // The panel: each job's last runs, oldest first, and its availability from the journal.
    expect(brief).toMatch(/^\| api-sync +\| ≈ flaky +\|.*\| ✓✓✓✓✓✓✓✗ +\| +100% since \d+ \w{3} \|/m);
    expect(brief).toMatch(/^\| mail-queue +\| ✓ ok +\|.*\| ✓✓✓✓✗✓✓✓ +\| +85\.4% since \d+ \w{3} \|/m);
    expect(run.stdout).toContain(`journal      ${join(demo, "heartbeats", "heartbeat-checker.journal")}`);
  });

  it("writes nothing into the checkout", async () => {
    expect((await readdir(copy)).sort()).toEqual(before);
  });

});
