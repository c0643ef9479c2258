import { spawn } from "node:child_process";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, expect, it } from "vitest";
import { scanHeartbeats } from "lastbeat";
import { parseHeartbeat } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

const source = fileURLToPath(new URL("./fixtures/beat-loop.ts", import.meta.url));
let dir: string;
let loop: string;
// Bundle the writer once so each of the hundreds of children starts as plain `node`.
beforeAll(async () => {
  dir = await testdir("lastbeat-torn-");
  loop = join(dir, "..", `${dir.split("/").pop()}-beat-loop.mjs`);
  await build({ entryPoints: [source], bundle: true, platform: "node", format: "esm", outfile: loop, conditions: ["lastbeat-source"], logLevel: "error",
    // Should a CommonJS dependency be bundled, give it require() and __filename.
    banner: {
      js: 'import { createRequire } from "node:module"; const require = createRequire(import.meta.url); const __filename = new URL(import.meta.url).pathname;',
    },
  });
});
afterAll(async () => {
  await rm(loop, { force: true });
});

/** Starts a writer, waits for `beats` completed writes, then SIGKILLs it mid-loop. */
function killAfter(job: string, beats: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [loop, dir, job], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let seen = 0;
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      seen += chunk.split("\n").length - 1;
      if (seen >= beats) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`writer for ${job} exited with ${code ?? signal}`)),
    );
  });
}

it("a heartbeat file is never torn: hundreds of SIGKILLs mid-write leave every .last parseable", async () => {
  const jobs = ["alpha", "beta", "gamma", "delta"];
  const rounds = 50; // 4 writers at a time × 50 rounds = 200 kills, each after 1-7 completed beats
  for (let round = 0; round < rounds; round++) {
    await Promise.all(jobs.map((job, i) => killAfter(job, 1 + ((round * 7 + i * 3) % 7))));
    for (const job of jobs) {
      const text = await readFile(join(dir, `${job}.last`), "utf8");
      const parsed = parseHeartbeat(text, job);
      expect(parsed.ok, `${job}.last after round ${round}: ${text.slice(0, 80)}`).toBe(true);
    }
  }
  // Temp files a killed writer could not clean up are never counted as jobs.
  const states = await scanHeartbeats({ dirs: [dir] });
  expect(states.map((s) => [s.job, s.status]).sort()).toEqual(jobs.map((j) => [j, "ok"]).sort());
  const names = await readdir(dir);
  expect(names.filter((n) => n.endsWith(".last")).sort()).toEqual(jobs.map((j) => `${j}.last`).sort());
}, 300_000);
