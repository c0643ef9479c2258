import { runCli } from "@lastbeat/cli";
import { scanHeartbeats, writeHeartbeat } from "lastbeat";
import { statusJson } from "lastbeat/internal";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderMetrics } from "../../packages/cli/src/prometheus.js";
import { expect, it } from "vitest";
import { fakeIo } from "../support/fake-io.js";
import { testdir } from "../support/testdir.js";

let dir: string;

it("status --json streams exactly the bytes of JSON.stringify(statusJson(…), null, 2), over several slices", async () => {
  dir = await testdir("lastbeat-stream-");
  const now = new Date("2025-01-31T06:00:00Z");
  for (let i = 0; i < 2100; i++) {
    const at = new Date(now.getTime() - (i % 9) * 60_000);
    await writeHeartbeat(`job-${String(i).padStart(4, "0")}`, { every: "5m", dir, now: at, strict: true, ...(i % 7 === 0 && { status: "fail" as const, message: `run ${i} "failed"` }) });
  }
  const io = fakeIo({ env: { LASTBEAT_DIR: dir }, cwd: dir, now });
  const code = await runCli(["status", "--json"], io);
  const expected = `${JSON.stringify(statusJson(await scanHeartbeats({ dirs: [dir], now }), now), null, 2)}\n`;
  expect(expected.length).toBeGreaterThan(2 * 64 * 1024);
  expect(io.out()).toBe(expected);
  expect(code).toBe(1);
});

it("metrics writes exactly renderMetrics' text in pieces, to stdout and to --out", async () => {
  const folder = await testdir("lastbeat-metrics-");
  const now = new Date("2025-01-31T06:00:00Z");
  // Over 2 MB of exposition: several pieces.
  await Promise.all(
    Array.from({ length: 2500 }, (_, i) => {
      const job = `job-${String(i).padStart(4, "0")}`;
      const at = new Date(now.getTime() - (i % 9) * 60_000).toISOString();
      const beat = { format: "lastbeat/1", job, status: i % 7 === 0 ? "fail" : "ok", at, interval_s: 300, duration_ms: i, exit_code: i % 7 === 0 ? 1 : 0 };
      return writeFile(join(folder, `${job}.last`), JSON.stringify(beat));
    }),
  );
  const expected = renderMetrics(await scanHeartbeats({ dirs: [folder], now }), now);
  expect(expected.length).toBeGreaterThan(2 * 1024 * 1024);
  const io = fakeIo({ env: { LASTBEAT_DIR: folder }, cwd: folder, now });
  expect(await runCli(["metrics"], io)).toBe(0);
  expect(io.out()).toBe(expected);
  const out = join(await testdir("lastbeat-prom-"), "lastbeat.prom");
  expect(await runCli(["metrics", "--out", out], fakeIo({ env: { LASTBEAT_DIR: folder }, cwd: folder, now }))).toBe(0);
  expect(await readFile(out, "utf8")).toBe(expected);

  // A "token" made of a line's end and the next line's start: written in pieces, some occurrence
  // would be cut in two by a piece's end and get past the redaction of each write.
  const token = "} 0\nlastbeat_";
  const redacted = fakeIo({ env: { LASTBEAT_DIR: folder, LASTBEAT_TOKEN: token }, cwd: folder, now });
  expect(await runCli(["metrics"], redacted)).toBe(0);
  expect(redacted.out()).toBe(expected.split(token).join("***"));
});

it("status --json of an empty folder is the same as JSON.stringify", async () => {
  const empty = await testdir("lastbeat-empty-");
  const now = new Date("2025-01-31T06:00:00Z");
  const io = fakeIo({ env: { LASTBEAT_DIR: empty }, cwd: empty, now });
  expect(await runCli(["status", "--json"], io)).toBe(0);
  expect(io.out()).toBe(`${JSON.stringify({ now: now.toISOString(), jobs: [] }, null, 2)}\n`);
});
