import { mkdir, readdir, rm, stat, symlink, truncate, writeFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError } from "@lastbeat/forge";
import { beforeEach, describe, expect, it } from "vitest";
import { FIFO_TIMEOUT_MS, fifoAt, noMkfifo } from "../support/fifo.js";
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



/** The ForgeError a call rejects with, checked to be one. */
async function forgeError(call: Promise<unknown>): Promise<string> {
  const failure = await call.catch((e: unknown) => e);
  expect(failure).toBeInstanceOf(ForgeError);
  return (failure as Error).message;
}

describe("the file forge reads issue files defensively", () => {
  it.skipIf(noMkfifo)("a FIFO named like an issue is an error naming it, at once, for listing and creating", { timeout: FIFO_TIMEOUT_MS }, async () => {
    const forge = fileForge(dir);
    await forge.createIssue({ title: "t", body: "b", label: "heartbeat" });
    const fifo = fifoAt(join(dir, "issue-10.md"));
    const expected = `file forge: ${fifo} is not a regular file; move it out of the issue folder`;
    expect(await forgeError(forge.listOpenIssues("heartbeat"))).toBe(expected);
    expect(await forgeError(forge.createIssue({ title: "t", body: "b", label: "heartbeat" }))).toBe(expected);
  });

  it.skipIf(noMkfifo)("a FIFO where an open issue was is an error naming it when the issue is edited", { timeout: FIFO_TIMEOUT_MS }, async () => {
    const forge = fileForge(dir);
    const issue = await forge.createIssue({ title: "t", body: "b", label: "heartbeat" });
    const path = join(dir, `issue-${issue.number}.md`);
    await rm(path);
    fifoAt(path);
    expect(await forgeError(forge.comment(issue.number, "c"))).toBe(`file forge: ${path} is not a regular file; move it out of the issue folder`);
  });

  it("a folder named like an issue is an error naming it", async () => {
    await mkdir(join(dir, "issue-3.md"));
    expect(await forgeError(fileForge(dir).listOpenIssues("heartbeat"))).toBe(
      `file forge: ${join(dir, "issue-3.md")} is not a regular file; move it out of the issue folder`,
    );
  });

  it("an issue file over 16 MiB is an error naming it, not read", async () => {
    const big = join(dir, "issue-4.md");
    await writeFile(big, "");
    await truncate(big, 16 * 1024 * 1024 + 1);
    expect(await forgeError(fileForge(dir).listOpenIssues("heartbeat"))).toBe(`file forge: ${big} is larger than 16 MiB; move it out of the issue folder`);
  });

  it("a symlink is passed over when listing (never followed) and an error naming it when edited", async () => {
    const outside = join(dir, "outside.md");
    const forge = fileForge(dir);
    const issue = await forge.createIssue({ title: "t", body: "b", label: "heartbeat" });
    await rm(join(dir, `issue-${issue.number}.md`));
    // A well-formed issue behind the link: followed, it would be listed and then edited.
    await writeFile(outside, "---\nnumber: 1\ntitle: \"planted\"\nstate: open\nlabels: [\"heartbeat\"]\n---\nbody\n");
    await symlink(outside, join(dir, `issue-${issue.number}.md`));
    expect(await forge.listOpenIssues("heartbeat")).toEqual([]);
    expect(await forgeError(forge.comment(issue.number, "c"))).toBe(`file forge: ${join(dir, `issue-${issue.number}.md`)} is a symbolic link (not followed)`);
  });
});
