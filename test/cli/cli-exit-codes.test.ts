import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@lastbeat/cli";
import { afterEach, beforeEach, expect, it } from "vitest";
import { fakeIo } from "../support/fake-io.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "lastbeat-exit-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("a forge that cannot be reached exits 3 with one line, token never shown, even with LASTBEAT_DEBUG", async () => {
  const token = "gitea-token-0123456789";
  for (const debug of ["0", "1"]) {
    const io = fakeIo({ env: { LASTBEAT_DIR: dir, GITEA_TOKEN: token, LASTBEAT_DEBUG: debug } });
    // Port 1 is refused at once: no retries worth waiting for.
    const code = await runCli(["check", "--forge", "gitea", "--url", "http://127.0.0.1:1", "--repo", "ops/alerts"], io);
    expect(code).toBe(3);
    expect(io.err().split("\n")[0]).toMatch(/^error: gitea ops\/alerts: .+/);
    if (debug === "0") expect(io.err().trim().split("\n")).toHaveLength(1);
    expect(io.out() + io.err()).not.toContain(token);
  }
});
