import { readdir, stat, symlink, writeFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { testdir } from "../support/testdir.js";
import { fileForge } from "./helpers.js";

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-file-forge-");
});

describe("the file forge writes through lastbeat's atomic writer", () => {
  it("issue files are 0644 whatever the checker's umask, on create and on every edit", async () => {
    const previous = process.umask(0o077);
    try {
      const forge = fileForge(dir);
      const issue = await forge.createIssue({ title: "[heartbeat-checker] 1 job alerting: x", body: "body", label: "heartbeat" });
      expect((await stat(join(dir, `issue-${issue.number}.md`))).mode & 0o777).toBe(0o644);
      await forge.comment(issue.number, "a comment");
      expect((await stat(join(dir, `issue-${issue.number}.md`))).mode & 0o777).toBe(0o644);
    } finally {
      process.umask(previous);
    }
    expect((await readdir(dir)).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("a new issue never takes a number whose name is taken, even by a planted symlink", async () => {
    const outside = join(dir, "outside");
    await writeFile(outside, "precious");
    await symlink(outside, join(dir, "issue-1.md"));
    const issue = await fileForge(dir).createIssue({ title: "t", body: "b", label: "heartbeat" });
    expect(issue.number).toBe(2);
    expect(await readFile(outside, "utf8")).toBe("precious");
  });
});
