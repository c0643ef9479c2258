import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runLastbeat } from "../../support/cli.js";
import { nobodySupport, runLastbeatAsNobody, sharedTempDir } from "../../support/tmpfs.js";

/*
 * Drill: writers and readers find the same folder. The system folder is moved into a temp folder
 * with LASTBEAT_SYSTEM_DIR (tests only; the real /var/run is never touched), the writer runs as
 * `nobody` (root is never denied), and no LASTBEAT_DIR is set, so the default rule decides.
 */

const NOW = "2025-03-01T10:00:00.000Z";

let tmp: { dir: string; cleanup: () => void };
let system: string;
let home: string;
let env: Record<string, string | undefined>;

beforeEach(() => {
  tmp = sharedTempDir();
  system = join(tmp.dir, "run", "lastbeat", "heartbeats");
  home = join(tmp.dir, "home");
  mkdirSync(home);
  chmodSync(home, 0o777); // nobody's home: a silent fallback would land here
  env = { LASTBEAT_SYSTEM_DIR: system, LASTBEAT_DIR: undefined, HOME: home };
});
afterEach(() => tmp.cleanup());

function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split("\n");
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

describe.skipIf(!nobodySupport.ok)(`drill: one folder rule${nobodySupport.ok ? "" : ` (skipped: ${nobodySupport.reason})`}`, () => {
  it("a beat that may not write the existing system folder fails loudly, never beats into its home", async () => {
    mkdirSync(system, { recursive: true, mode: 0o755 });
    const result = await runLastbeatAsNobody(["beat", "backup", "--every", "5m", "--now", NOW], { env });
    expect(result.code).toBe(2);
    const line = oneLine(result.stderr);
    expect(line).toContain(`heartbeat folder ${system}`);
    expect(line).toContain("sudo lastbeat init");
    expect(line).toContain("LASTBEAT_DIR");
    expect(existsSync(join(home, ".lastbeat"))).toBe(false);
    expect(readdirSync(system)).toEqual([]);
  });

  it("run in that case still runs the command and passes its exit code through", async () => {
    mkdirSync(system, { recursive: true, mode: 0o755 });
    const marker = join(home, "ran");
    const result = await runLastbeatAsNobody(["run", "backup", "--every", "5m", "--", "sh", "-c", `echo ran > '${marker}'; exit 4`], { env });
    expect(result.code).toBe(4);
    expect(readFileSync(marker, "utf8")).toBe("ran\n");
    expect(result.stderr).toContain(`heartbeat folder ${system}`);
    expect(result.stderr).toContain("sudo lastbeat init");
    expect(existsSync(join(home, ".lastbeat"))).toBe(false);
  });

  it("after init, nobody's beat lands where root's checker reads", async () => {
    expect((await runLastbeat(["init"], { env })).code).toBe(0);
    expect(statSync(system).mode & 0o7777).toBe(0o1777);
    expect((await runLastbeatAsNobody(["beat", "backup", "--every", "5m", "--now", NOW], { env })).code).toBe(0);
    const status = await runLastbeat(["status", "--json", "--now", NOW], { env });
    const jobs = JSON.parse(status.stdout).jobs as Array<{ job: string; status: string; file: string }>;
    expect(jobs).toEqual([expect.objectContaining({ job: "backup", status: "ok", file: join(system, "backup.last") })]);
  });

  it("root's first beat creates a missing shared folder 1777 like init, so other users' jobs can write", async () => {
    const shared = { ...env, LASTBEAT_DIR: system };
    expect((await runLastbeat(["beat", "root-job", "--every", "5m", "--now", NOW], { env: shared })).code).toBe(0);
    const info = statSync(system);
    expect({ mode: info.mode & 0o7777, uid: info.uid }).toEqual({ mode: 0o1777, uid: 0 });
    expect((await runLastbeatAsNobody(["beat", "app-job", "--every", "5m", "--now", NOW], { env: shared })).code).toBe(0);
    expect(readdirSync(system).sort()).toEqual(["app-job.last", "root-job.last"]);
  });

  it("without a system folder, writer and reader both use the home folder, created 0755", async () => {
    expect((await runLastbeatAsNobody(["beat", "backup", "--every", "5m", "--now", NOW], { env })).code).toBe(0);
    const folder = join(home, ".lastbeat", "heartbeats");
    expect(statSync(folder).mode & 0o7777).toBe(0o755);
    expect(existsSync(system)).toBe(false);
    const status = await runLastbeatAsNobody(["status", "--json", "--now", NOW], { env });
    expect(JSON.parse(status.stdout).jobs).toEqual([expect.objectContaining({ job: "backup", file: join(folder, "backup.last") })]);
  });
});
