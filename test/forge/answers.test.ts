import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { join } from "node:path";
import { mkdir, writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ForgeError, renderRollupIssue, syncAlerts, type Forge } from "@lastbeat/forge";
import { runCli } from "@lastbeat/cli";
import { startFakeForge, type FakeForge, type Flavor } from "../support/fake-forge.js";
import { BOT } from "../support/fake-forge/state.js";
import { fakeIo } from "../support/fake-io.js";
import { findLeaks } from "../support/leaks.js";
import { testdir } from "../support/testdir.js";
import { listenOnLoopback } from "../support/ports.js";
import { HTTP_FORGES, NOW, at, failure, forgeAt, state, SCOPE } from "./helpers.js";

/*
 * A forge that answers 2xx with something its API does not document: an SSO or proxy login page,
 * a gateway's `{"message":"ok"}`, a list of something else. Such an answer is a ForgeError
 * (exit 3) naming the request and what was wrong, and nothing is written afterwards in that run:
 * a list not understood once read as "no issues" and opened a new issue on every run. The wrong
 * answers come from a real loopback server in front of the fake forge.
 */

const LABEL = "heartbeat";
const backupStale = state("backup", { at: at(-5) });
const dbFailed = state("db-dump", { at: at(-0.2), status: "fail", exit_code: 1 });
const LOGIN_PAGE = "<!DOCTYPE html>\n<html>\n  <head><title>Sign in · Example SSO</title></head>\n  <body><form action=/login><input name=user></form></body>\n</html>\n";

interface WrongAnswer {
  method: string;
  path: RegExp;
  /** Only this page of a list (`?page=`). */
  page?: string;
  status?: number;
  contentType?: string;
  body: string;
  /** Let the forge handle the request first (the write happens), then answer this instead. */
  afterHandling?: boolean;
}

interface Proxy {
  /** The API base the adapter is given. */
  url: string;
  /** Every request that reached the proxy, as `METHOD /path`. */
  requests: string[];
  writes(): string[];
  answer(wrong: WrongAnswer): void;
  close(): Promise<void>;
}

/** Headers a proxy does not pass on (fetch sets its own, or they describe the hop). */
const HOP_HEADERS = new Set(["host", "connection", "keep-alive", "content-length", "transfer-encoding", "accept-encoding", "content-encoding"]);

function passOn(headers: IncomingHttpHeaders | Headers): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = headers instanceof Headers ? [...headers.entries()] : Object.entries(headers);
  for (const [name, value] of entries) if (!HOP_HEADERS.has(name) && typeof value === "string") out[name] = value;
  return out;
}

/**
 * A loopback server (port 0) in front of the fake forge: it passes every request on, except those
 * matching a wrong answer, which it answers itself. Links in the forge's answers are rewritten to
 * point at the proxy, so later pages come through it too.
 */
async function startProxy(fake: FakeForge): Promise<Proxy> {
  const forgeOrigin = new URL(fake.url).origin;
  const prefix = new URL(fake.url).pathname.replace(/\/$/, "");
  const wrong: WrongAnswer[] = [];
  const requests: string[] = [];
  let origin = "";
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void (async () => {
        const url = new URL(req.url ?? "/", origin);
        const method = req.method ?? "GET";
        const path = url.pathname.slice(prefix.length);
        requests.push(`${method} ${path}`);
        const rule = wrong.find((w) => w.method === method && w.path.test(path) && (w.page === undefined || url.searchParams.get("page") === w.page));
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        if (!rule || rule.afterHandling) {
          const answer = await fetch(`${forgeOrigin}${url.pathname}${url.search}`, { method, headers: passOn(req.headers), ...(body && { body }) });
          const text = (await answer.text()).replaceAll(forgeOrigin, origin);
          if (!rule) {
            const headers = passOn(answer.headers);
            if (headers.link) headers.link = headers.link.replaceAll(forgeOrigin, origin);
            res.writeHead(answer.status, headers);
            res.end(text);
            return;
          }
        }
        res.writeHead(rule.status ?? 200, { "content-type": rule.contentType ?? "application/json; charset=utf-8" });
        res.end(rule.body);
      })();
    });
  });
  const listening = await listenOnLoopback(server);
  origin = listening.origin;
  return {
    url: `${origin}${prefix}`,
    requests,
    writes: () => requests.filter((r) => !r.startsWith("GET ")),
    answer: (w) => void wrong.push(w),
    close: listening.close,
  };
}

/** The issue list's path as each forge's error line names it (no query: never the token, never noise). */
const ISSUES_PATH: Record<Flavor, string> = { github: "/repos/acme/ops/issues", gitea: "/repos/acme/ops/issues", gitlab: "/projects/acme%2Fops/issues" };
const NUMBER_FIELD: Record<Flavor, string> = { github: "number", gitea: "number", gitlab: "iid" };
/** Where each forge keeps an issue's comments. */
const COMMENTS: Record<Flavor, string> = { github: "comments", gitea: "comments", gitlab: "notes" };
/** How each forge edits an issue. */
const EDIT_METHOD: Record<Flavor, string> = { github: "PATCH", gitea: "PATCH", gitlab: "PUT" };

describe.each(HTTP_FORGES)("%s answering with something its API does not document", (flavor) => {
  let fake: FakeForge;
  let proxy: Proxy;
  let forge: Forge;
  beforeEach(async () => {
    fake = await startFakeForge({ flavor });
    proxy = await startProxy(fake);
    forge = await forgeAt(flavor, { url: proxy.url, repo: fake.repo, token: fake.token });
  });
  afterEach(async () => {
    await proxy.close();
    await fake.close();
  });
  const sync = (states = [backupStale]) => syncAlerts(forge, { scope: SCOPE, mode: "rollup", label: LABEL, states, now: NOW });
  const listFailed = (problem: string, page = "") =>
    `${flavor} acme/ops: listing open issues failed: GET ${ISSUES_PATH[flavor]}${page} answered HTTP 200 with something that is not a list of issues (${problem})`;

  const lists: Array<[string, Omit<WrongAnswer, "method" | "path">, string]> = [
    ["an object", { body: '{"message":"ok"}' }, 'an object: {"message":"ok"}'],
    ["an HTML login page", { body: LOGIN_PAGE, contentType: "text/html; charset=utf-8" }, "an HTML page: <!DOCTYPE html> <html> <head><title>Sign in · Example SSO</title></head> <body><form action=/login>…"],
    ["a list of numbers", { body: "[1,2,3]" }, "item 1 is a number"],
    ["a list of strings", { body: '["#1","#2"]' }, "item 1 is a string"],
    ["an empty body", { body: "" }, "an empty answer"],
    ["text that is not JSON", { body: "OK", contentType: "text/plain" }, "not JSON: OK"],
  ];

  it.each(lists)("a list answered with %s fails the run (exit 3) and writes nothing, run after run", async (_name, answer, problem) => {
    proxy.answer({ method: "GET", path: /\/issues$/, ...answer });
    for (let run = 1; run <= 3; run++) {
      const error = await failure(sync());
      expect(error.message).toBe(listFailed(problem));
      expect(error).toMatchObject({ name: "ForgeError", code: "E_FORGE", status: 200, unclear: false });
    }
    // One list request a run, nothing else: no label, no issue.
    expect(proxy.requests).toEqual(Array(3).fill(`GET ${ISSUES_PATH[flavor]}`));
    expect(proxy.writes()).toEqual([]);
    expect(fake.requests.filter((r) => r.method !== "GET")).toEqual([]);
    expect(fake.issues).toEqual([]);
  });

  it("names the field an issue of the list lacks", async () => {
    proxy.answer({ method: "GET", path: /\/issues$/, body: JSON.stringify([{ title: "[heartbeat-checker] web-1: 1 job alerting: backup", labels: [] }]) });
    const error = await failure(sync());
    expect(error.message).toBe(listFailed(`item 1 has no ${NUMBER_FIELD[flavor]}`));
    expect(proxy.writes()).toEqual([]);
  });

  it("a later page not understood fails the whole list: the issue on it is never opened again", async () => {
    // Enough labelled issues for a second page on every forge (GitHub and GitLab 100 a page, Gitea 50), ours on the second.
    for (let n = 0; n < 120; n++) fake.person.open({ title: `chore ${n}`, body: "not ours", labels: [LABEL] });
    const ours = fake.person.open({ ...renderRollupIssue([backupStale], SCOPE), labels: [LABEL] });
    expect((await sync()).applied).toEqual([{ kind: "none", issue: ours.number, key: "rollup" }]);
    proxy.requests.length = 0;

    proxy.answer({ method: "GET", path: /\/issues$/, page: "2", body: '{"message":"ok"}' });
    const error = await failure(sync());
    expect(error.message).toBe(listFailed('an object: {"message":"ok"}', "?page=2"));
    expect(proxy.requests).toEqual([`GET ${ISSUES_PATH[flavor]}`, `GET ${ISSUES_PATH[flavor]}`]);
    expect(proxy.writes()).toEqual([]);
    expect(fake.openIssues(LABEL)).toHaveLength(121);
  });

  it("an excerpt of the answer shows neither the token nor terminal escapes", async () => {
    const body = `<html><body>\u001b[2J\u001b]0;pwned\u0007Hello ${fake.token}\u202e, sign in</body></html>`;
    proxy.answer({ method: "GET", path: /\/issues$/, body, contentType: "text/html" });
    const error = await failure(sync());
    expect(error.message).toBe(listFailed("an HTML page: <html><body>Hello ***, sign in</body></html>"));
    expect(findLeaks(error.message, fake.token)).toEqual([]);
  });

  it("a create whose answer is not an issue is unclear: listed first, never sent again when it happened", async () => {
    proxy.answer({ method: "POST", path: /\/issues$/, status: 201, body: LOGIN_PAGE, contentType: "text/html", afterHandling: true });
    const r = await sync();
    expect(r.applied[0]).toMatchObject({ kind: "create", recovered: true });
    expect(proxy.writes().filter((w) => w.endsWith("/issues"))).toHaveLength(1);
    expect(fake.openIssues(LABEL)).toHaveLength(1);
  });

  it("an edit whose answer is not the issue fails the run after its comment, which the next run does not post again", async () => {
    // Opened by the checker's account on an earlier run: its comments are the checker's own.
    const ours = fake.person.open({ ...renderRollupIssue([backupStale], SCOPE), labels: [LABEL] }, BOT);
    proxy.answer({ method: EDIT_METHOD[flavor], path: /\/issues\/\d+$/, body: LOGIN_PAGE, contentType: "text/html" });
    const error = await failure(sync([backupStale, dbFailed]));
    expect(error.message).toMatch(
      new RegExp(`^${flavor} acme/ops: editing issue #${ours.number} failed: ${EDIT_METHOD[flavor]} ${ISSUES_PATH[flavor]}/${ours.number} answered HTTP 200 with something that is not an issue \\(an HTML page: <!DOCTYPE html>`),
    );
    expect(error.unclear).toBe(true);
    const edit = `${EDIT_METHOD[flavor]} ${ISSUES_PATH[flavor]}/${ours.number}`;
    expect(proxy.writes()).toEqual([`POST ${ISSUES_PATH[flavor]}/${ours.number}/${COMMENTS[flavor]}`, edit]);
    expect(fake.issue(ours.number).comments).toHaveLength(1);
    await failure(sync([backupStale, dbFailed]));
    expect(proxy.writes().slice(2)).toEqual([edit]);
    expect(fake.issue(ours.number).comments).toHaveLength(1);
  });

  it("comments answered with something else fail the run before the change is announced", async () => {
    const ours = fake.person.open({ ...renderRollupIssue([backupStale], SCOPE), labels: [LABEL] });
    fake.person.comment(ours.number, "looking into it");
    proxy.answer({ method: "GET", path: /\/issues\/\d+\/(comments|notes)$/, body: '{"message":"ok"}' });
    const error = await failure(sync([backupStale, dbFailed]));
    const what = flavor === "gitlab" ? "reading the notes" : "reading the comments";
    const shape = flavor === "gitlab" ? "a list of notes" : "a list of comments";
    expect(error.message).toBe(
      `${flavor} acme/ops: ${what} of issue #${ours.number} failed: GET ${ISSUES_PATH[flavor]}/${ours.number}/${COMMENTS[flavor]} answered HTTP 200 with something that is not ${shape} (an object: {"message":"ok"})`,
    );
    expect(proxy.writes()).toEqual([]);
  });
});

describe("gitea labels answered with something else", () => {
  it("creates neither the label nor an issue", async () => {
    const fake = await startFakeForge({ flavor: "gitea" });
    const proxy = await startProxy(fake);
    try {
      const forge = await forgeAt("gitea", { url: proxy.url, repo: fake.repo, token: fake.token });
      proxy.answer({ method: "GET", path: /\/labels$/, body: '{"labels":[]}' });
      const error = await failure(syncAlerts(forge, { scope: SCOPE, mode: "rollup", label: LABEL, states: [backupStale], now: NOW }));
      expect(error.message).toBe(
        'gitea acme/ops: reading labels failed: GET /repos/acme/ops/labels answered HTTP 200 with something that is not a list of labels (an object: {"labels":[]})',
      );
      expect(proxy.writes()).toEqual([]);
      expect(fake.labels).toEqual([]);
    } finally {
      await proxy.close();
      await fake.close();
    }
  });
});

describe("lastbeat check against a GitLab that answers the issue list with an object", () => {
  it("exits 3 with one line every run and never opens an issue", async () => {
    const fake = await startFakeForge({ flavor: "gitlab" });
    const proxy = await startProxy(fake);
    try {
      proxy.answer({ method: "GET", path: /\/issues$/, body: '{"message":"ok"}' });
      const dir = join(await testdir("lastbeat-answers-"), "hb");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "backup.last"), JSON.stringify({ format: "lastbeat/1", job: "backup", status: "ok", interval_s: 3600, at: at(-5).toISOString() }));
      for (let run = 1; run <= 3; run++) {
        const io = fakeIo({ env: { GITLAB_TOKEN: fake.token }, now: NOW });
        const code = await runCli(["check", "--forge", "gitlab", "--url", proxy.url, "--repo", fake.repo, "--scope", SCOPE, "--dir", dir], io);
        expect(code, io.err()).toBe(3);
        expect(io.err()).toMatchInlineSnapshot(`
          "error: gitlab acme/ops: listing open issues failed: GET /projects/acme%2Fops/issues answered HTTP 200 with something that is not a list of issues (an object: {"message":"ok"})
          "
        `);
      }
      expect(proxy.writes()).toEqual([]);
      expect(fake.issues).toEqual([]);
    } finally {
      await proxy.close();
      await fake.close();
    }
  });
});
