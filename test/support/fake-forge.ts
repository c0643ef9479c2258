import { createServer, type IncomingMessage, type Server } from "node:http";
import { listenOnLoopback } from "./ports.js";
import { answersInstead, FaultQueue, faultReply, type Fault } from "./fake-forge/faults.js";
import { WriteLimits } from "./fake-forge/limits.js";
import { Routes, type Reply } from "./fake-forge/routes.js";
import { ForgeState, type FakeComment, type FakeIssue, type FakeLabel, type Flavor, type IssueFields } from "./fake-forge/state.js";

/*
 * A real HTTP server on 127.0.0.1, port 0, that models the parts of GitHub's, Gitea's and GitLab's issue
 * APIs lastbeat uses (fake-forge/routes.ts) over an in-memory store (fake-forge/state.ts). Auth
 * headers are checked. Every request is logged, and faults can be injected (fake-forge/faults.ts:
 * status codes, answers after the write happened, dropped connections, slow answers, rate limits
 * with `retry-after`). The GitHub side is checked against @octokit/openapi in
 * test/forge/fake-forge-openapi.test.ts.
 */

export type { Fault } from "./fake-forge/faults.js";
export type { FakeComment, FakeIssue, FakeLabel, Flavor } from "./fake-forge/state.js";

export interface LoggedRequest {
  method: string;
  /** Path without the API prefix and without the query: `/repos/o/r/issues`. */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** The status answered, or "dropped" when the connection was cut. */
  status: number | "dropped";
  /** The JSON answered, and its headers. */
  response?: unknown;
  headers?: Record<string, string>;
}

export interface FakeForgeOptions {
  flavor: Flavor;
  token?: string;
  owner?: string;
  repo?: string;
  /** The server's clock for created/updated times; defaults to a fixed instant ticking 1 s per write. */
  now?: () => Date;
  /**
   * The clock GitHub's secondary limits (80 writes a minute, 500 an hour) are counted by: real
   * time by default; tests of many runs pin it to each run's time. Gitea has no such limits.
   */
  limitsClock?: () => Date;
}

export interface FakeForge {
  readonly flavor: Flavor;
  /** The API base a client is given: `http://127.0.0.1:port` (GitHub), `…/api/v1` (Gitea) or `…/api/v4` (GitLab). */
  readonly url: string;
  readonly token: string;
  readonly repo: string;
  readonly issues: FakeIssue[];
  readonly labels: FakeLabel[];
  readonly requests: LoggedRequest[];
  /** GitHub's secondary limits: writes refused with 403 for going past them, and counts. */
  readonly limits: WriteLimits;
  fault(fault: Fault): void;
  /** Requests since the last `resetLog`, split by reads and writes. */
  counts(): { reads: number; writes: number; total: number };
  resetLog(): void;
  openIssues(label?: string): FakeIssue[];
  issue(number: number): FakeIssue;
  /** What a person does in the web UI. */
  person: {
    close(number: number): void;
    editBody(number: number, body: string): void;
    /** As `author` (a person, unless told otherwise: the token's own account is `BOT`). */
    comment(number: number, body: string, author?: string): FakeComment;
    deleteLabel(name: string): void;
    open(fields: IssueFields, author?: string): FakeIssue;
  };
  close(): Promise<void>;
}

/**
 * Auth failures and server errors echo the credentials the client presented, as some proxies and
 * misconfigured servers do: a client that shows a forge's error message unredacted shows its
 * token, so the "never shows the token" tests can fail. (The forge's own validation answers, 4xx,
 * are left as GitHub and Gitea word them.)
 */
function echoCredentials(reply: Reply, authorization: string | undefined): Reply {
  if (!(reply.status === 401 || reply.status >= 500) || !authorization) return reply;
  const body = reply.body as { message?: unknown } | undefined;
  if (typeof body?.message !== "string") return reply;
  return { ...reply, body: { ...body, message: `${body.message} (credentials presented: ${authorization})` } };
}

/** The API prefix of each flavor's routes. */
const PREFIX: Record<Flavor, string> = { github: "", gitea: "/api/v1", gitlab: "/api/v4" };

/** The credentials a request carries, in whichever header its forge reads them from. */
function presented(req: IncomingMessage): string | undefined {
  const privateToken = req.headers["private-token"];
  const values = [req.headers.authorization, typeof privateToken === "string" ? `PRIVATE-TOKEN: ${privateToken}` : undefined].filter((v): v is string => !!v);
  return values.length > 0 ? values.join(", ") : undefined;
}

export async function startFakeForge(options: FakeForgeOptions): Promise<FakeForge> {
  const flavor = options.flavor;
  const token = options.token ?? "fake-token-0123456789abcdef";
  const owner = options.owner ?? "acme";
  const repoName = options.repo ?? "ops";
  const prefix = PREFIX[flavor];
  const state = new ForgeState(flavor, options.now);
  const faults = new FaultQueue();
  const requests: LoggedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let logStart = 0;
  let origin = "";
  const routes = new Routes(state, { owner, repoName, prefix, origin: () => origin });
  const limits = new WriteLimits(options.limitsClock ?? (() => new Date()));

  function authorised(req: IncomingMessage): boolean {
    const header = req.headers.authorization ?? "";
    // GitLab: `PRIVATE-TOKEN: <token>`, or an OAuth-style `Authorization: Bearer <token>`.
    if (flavor === "gitlab") return req.headers["private-token"] === token || header === `Bearer ${token}`;
    if (flavor === "gitea") return header === `token ${token}` || header === `Bearer ${token}`;
    return header === `token ${token}` || header === `bearer ${token}` || header === `Bearer ${token}`;
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://fake");
      const method = req.method ?? "GET";
      let path = url.pathname;
      if (flavor === "github" && path.startsWith("/api/v3/")) path = path.slice(7);
      const text = Buffer.concat(chunks).toString("utf8");
      let body: unknown = undefined;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = text;
      }
      const entry: LoggedRequest = { method, path: path.startsWith(prefix) ? path.slice(prefix.length) : path, query: Object.fromEntries(url.searchParams), body, status: 0 };
      requests.push(entry);

      const finish = (answer: Reply | "drop") => {
        let reply = answer;
        if (reply === "drop") {
          entry.status = "dropped";
          req.socket.destroy();
          return;
        }
        reply = echoCredentials(reply, presented(req));
        entry.status = reply.status;
        entry.response = reply.text ?? reply.body;
        entry.headers = reply.headers ?? {};
        if (reply.text !== undefined) {
          res.writeHead(reply.status, { "content-type": "text/plain; charset=utf-8", ...reply.headers });
          res.end(reply.text);
          return;
        }
        res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8", ...reply.headers });
        res.end(reply.body === undefined ? "" : JSON.stringify(reply.body));
      };
      const later = (ms: number | undefined, fn: () => void) => {
        if (!ms) return fn();
        const t = setTimeout(() => {
          timers.delete(t);
          fn();
        }, ms);
        timers.add(t);
      };

      if (!path.startsWith(prefix)) return finish(routes.notFound());
      if (!authorised(req)) return finish(routes.unauthorised());
      const fault = faults.take(method, entry.path);
      if (fault && !fault.afterHandling) {
        return later(fault.delayMs, () => finish(fault.drop ? "drop" : answersInstead(fault) ? faultReply(fault, flavor) : routes.route(method, entry.path, url.searchParams, body)));
      }
      const refused = flavor === "github" ? limits.check(method) : null;
      if (refused) return finish(refused);
      const reply = routes.route(method, entry.path, url.searchParams, body);
      if (fault?.afterHandling) return later(fault.delayMs, () => finish(fault.drop ? "drop" : faultReply(fault, flavor)));
      finish(reply);
    });
  });
  const listening = await listenOnLoopback(server);
  origin = listening.origin;

  return {
    flavor,
    url: `${origin}${prefix}`,
    token,
    repo: `${owner}/${repoName}`,
    issues: state.issues,
    labels: state.labels,
    requests,
    limits,
    fault(fault) {
      faults.add(fault);
    },
    counts() {
      const since = requests.slice(logStart);
      const reads = since.filter((r) => r.method === "GET").length;
      return { reads, writes: since.length - reads, total: since.length };
    },
    resetLog() {
      logStart = requests.length;
    },
    openIssues(label) {
      return state.openIssues(label);
    },
    issue(number) {
      const found = state.findIssue(number);
      if (!found) throw new Error(`fake forge: no issue #${number}`);
      return found;
    },
    person: state.person,
    async close() {
      for (const t of timers) clearTimeout(t);
      await listening.close();
    },
  };
}
