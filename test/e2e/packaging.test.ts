import { execFileSync } from "node:child_process";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { dirname, join, posix } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runCommand, type CliRun } from "../support/cli.js";
import { testdir } from "../support/testdir.js";
import { closedPort } from "../support/ports.js";

// What users get is what `npm pack` makes: the tarballs, installed without the registry into an
// empty project and an empty global prefix, must give the library (ESM, CJS, types) and the
// `lastbeat` command on PATH. `npm pack` builds first (the package's `prepack`), so the tarball is
// never older than the sources.

/** The published packages (every other workspace is private and ships inside the CLI bundle). */
const PUBLISHED = ["lastbeat"];

const tsc = join(repoRoot, "node_modules", "typescript", "bin", "tsc");
const nodeBin = dirname(process.execPath);
let tmp: string;
let registry: string;
const tarballs: string[] = [];
const packed = new Map<string, string[]>();


/** No npmrc and no npm_config_* from an outer `npm run`: only what the command line says. */
function npmEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { npm_config_userconfig: join(tmp, "user-npmrc"), npm_config_globalconfig: join(tmp, "global-npmrc") };
  for (const key of Object.keys(process.env)) if (/^npm_config_/i.test(key) && !(key in env)) env[key] = undefined;
  return env;
}

function npm(args: string[], cwd: string): Promise<CliRun> {
  return runCommand("npm", [...args, "--offline", `--registry=${registry}`, `--cache=${join(tmp, "npm-cache")}`, "--no-audit", "--no-fund"], {
    cwd,
    env: npmEnv(),
  });
}

function expectOk(run: CliRun): CliRun {
  expect(run.code, run.stderr).toBe(0);
  return run;
}

beforeAll(async () => {
  tmp = await testdir("lastbeat-pack-");
  registry = `http://127.0.0.1:${await closedPort()}/`;
  await writeFile(join(tmp, "user-npmrc"), "");
  await writeFile(join(tmp, "global-npmrc"), "");
  await mkdir(join(tmp, "tarballs"));
  for (const name of PUBLISHED) {
    const run = expectOk(await npm(["pack", "-w", name, "--pack-destination", join(tmp, "tarballs"), "--json"], repoRoot));
    const [info] = JSON.parse(run.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarballs.push(join(tmp, "tarballs", info!.filename));
    packed.set(name, info!.files.map((f) => f.path).sort());
  }
  // The registry would supply the library's one dependency: pack the copy npm ci installed.
  const croner = expectOk(await npm(["pack", join(repoRoot, "node_modules", "croner"), "--ignore-scripts", "--json"], join(tmp, "tarballs")));
  tarballs.push(join(tmp, "tarballs", (JSON.parse(croner.stdout) as Array<{ filename: string }>)[0]!.filename));
});

describe("the lastbeat tarball", () => {
  it("holds the library, its sources, the bundled command, LICENSE and README; no build cache or test", () => {
    const files = packed.get("lastbeat")!;
    for (const file of ["LICENSE", "README.md", "package.json", "bin/lastbeat.js", "dist/index.js", "dist/index.d.ts", "dist/internal.js"]) {
      expect(files).toContain(file);
    }
    expect(files).toContain("dist/cli/lastbeat.mjs");
    expect(files).toContain("dist/cli/THIRD-PARTY-LICENSES.txt");
    expect(files.filter((f) => /tsbuildinfo|\.test\.|(^|\/)test\//.test(f))).toEqual([]);
    // Every file is one of these kinds: nothing stray (editor files, fixtures, logs).
    expect(files.filter((f) => !/^(LICENSE|README\.md|package\.json|bin\/lastbeat\.js|src\/[\w/-]+\.ts|dist\/(?!cli\/)[\w/-]+\.(js|d\.ts)(\.map)?|dist\/cli\/(lastbeat(-\w+)?\.mjs|THIRD-PARTY-LICENSES\.txt))$/.test(f))).toEqual([]);
  });

  it("every source map points to files inside the tarball", async () => {
    const files = new Set(packed.get("lastbeat")!);
    const maps = [...files].filter((f) => f.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(0);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(join(repoRoot, "packages", "lastbeat", map), "utf8")) as { sources: string[] };
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(map), source));
        if (!files.has(target)) missing.push(`${map} → ${target}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("declares croner as its only dependency, top-level main/types, a bin and honest engines", async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, "packages", "lastbeat", "package.json"), "utf8")) as Record<string, unknown>;
    expect(pkg).toMatchObject({
      dependencies: { croner: expect.any(String) },
      main: "./dist/index.js",
      types: "./dist/index.d.ts",
      bin: { lastbeat: "./bin/lastbeat.js" },
      license: "MIT",
      engines: { node: "^20.19.0 || >=22.12.0" },
    });
    expect(Object.keys(pkg.dependencies as object)).toEqual(["croner"]);
    expect(pkg.private).toBeUndefined();
  });

  it("README links work on the registry page (absolute or in-page)", async () => {
    const readme = await readFile(join(repoRoot, "packages", "lastbeat", "README.md"), "utf8");
    const links = [...readme.matchAll(/\]\(([^)\s]+)[^)]*\)|\b(?:href|src)="([^"]+)"/g)].map((m) => m[1] ?? m[2]!);
    expect(links.filter((link) => !/^(https:\/\/|#)/.test(link))).toEqual([]);
  });

  it("the other workspaces are private: nothing published depends on them", async () => {
    const names = await readdir(join(repoRoot, "packages"));
    for (const dir of names) {
      const pkg = JSON.parse(await readFile(join(repoRoot, "packages", dir, "package.json"), "utf8")) as { name: string; private?: boolean };
      expect([pkg.name, pkg.private === true]).toEqual([pkg.name, !PUBLISHED.includes(pkg.name)]);
    }
  });

  it("the bundled command runs from the extracted tarball with no node_modules at all", async () => {
    const dir = join(tmp, "extracted");
    await mkdir(dir);
    execFileSync("tar", ["xzf", tarballs[0]!, "-C", dir]);
    const heartbeats = join(dir, "heartbeats");
    const run = (...args: string[]) =>
      runCommand(process.execPath, [join(dir, "package", "bin", "lastbeat.js"), ...args], { cwd: dir, env: { LASTBEAT_DIR: heartbeats, NODE_PATH: "" } });
    expect(await run("--version")).toMatchObject({ code: 0, stdout: "0.1.0\n" });
    expect(await run("beat", "backup", "--every", "1d")).toMatchObject({ code: 0, stderr: "" });
    expect(await run("run", "sync", "--every", "5m", "--", "sh", "-c", "exit 4")).toMatchObject({ code: 4, stderr: "" });
    // check (Octokit's chunk), report (date-fns') and metrics load their lazy chunks.
    const check = await run("check", "--forge", "file", "--repo", join(dir, "issues"));
    expect(check).toMatchObject({ code: 1, stderr: "" });
    expect(check.stdout).toContain("open #1");
    expect((await run("report", "--panel")).stdout).toMatch(/\| sync +\| ✗ failed +\|/);
    expect((await run("metrics")).stdout).toContain('lastbeat_job_status{job="sync",status="failed"} 1');
    // What the bundle carries, with the licence texts their terms ask to ship along.
    const notices = await readFile(join(dir, "package", "dist", "cli", "THIRD-PARTY-LICENSES.txt"), "utf8");
    for (const name of ["commander", "@octokit/rest", "@octokit/plugin-throttling", "date-fns", "croner", "content-type"]) {
      expect(notices).toMatch(new RegExp(`^${name}@\\d+\\.\\d+\\.\\d+ \\(MIT\\)\\n\\n\\S`, "m"));
    }
  });
});

describe("installed from the tarballs, registry unreachable", () => {
  let project: string;
  beforeAll(async () => {
    project = join(tmp, "project");
    await mkdir(project);
    await writeFile(join(project, "package.json"), JSON.stringify({ name: "consumer", version: "1.0.0", private: true }));
    // This Node is one the engines field promises: no EBADENGINE from anything installed.
    expect(expectOk(await npm(["install", ...tarballs], project)).stderr).not.toContain("EBADENGINE");
  });

  it("installs lastbeat and croner, nothing else (no Octokit, commander or date-fns)", async () => {
    expect((await readdir(join(project, "node_modules"))).filter((name) => !name.startsWith("."))).toEqual(["croner", "lastbeat"]);
  });

  it("ESM import and CJS require both write a heartbeat", async () => {
    const heartbeats = join(tmp, "library-heartbeats");
    await writeFile(
      join(project, "esm.mjs"),
      `import { writeHeartbeat, scanHeartbeats } from "lastbeat";
await writeHeartbeat("esm-job", { every: "1h", dir: process.argv[2], strict: true });
const states = await scanHeartbeats({ dirs: [process.argv[2]], now: new Date() });
console.log(states.map((s) => s.job + ":" + s.status).join(","));`,
    );
    await writeFile(
      join(project, "cjs.cjs"),
      `const { writeHeartbeat, LastbeatError } = require("lastbeat");
writeHeartbeat("../escape", { every: "1h", dir: process.argv[2], strict: true }).catch((e) => {
  console.log(e instanceof LastbeatError ? "rejected " + e.code : "unexpected " + e);
  return writeHeartbeat("cjs-job", { every: "1h", dir: process.argv[2], strict: true });
}).then(() => console.log("written"));`,
    );
    expect(await runCommand(process.execPath, ["esm.mjs", heartbeats], { cwd: project })).toMatchObject({ code: 0, stdout: "esm-job:ok\n", stderr: "" });
    const cjs = await runCommand(process.execPath, ["cjs.cjs", heartbeats], { cwd: project });
    expect(cjs).toMatchObject({ code: 0, stderr: "" });
    expect(cjs.stdout).toMatch(/^rejected \w+\nwritten\n$/);
    expect((await readdir(heartbeats)).sort()).toEqual(["cjs-job.last", "esm-job.last"]);
  });

  it.each([
    ["nodenext", { module: "nodenext", moduleResolution: "nodenext" }, ["esm.mts", "cjs.cts"]],
    ["bundler", { module: "esnext", moduleResolution: "bundler" }, ["esm.ts"]],
    ["node10", { module: "commonjs", moduleResolution: "node10" }, ["esm.ts"]],
  ] as const)("tsc --noEmit finds the types under moduleResolution %s", async (name, options, files) => {
    const dir = join(project, `types-${name}`);
    await mkdir(dir);
    // A wrong call must be an error: proves the types were found (not an implicit any).
    const esm = `import { writeHeartbeat, type Heartbeat } from "lastbeat";
export async function beat(): Promise<Heartbeat> {
  // @ts-expect-error every is a duration string or seconds, never a boolean
  await writeHeartbeat("backup", { every: true });
  const written = await writeHeartbeat("backup", { every: "1d" });
  const file: string | null = written.file;
  return { ...written, message: file ?? "not written" };
}
`;
    const cjs = `import lastbeat = require("lastbeat");
export const beat = (): Promise<unknown> => lastbeat.writeHeartbeat("backup", { every: "1d" });
// @ts-expect-error not an export of lastbeat
lastbeat.noSuchExport;
`;
    for (const file of files) await writeFile(join(dir, file), file.startsWith("cjs") ? cjs : esm);
    await writeFile(
      join(dir, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: { ...options, target: "es2022", strict: true, noEmit: true, types: ["node"], typeRoots: [join(repoRoot, "node_modules", "@types")] },
        files,
      }),
    );
    const run = await runCommand(process.execPath, [tsc, "-p", dir], { cwd: dir });
    expect({ code: run.code, output: run.stdout + run.stderr }).toEqual({ code: 0, output: "" });
  });

  it("npx lastbeat runs the command from the project", async () => {
    const run = await runCommand(join(project, "node_modules", ".bin", "lastbeat"), ["--version"], { cwd: project });
    expect(run).toMatchObject({ code: 0, stdout: "0.1.0\n" });
  });
});

describe("installed globally from the tarballs, registry unreachable", () => {
  let prefix: string;
  beforeAll(async () => {
    prefix = join(tmp, "global");
    expect(expectOk(await npm(["install", "--global", `--prefix=${prefix}`, ...tarballs], tmp)).stderr).not.toContain("EBADENGINE");
  });

  it("lastbeat is on PATH: --version, beat, then status", async () => {
    const heartbeats = join(tmp, "global-heartbeats");
    // The PATH a crontab would set: npm's global bin folder, node's, and the system's.
    const env = { PATH: `${join(prefix, "bin")}:${nodeBin}:/usr/bin:/bin`, LASTBEAT_DIR: heartbeats };
    const shell = (script: string) => runCommand("/bin/sh", ["-c", script], { cwd: tmp, env });
    expect(await shell("command -v lastbeat")).toMatchObject({ code: 0, stdout: `${join(prefix, "bin", "lastbeat")}\n` });
    expect(await shell("lastbeat --version")).toMatchObject({ code: 0, stdout: "0.1.0\n", stderr: "" });
    expect(await shell("lastbeat beat backup --every 1d && lastbeat beat --status fail sync --every 5m --message 'disk full'")).toMatchObject({
      code: 0,
      stderr: "",
    });
    const status = await shell("lastbeat status --json");
    expect(status.code).toBe(1);
    expect((JSON.parse(status.stdout) as { jobs: Array<{ job: string; status: string }> }).jobs.map((j) => `${j.job}:${j.status}`)).toEqual([
      "sync:failed",
      "backup:ok",
    ]);
  });
});
