import { spawn } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { lastbeatArgs, repoRoot } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

// `lastbeat beat` runs in tight cron loops: it must never load Octokit or date-fns (README, Performance).
// A module-resolution hook records every module the real binary loads.
let dir: string;
beforeAll(async () => {
  dir = await testdir("lastbeat-startup-");
  await writeFile(
    join(dir, "hooks.mjs"),
    `import { appendFileSync } from "node:fs";
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(${JSON.stringify(join(dir, "loaded.txt"))}, result.url + "\\n");
  return result;
}`,
  );
  await writeFile(
    join(dir, "register.mjs"),
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(join(dir, "hooks.mjs")).href)});\n`,
  );
});

async function loadedBy(args: string[]): Promise<string[]> {
  await rm(join(dir, "loaded.txt"), { force: true });
  const [conditions, ...rest] = lastbeatArgs(args);
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, [conditions!, "--import", join(dir, "register.mjs"), ...rest], {
      cwd: repoRoot,
      env: { ...process.env, LASTBEAT_DIR: join(dir, "heartbeats") },
      stdio: "ignore",
    });
    child.on("close", resolve);
  });
  expect(code).toBe(0);
  return (await readFile(join(dir, "loaded.txt"), "utf8")).split("\n").filter(Boolean);
}

describe("start-up", () => {
  it.each([
    [["beat", "backup", "--every", "1d"]],
    [["run", "backup", "--every", "1d", "--", process.execPath, "-e", ""]],
  ])("lastbeat %j loads neither Octokit nor date-fns", async (args) => {
    const loaded = await loadedBy(args);
    expect(loaded.some((url) => url.includes("/packages/cli/src/commands/"))).toBe(true);
    expect(loaded.filter((url) => /@octokit|date-fns|\/packages\/(forge|report)\//.test(url))).toEqual([]);
  });

  it("the hook does see them when a command needs them (control)", async () => {
    const loaded = await loadedBy(["report", "--panel", "--dir", join(dir, "heartbeats")]);
    expect(loaded.some((url) => url.includes("date-fns"))).toBe(true);
  });
});
