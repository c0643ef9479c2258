import { existsSync } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCli } from "@lastbeat/cli";
import { describe, expect, it } from "vitest";
import { fakeIo } from "../support/fake-io.js";
import { testdir } from "../support/testdir.js";

const root = process.getuid?.() === 0;

async function cli(args: string[], cwd: string) {
  const io = fakeIo({ cwd });
  const code = await runCli(args, io);
  return { code, stdout: io.out().replaceAll(cwd, "<tmp>"), stderr: io.err().replaceAll(cwd, "<tmp>") };
}

describe.skipIf(!root)("lastbeat init (as root)", () => {
  it("creates the folder 1777 owned by root whatever the umask, and prints its tmpfiles.d line", async () => {
    const tmp = await testdir();
    const result = await cli(["init", "--dir", "run/lastbeat/heartbeats"], tmp);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      "heartbeat folder <tmp>/run/lastbeat/heartbeats: mode 1777, owner 0:0\n" +
        "tmpfiles.d line (/etc/tmpfiles.d/lastbeat.conf, or use --install):\n" +
        "d <tmp>/run/lastbeat/heartbeats 1777 root root -\n",
    );
    expect((await stat(join(tmp, "run/lastbeat/heartbeats"))).mode & 0o7777).toBe(0o1777);
  });

  it("--group: root:<group>, group-writable with setgid; an unknown group is one line, exit 2", async () => {
    const tmp = await testdir();
    const result = await cli(["init", "--dir", "hb", "--group", "nogroup"], tmp);
    expect(result.code).toBe(0);
    const info = await stat(join(tmp, "hb"));
    expect(info.mode & 0o7777).toBe(0o2775);
    expect(result.stdout).toContain(`d <tmp>/hb 2775 root nogroup -\n`);
    const bad = await cli(["init", "--dir", "hb2", "--group", "no-such-group-xyz"], tmp);
    expect(bad).toMatchObject({ code: 2, stderr: 'error: --group "no-such-group-xyz": no such group\n' });
  });
});

describe.skipIf(!existsSync("/proc/self"))("a folder under /proc, which takes no new folders", () => {
  // mkdir(2) says ENOENT there under a parent that exists: Node's recursive mkdir retried forever.
  it("is refused in bounded time by init and by the file forge, with one line saying why", { timeout: 20_000 }, async () => {
    const tmp = await testdir();
    const init = await cli(["init", "--dir", "/proc/lastbeat-test/hb"], tmp);
    expect(init).toEqual({
      code: 2,
      stdout: "",
      stderr: "error: cannot set up heartbeat folder /proc/lastbeat-test/hb: /proc takes no new folders (mkdir /proc/lastbeat-test says ENOENT) (run lastbeat init as root)\n",
    });
    await writeFile(join(tmp, "a.last"), JSON.stringify({ format: "lastbeat/1", job: "a", status: "fail", at: new Date().toISOString(), interval_s: 60 }));
    const check = await cli(["check", "--forge", "file", "--repo", "/proc/lastbeat-test/issues", "--dir", tmp], tmp);
    expect(check.code).toBe(3);
    expect(check.stderr).toBe(
      "error: file forge: creating issue folder /proc/lastbeat-test/issues failed (/proc takes no new folders (mkdir /proc/lastbeat-test says ENOENT))\n",
    );
  });
});
