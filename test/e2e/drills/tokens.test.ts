import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withHeartbeat, writeHeartbeat } from "lastbeat";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runLastbeat, type CliRun } from "../../support/cli.js";
import { startFakeForge, type FakeForge } from "../../support/fake-forge.js";
import { filesUnder, sharedTempDir } from "../../support/tmpfs.js";
import { findLeaks } from "../../support/leaks.js";

/*
 * Drill: a distinctive token never leaks. Every command is run with it in every token variable,
 * driven into errors (forge 401, 500, a forge that echoes the Authorization header back in its
 * error, connection refused, bad flags) with LASTBEAT_DEBUG=1 stack traces on; then stdout,
 * stderr, every file under the drill's folder (heartbeats, issue files, brief, metrics) and
 * every request body the forge received are searched for every form of the token: zero hits.
 */

const TOKEN = "lbtok_Dr1ll-7f3c9e1d-SECRET-5a2bq9";
const NOW = "2025-03-10T12:00:00.000Z";
const ENV = { LASTBEAT_TOKEN: TOKEN, GITHUB_TOKEN: TOKEN, GITEA_TOKEN: TOKEN, FORGEJO_TOKEN: TOKEN, GH_TOKEN: TOKEN, GITLAB_TOKEN: TOKEN, LASTBEAT_DEBUG: "1" };

let tmp: { dir: string; cleanup: () => void };
let hb: string;
let echo: Server;
let echoUrl: string;
let closedUrl: string;
const fakes: FakeForge[] = [];

/** Every form the token can take on its way out (raw, markdown/HTML/JSON-escaped, URL, base64). */
function leaks(text: string): string[] {
  return findLeaks(text, TOKEN);
}

function expectNoLeak(what: string, run: CliRun) {
  expect(leaks(run.stdout), `${what}: stdout`).toEqual([]);
  expect(leaks(run.stderr), `${what}: stderr`).toEqual([]);
}

function expectNoLeakInFiles() {
  const leaking = filesUnder(tmp.dir).filter((file) => leaks(readFileSync(file, "latin1")).length > 0);
  expect(leaking, "files holding the token").toEqual([]);
}

function expectNoLeakInForge(fake: FakeForge) {
  const stored = JSON.stringify({ issues: fake.issues, labels: fake.labels, bodies: fake.requests.map((r) => r.body), query: fake.requests.map((r) => r.query) });
  expect(leaks(stored), `${fake.flavor} forge`).toEqual([]);
}

beforeAll(async () => {
  tmp = sharedTempDir();
  hb = join(tmp.dir, "hb");
  mkdirSync(hb);
  writeFileSync(join(hb, "backup.last"), JSON.stringify({ format: "lastbeat/1", job: "backup", status: "ok", at: "2025-03-10T07:00:00Z", interval_s: 3600 }));
  // A forge (or a proxy in front of it) that echoes the credentials back in its error message.
  echo = createServer((req, res) => {
    req.resume();
    const status = req.url?.includes("/api/v1/") ? 401 : 401;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ message: `Bad credentials: ${req.headers.authorization ?? req.headers["private-token"] ?? ""} (${TOKEN})`, documentation_url: "https://docs.github.com/rest" }));
  });
  await new Promise<void>((r) => echo.listen(0, "127.0.0.1", r));
  echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  closedUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((r) => closed.close(() => r()));
});

afterAll(async () => {
  await new Promise<void>((r) => echo.close(() => r()));
  for (const fake of fakes) await fake.close();
  tmp.cleanup();
});

const check = (args: string[]) => runLastbeat(["check", "--dir", hb, "--now", NOW, ...args], { env: ENV });

describe("drill: tokens never leak", () => {
  it.each(["github", "gitea", "gitlab"] as const)("check against %s answering 401 (wrong token): exit 3, no token anywhere", async (flavor) => {
    const fake = await startFakeForge({ flavor, token: "the-right-token-is-another-one" });
    fakes.push(fake);
    const result = await check(["--forge", flavor, "--repo", fake.repo, "--url", fake.url]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/401|credentials|unauthori[sz]ed/i);
    expectNoLeak(`${flavor} 401`, result);
    expectNoLeakInFiles();
    expectNoLeakInForge(fake);
  });

  it.each(["github", "gitea", "gitlab"] as const)("check against a %s forge that echoes the token in its 401 error: exit 3, no token anywhere", async (flavor) => {
    const result = await check(["--forge", flavor, "--repo", "acme/ops", "--url", flavor === "gitea" ? `${echoUrl}/api/v1` : echoUrl]);
    expect(result.code).toBe(3);
    expectNoLeak(`${flavor} echo`, result);
    expectNoLeakInFiles();
  });

  it("check against github answering 500 to every request: exit 3, no token anywhere", async () => {
    const fake = await startFakeForge({ flavor: "github", token: TOKEN });
    fakes.push(fake);
    fake.fault({ status: 500, times: 1000 });
    const result = await check(["--forge", "github", "--repo", fake.repo, "--url", fake.url]);
    expect(result.code).toBe(3);
    expectNoLeak("github 500", result);
    expectNoLeakInFiles();
    expectNoLeakInForge(fake);
  });

  it("check against a gitea URL where nothing listens (connection refused): exit 3, no token anywhere", async () => {
    const result = await check(["--forge", "gitea", "--repo", "acme/ops", "--url", closedUrl]);
    expect(result.code).toBe(3);
    expectNoLeak("refused", result);
    expectNoLeakInFiles();
  });

  it("bad flags and bad values, with LASTBEAT_DEBUG=1: exit 2, no token anywhere (even a token passed as a flag value)", async () => {
    const runs: Array<[string, string[]]> = [
      ["check without --url", ["check", "--forge", "gitea", "--repo", "acme/ops", "--dir", hb]],
      ["check with a bad repo", ["check", "--forge", "github", "--repo", TOKEN, "--dir", hb]],
      ["check with a bad url", ["check", "--forge", "github", "--repo", "a/b", "--url", `ftp://${TOKEN}@example.com`, "--dir", hb]],
      ["check with a bad label", ["check", "--forge", "file", "--repo", join(tmp.dir, "issues"), "--label", `a,${TOKEN}`, "--dir", hb]],
      ["unknown option", ["check", `--token=${TOKEN}`]],
      ["unknown command", [TOKEN]],
      ["bad duration", ["beat", "backup", "--every", TOKEN, "--dir", hb]],
      ["bad job name", ["beat", `${TOKEN}/x`, "--every", "5m", "--dir", hb]],
      ["bad --now", ["status", "--now", TOKEN, "--dir", hb]],
      ["bad manifest path", ["status", "--manifest", join(tmp.dir, `${TOKEN}.json`), "--dir", hb]],
    ];
    for (const [what, args] of runs) {
      const result = await runLastbeat(args, { env: ENV });
      expect(result.code, what).toBe(2);
      expectNoLeak(what, result);
    }
    expectNoLeakInFiles();
  });

  it("a job that prints the token: lastbeat run keeps it out of the heartbeat, and check, report and metrics out of their files", async () => {
    const run = await runLastbeat(
      ["run", "leaky", "--every", "1h", "--dir", hb, "--", "sh", "-c", 'echo "using token $LASTBEAT_TOKEN"; env | grep TOKEN; exit 1'],
      { env: ENV },
    );
    expect(run.code).toBe(1);
    // The job's own output passes through untouched (it is the job's, byte-exact); lastbeat's own lines are redacted.
    expect(leaks(run.stderr.split("\n").filter((l) => l.startsWith("lastbeat") || l.startsWith("error")).join("\n"))).toEqual([]);
    expect(JSON.parse(readFileSync(join(hb, "leaky.last"), "utf8")).output_tail).toContain("using token");
    expectNoLeakInFiles();

    const issues = join(tmp.dir, "issues");
    const results = [
      await runLastbeat(["check", "--forge", "file", "--repo", issues, "--dir", hb, "--now", NOW], { env: ENV }),
      await runLastbeat(["report", "--dir", hb, "--now", NOW, "--out", join(tmp.dir, "brief.md")], { env: ENV }),
      await runLastbeat(["report", "--format", "html", "--dir", hb, "--now", NOW, "--out", join(tmp.dir, "brief.html")], { env: ENV }),
      await runLastbeat(["metrics", "--dir", hb, "--now", NOW, "--out", join(tmp.dir, "lastbeat.prom")], { env: ENV }),
      await runLastbeat(["status", "--json", "--dir", hb, "--now", NOW], { env: ENV }),
    ];
    for (const result of results) expectNoLeak("reading commands", result);
    expect(readFileSync(join(tmp.dir, "brief.md"), "utf8")).toContain("leaky");
    expectNoLeakInFiles();
  });

  it("a token cut in two by the 4 KiB output-tail window leaves no fragment of it in the heartbeat", async () => {
    // The job prints the token, then just enough bytes that the tail's window starts inside it.
    const keep = 24; // characters of the token that would fall inside the last 4096 bytes
    const filler = 4096 - keep;
    const run = await runLastbeat(
      ["run", "split", "--every", "1h", "--dir", hb, "--", "sh", "-c", `printf '%s' "$LASTBEAT_TOKEN"; head -c ${filler} /dev/zero | tr '\\0' x`],
      { env: ENV },
    );
    expect(run.code).toBe(0);
    const tail = JSON.parse(readFileSync(join(hb, "split.last"), "utf8")).output_tail as string;
    expect(tail.endsWith("xxxx")).toBe(true);
    const fragments = [];
    for (let i = 0; i + 8 <= TOKEN.length; i++) if (tail.includes(TOKEN.slice(i, i + 8))) fragments.push(TOKEN.slice(i, i + 8));
    expect(fragments, "8-character pieces of the token in the output tail").toEqual([]);
  });

  it("lastbeat beat --message carrying the token does not write it into the heartbeat", async () => {
    const result = await runLastbeat(["beat", "msg", "--every", "1h", "--status", "fail", "--message", `login failed with ${TOKEN}`, "--dir", hb], { env: ENV });
    expect(result.code).toBe(0);
    expectNoLeak("beat --message", result);
    expect(readFileSync(join(hb, "msg.last"), "utf8")).toContain("login failed with");
    expectNoLeakInFiles();
  });

  it("a Node job whose error carries the token (withHeartbeat fail beat, token in its environment) does not write it into the heartbeat", async () => {
    const failure = new Error(`GET /user failed: 401 for Authorization: token ${TOKEN}`);
    await expect(withHeartbeat("nodejob", { every: "1h", dir: hb, env: ENV }, () => Promise.reject(failure))).rejects.toBe(failure);
    expect(JSON.parse(readFileSync(join(hb, "nodejob.last"), "utf8"))).toMatchObject({ status: "fail", message: expect.stringContaining("401") });
    expectNoLeakInFiles();
  });

  it("a heartbeat that already carries the token (written by a job without redaction) is never posted to a forge nor written to the brief or metrics", async () => {
    // Outside the searched folder: this input file carries the token on purpose.
    const input = sharedTempDir();
    try {
      await writeHeartbeat("foreign", {
        every: "1h",
        dir: input.dir,
        status: "fail",
        message: `request failed: Authorization: token ${TOKEN}`,
        outputTail: `curl -H "Authorization: Bearer ${TOKEN}" https://api.example.com\n`,
        env: {},
        now: new Date(NOW),
      });
      const fake = await startFakeForge({ flavor: "github", token: TOKEN });
      fakes.push(fake);
      const out = join(tmp.dir, "from-foreign");
      mkdirSync(out);
      const scan = ["--dir", input.dir, "--now", NOW];
      const results = [
        await runLastbeat(["check", "--forge", "github", "--repo", fake.repo, "--url", fake.url, ...scan, "--json"], { env: ENV }),
        await runLastbeat(["check", "--forge", "file", "--repo", join(out, "issues"), ...scan], { env: ENV }),
        await runLastbeat(["report", ...scan, "--out", join(out, "brief.md")], { env: ENV }),
        await runLastbeat(["report", "--format", "html", ...scan, "--out", join(out, "brief.html")], { env: ENV }),
        await runLastbeat(["metrics", ...scan, "--out", join(out, "lastbeat.prom")], { env: ENV }),
      ];
      expect(results.slice(0, 2).map((r) => r.code)).toEqual([1, 1]);
      expect(results.slice(2).map((r) => r.code)).not.toContain(2);
      for (const result of results) expectNoLeak("foreign heartbeat", result);
      expect(fake.openIssues("heartbeat")).toHaveLength(1);
      expectNoLeakInFiles();
      expectNoLeakInForge(fake);
    } finally {
      input.cleanup();
    }
  });
});
