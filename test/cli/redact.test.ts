import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCli } from "@lastbeat/cli";
import { evaluate, type Heartbeat } from "lastbeat";
import { redact, secretsIn } from "lastbeat/internal";
import { beforeEach, describe, expect, it } from "vitest";
import { redactState } from "../../packages/cli/src/redact.js";
import { fakeIo } from "../support/fake-io.js";
import { findLeaks } from "../support/leaks.js";
import { testdir } from "../support/testdir.js";

/*
 * A job may echo its environment into its message or output; a heartbeat written by a job without
 * redaction may carry a token. Whatever the CLI prints, posts or writes from it holds the token in
 * no form: the markdown-escaped `lbtok\_…` an issue table would show is a leak too (GitHub renders
 * it as the raw token).
 */

const TOKEN = "lbtok_Unit-5e8a1c_SECRET-77d0";
const NOW = new Date("2025-03-10T12:00:00Z");
const ENV = { LASTBEAT_TOKEN: TOKEN };

const leakyBeat: Heartbeat = {
  format: "lastbeat/1",
  job: "leaky",
  status: "fail",
  at: "2025-03-10T11:50:00Z",
  interval_s: 3600,
  exit_code: 1,
  message: `push failed: remote said "token ${TOKEN} expired"`,
  output_tail: `curl -H "Authorization: Bearer ${TOKEN}" https://api.example.com\n401\n`,
};

/** Each state redacted of the tokens `env` holds, as every reader does it. */
const redactStates = (states: readonly ReturnType<typeof evaluate>[], env: Record<string, string | undefined>) =>
  states.map((state) => redactState(state, secretsIn(env)));

describe("redactState", () => {
  it("cuts every token out of the message the newest run keeps in the history", () => {
    const withRuns: Heartbeat = { ...leakyBeat, runs: [{ at: leakyBeat.at, status: "fail", exit_code: 1, message: leakyBeat.message! }] };
    const [state] = redactStates([evaluate(withRuns, undefined, NOW)], ENV);
    expect(findLeaks(JSON.stringify(state!.heartbeat?.runs), TOKEN)).toEqual([]);
    expect(state!.heartbeat?.runs?.[0]).toMatchObject({ at: leakyBeat.at, status: "fail", exit_code: 1 });
  });

  it("cuts every token out of the reason, the message and the output tail", () => {
    const [state] = redactStates([evaluate(leakyBeat, undefined, NOW)], ENV);
    expect(evaluate(leakyBeat, undefined, NOW).reason).toContain(TOKEN); // the input does carry it
    expect(findLeaks(state!.reason, TOKEN)).toEqual([]);
    expect(findLeaks(state!.heartbeat?.message ?? "", TOKEN)).toEqual([]);
    expect(findLeaks(state!.heartbeat?.output_tail ?? "", TOKEN)).toEqual([]);
    expect(state!.reason).toContain("push failed");
  });

  it("keeps everything else a state carries, and a state without a heartbeat as it is", () => {
    const leaky = evaluate(leakyBeat, undefined, NOW);
    const missing = evaluate(undefined, { intervalSeconds: 3600 }, NOW, { job: "never-ran" });
    const quiet = evaluate({ ...leakyBeat, job: "quiet", message: undefined, output_tail: undefined }, undefined, NOW);
    const [redacted, stillMissing, stillQuiet] = redactStates([leaky, missing, quiet], ENV);
    expect(redacted).toEqual({
      ...leaky,
      reason: leaky.reason.replaceAll(TOKEN, "***"),
      heartbeat: { ...leaky.heartbeat, message: leakyBeat.message!.replaceAll(TOKEN, "***"), output_tail: leakyBeat.output_tail!.replaceAll(TOKEN, "***") },
    });
    expect(stillMissing).toEqual(missing);
    expect(stillMissing!.heartbeat).toBeNull();
    expect(stillQuiet).toEqual(quiet);
  });

  it("leaves states alone when no token is set", () => {
    const states = [evaluate(leakyBeat, undefined, NOW)];
    expect(redactStates(states, {})).toEqual(states);
  });
});

describe("a heartbeat that carries the token", () => {
  let hb: string;
  let out: string;
  beforeEach(async () => {
    const dir = await testdir("lastbeat-redact-");
    hb = join(dir, "hb");
    out = join(dir, "out");
    await mkdir(hb, { recursive: true });
    await mkdir(out, { recursive: true });
    await writeFile(join(hb, "leaky.last"), JSON.stringify(leakyBeat));
  });

  async function filesIn(dir: string): Promise<Record<string, string>> {
    const files: Record<string, string> = {};
    for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
      if (entry.isFile()) files[join(entry.parentPath, entry.name)] = await readFile(join(entry.parentPath, entry.name), "utf8");
    }
    return files;
  }

  it.each([
    ["check --forge file", (out: string) => ["check", "--forge", "file", "--repo", join(out, "issues")]],
    ["check --forge file --mode per-job", (out: string) => ["check", "--forge", "file", "--repo", join(out, "issues"), "--mode", "per-job"]],
    ["status --json", () => ["status", "--json"]],
    ["report (markdown)", (out: string) => ["report", "--out", join(out, "brief.md")]],
    ["report --format html", (out: string) => ["report", "--format", "html", "--out", join(out, "brief.html")]],
    ["report --format json", () => ["report", "--format", "json"]],
    ["metrics", (out: string) => ["metrics", "--out", join(out, "lastbeat.prom")]],
  ])("%s shows it in no form, in stdout, stderr or any file written", async (_name, args) => {
    const io = fakeIo({ env: ENV, now: NOW });
    const code = await runCli([...args(out), "--dir", hb, "--now", NOW.toISOString()], io);
    expect(code, io.err()).not.toBe(2);
    const written = await filesIn(out);
    expect(Object.values(written).join("\n") + io.out()).toContain("leaky");
    expect(findLeaks(io.out(), TOKEN), "stdout").toEqual([]);
    expect(findLeaks(io.err(), TOKEN), "stderr").toEqual([]);
    for (const [file, text] of Object.entries(written)) expect(findLeaks(text, TOKEN), file).toEqual([]);
  });
});

describe("secretsIn and redact (lastbeat/internal)", () => {
  it("takes every token variable of six characters or more, and nothing else", () => {
    const env = { LASTBEAT_TOKEN: "abcdef", GITHUB_TOKEN: "abcde", GITEA_TOKEN: undefined, GH_TOKEN: "gh-token-1", HOME: "/root-home" };
    expect(secretsIn(env)).toEqual(["abcdef", "gh-token-1"]);
  });

  it("knows each forge's token variable by name", () => {
    const names = ["LASTBEAT_TOKEN", "GITHUB_TOKEN", "GITEA_TOKEN", "FORGEJO_TOKEN", "GH_TOKEN", "GITLAB_TOKEN"];
    for (const name of names) expect(secretsIn({ [name]: `value-of-${name}` }), name).toEqual([`value-of-${name}`]);
    expect(secretsIn({ GITHUB_TOKEN: "123456", TOKEN: "unnamed-1", GITHUB_TOKEN_FILE: "/run/secret" })).toEqual(["123456"]);
  });

  it("replaces every occurrence of every secret with ***", () => {
    expect(redact("a tok1 b tok1 c tok2", ["tok1", "tok2"])).toBe("a *** b *** c ***");
    expect(redact("nothing here", [])).toBe("nothing here");
  });
});
