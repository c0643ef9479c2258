import { checkAnswer, listOf, toComment, withAuthor, listShape, objectShape, optionalCount, optionalText, text, TextAnswer, time, wholeNumber, type AnswerShape } from "./answers.js";
import { ForgeError, isUnclearStatus, redact } from "./errors.js";
import type { Forge, ForgeIssue, NewIssue } from "./forge.js";

export interface GitHubForgeOptions {
  /** `owner/name`. */
  repo: string;
  token: string;
  /** API base: `https://api.github.com` (default) or `https://ghe.example.com/api/v3`. */
  baseUrl?: string;
  /** Injected for tests; defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Per request, including retries' own attempts. */
  timeoutMs?: number;
  /** How often a failed request (5xx, timeout, rate limit) is tried again. */
  retries?: number;
  /** Backoff unit of the retry and throttling plugins: 1000 ms in production, ~1 in tests. */
  retryBaseMs?: number;
  /** Longer rate-limit waits are not waited out in a cron run: exit 3, the next run reconciles. */
  maxRateLimitWaitSeconds?: number;
  /** Passed to @octokit/plugin-throttling as is (tests hand in Bottleneck groups without spacing). */
  throttle?: Record<string, unknown>;
}

interface GitHubIssue {
  number: number;
  user?: unknown;
  title: string;
  body?: string | null;
  created_at: string;
  html_url?: string | null;
  labels: Array<string | { name?: string | null }>;
  comments?: number | null;
  pull_request?: unknown;
}

/** GitHub documents an issue's labels as names or label objects (whose `name` may be left out). */
const ISSUE_LABELS = listOf((l) => {
  if (typeof l === "string") return true;
  const name = (l as { name?: unknown } | null)?.name;
  return typeof l === "object" && l !== null && (name === undefined || name === null || typeof name === "string");
}, "a list of labels");
/** The fields of an issue the checker reads. */
const ISSUE_FIELDS = { number: wholeNumber, title: text, body: optionalText, created_at: time, html_url: optionalText, labels: ISSUE_LABELS, comments: optionalCount };
const ISSUE_LIST = listShape<GitHubIssue>("a list of issues", ISSUE_FIELDS);
const ISSUE = objectShape<GitHubIssue>("an issue", ISSUE_FIELDS);
/** An edit or close is believed done only when its answer is the issue (not a proxy's page). */
const EDITED = objectShape<{ number: number }>("an issue", { number: wholeNumber });
const COMMENT = objectShape<{ id: number }>("a comment", { id: wholeNumber });
const COMMENT_LIST = listShape<{ id: number; body?: string | null; user?: unknown }>("a list of comments", { id: wholeNumber, body: optionalText });
const LABEL = objectShape<{ name: string }>("a label", { name: text });

/** Pages followed at most (100 issues each), as on Gitea and GitLab. */
const MAX_PAGES = 1000;
/** GitHub's largest page, of issues and of comments. */
const PER_PAGE = 100;

/**
 * GitHub and GitHub Enterprise through @octokit/rest, with the throttling plugin (rate limits,
 * `retry-after`, spacing of writes as GitHub asks) and the retry plugin (5xx, timeouts). Octokit
 * is imported here, lazily, so `lastbeat beat` never loads it.
 */
export async function createGitHubForge(options: GitHubForgeOptions): Promise<Forge> {
  const [{ Octokit }, { retry }, { throttling }] = await Promise.all([
    import("@octokit/rest"),
    import("@octokit/plugin-retry"),
    import("@octokit/plugin-throttling"),
  ]);
  const [owner, repo] = splitRepo(options.repo);
  const retries = options.retries ?? 3;
  const maxWait = options.maxRateLimitWaitSeconds ?? 120;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const baseFetch = options.fetch ?? globalThis.fetch;
  const quiet = () => {};
  const wantRetry = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number) =>
    retryCount < retries && retryAfter <= maxWait;

  const MyOctokit = Octokit.plugin(throttling, retry);
  const octokit = new MyOctokit({
    auth: options.token,
    ...(options.baseUrl !== undefined && { baseUrl: options.baseUrl.replace(/\/+$/, "") }),
    userAgent: "lastbeat-check",
    log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    request: {
      fetch: (url: string | URL, init: RequestInit = {}) => {
        const timeout = AbortSignal.timeout(timeoutMs);
        return baseFetch(url, { ...init, signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout });
      },
    },
    retry: { retries, retryAfterBaseValue: options.retryBaseMs ?? 1000 },
    throttle: {
      onRateLimit: wantRetry,
      onSecondaryRateLimit: wantRetry,
      retryAfterBaseValue: options.retryBaseMs ?? 1000,
      ...options.throttle,
    },
  });

  const target = `github ${owner}/${repo}`;
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (error) {
      throw toForgeError(error, `${target}: ${what}`, options.token);
    }
  };
  const repoPath = `/repos/${owner}/${repo}`;
  /** The request's answer as `shape`, or a ForgeError naming the request and what was wrong. */
  const answer = <T>(shape: AnswerShape<T>, response: OctokitAnswer, what: string, method: string, path: string, page?: number): T =>
    checkAnswer(shape, bodyOf(response), { target, what, method, path, status: response.status, token: options.token, ...(page !== undefined && { page }) });

  return {
    kind: "github",
    target,
    async listOpenIssues(label) {
      const what = "listing open issues";
      const issues: GitHubIssue[] = [];
      // Not octokit.paginate: it reads a page that is not a list as a list of one (or, for a
      // string, throws a TypeError) and a 409 as the end. Each page is checked here instead, and
      // pages are asked for by number, so a `Link` header never sends the token to another host.
      for (let page = 1; page <= MAX_PAGES; page++) {
        const response = await call(what, () =>
          octokit.rest.issues.listForRepo({ owner, repo, state: "open", labels: label, sort: "created", direction: "asc", per_page: PER_PAGE, page }),
        );
        issues.push(...answer(ISSUE_LIST, response, what, "GET", `${repoPath}/issues`, page));
        if (!/rel="next"/.test(response.headers.link ?? "")) break;
      }
      // The issue list includes pull requests; a PR is never our alert issue.
      return issues.filter((i) => !i.pull_request && hasLabel(i, label)).map(toIssue);
    },
    async createIssue(issue: NewIssue) {
      const response = await call("creating an issue", () =>
        octokit.rest.issues.create({
          owner,
          repo,
          title: issue.title,
          body: issue.body,
          labels: [issue.label],
          // plugin-retry would send the POST again after a 5xx: a second issue. The caller lists
          // first instead (see applyPlan).
          request: { retries: 0 },
        }),
      );
      return toIssue(answer(ISSUE, response, "creating an issue", "POST", `${repoPath}/issues`));
    },
    async updateIssue(number, change) {
      const what = `editing issue #${number}`;
      const response = await call(what, () =>
        octokit.rest.issues.update({ owner, repo, issue_number: number, title: change.title, body: change.body }),
      );
      answer(EDITED, response, what, "PATCH", `${repoPath}/issues/${number}`);
    },
    async comment(number, body) {
      const what = `commenting on issue #${number}`;
      const response = await call(what, () => octokit.rest.issues.createComment({ owner, repo, issue_number: number, body }));
      answer(COMMENT, response, what, "POST", `${repoPath}/issues/${number}/comments`);
    },
    async recentComments(issue) {
      const what = `reading the comments of issue #${issue.number}`;
      const read = async (page: number) => {
        const response = await call(what, () => octokit.rest.issues.listComments({ owner, repo, issue_number: issue.number, per_page: PER_PAGE, page }));
        return answer(COMMENT_LIST, response, what, "GET", `${repoPath}/issues/${issue.number}/comments`, page).map(toComment);
      };
      // Comments come oldest first, with no way to ask for the newest: the list's count says
      // which page is the last.
      const last = Math.max(1, Math.ceil((issue.comments ?? 0) / PER_PAGE));
      const bodies = await read(last);
      // A last page of 1 of 101 comments: the page before completes the latest 100.
      if (bodies.length < PER_PAGE && last > 1) bodies.unshift(...(await read(last - 1)));
      return bodies.slice(-PER_PAGE);
    },
    async closeIssue(number) {
      const what = `closing issue #${number}`;
      const response = await call(what, () =>
        octokit.rest.issues.update({ owner, repo, issue_number: number, state: "closed", state_reason: "completed" }),
      );
      answer(EDITED, response, what, "PATCH", `${repoPath}/issues/${number}`);
    },
    async ensureLabel(label) {
      const labelPath = `${repoPath}/labels`;
      let found: OctokitAnswer | undefined;
      try {
        found = await octokit.rest.issues.getLabel({ owner, repo, name: label });
      } catch (error) {
        if ((error as { status?: number }).status !== 404) throw toForgeError(error, `${target}: reading label ${label}`, options.token);
      }
      if (found) {
        answer(LABEL, found, `reading label ${label}`, "GET", `${labelPath}/${encodeURIComponent(label)}`);
        return;
      }
      let created: OctokitAnswer | undefined;
      try {
        created = await octokit.rest.issues.createLabel({
          owner,
          repo,
          name: label,
          color: "d73a4a",
          description: "lastbeat: a cron job is silent or failing",
        });
      } catch (error) {
        // 422 "already_exists": another checker created it a moment ago.
        if ((error as { status?: number }).status !== 422) throw toForgeError(error, `${target}: creating label ${label}`, options.token);
      }
      if (created) answer(LABEL, created, `creating label ${label}`, "POST", labelPath);
    },
  };
}

export function splitRepo(repo: string): [string, string] {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(repo.trim());
  if (!m) throw new ForgeError(`--repo must be owner/name, got ${JSON.stringify(repo)}`);
  return [m[1]!, m[2]!];
}

function hasLabel(issue: GitHubIssue, label: string): boolean {
  const want = label.toLowerCase();
  return issue.labels.some((l) => (typeof l === "string" ? l : l.name ?? "").toLowerCase() === want);
}

function toIssue(i: GitHubIssue): ForgeIssue {
  return {
    number: i.number,
    title: i.title,
    body: i.body ?? "",
    createdAt: i.created_at,
    url: i.html_url ?? "",
    labels: i.labels.map((l) => (typeof l === "string" ? l : l.name ?? "")),
    ...(typeof i.comments === "number" && { comments: i.comments }),
    ...withAuthor(i),
  };
}

/** What the checker reads of an Octokit answer. */
interface OctokitAnswer {
  status: number;
  data: unknown;
  headers: { [header: string]: string | number | undefined };
}

/**
 * Octokit hands a body it could not parse as JSON over as text (or bytes, for a type it does not
 * know): kept as the text it is, so the check says "an HTML page" rather than "a string".
 */
function bodyOf(response: OctokitAnswer): unknown {
  const contentType = response.headers["content-type"];
  const type = typeof contentType === "string" ? contentType : null;
  if (typeof response.data === "string") return new TextAnswer(response.data, type);
  if (response.data instanceof ArrayBuffer) return new TextAnswer(new TextDecoder().decode(response.data), type);
  return response.data;
}

/**
 * Octokit's RequestError redacts the authorization header, not the forge's answer: a proxy that
 * echoes the credentials puts the token in its message and `response.data`. So the message is
 * redacted here and the RequestError is not kept as `cause` (a caller's `console.error(error)`
 * would print it whole).
 */
function toForgeError(error: unknown, what: string, token: string): ForgeError {
  const e = error as { status?: number; message?: string; response?: unknown; name?: string };
  // Octokit reports a request that got no answer (refused, reset, timeout) as a 500 without a response.
  const answered = e?.response !== undefined;
  const status = answered ? e.status : undefined;
  const detail = redact((validationMessage(e?.response) ?? e?.message ?? String(error)).split("\n")[0]!.trim(), token);
  const head = status !== undefined ? `${what} failed with HTTP ${status}` : `${what} failed: no answer`;
  return new ForgeError(`${head}${detail ? ` (${detail})` : ""}`, {
    ...(status !== undefined && { status }),
    unclear: isUnclearStatus(status),
  });
}

/**
 * GitHub's 422 says what is wrong in `errors[].message` ("body is too long (maximum is 65536
 * characters)"); Octokit's own message is that list as JSON plus a documentation link.
 */
function validationMessage(response: unknown): string | undefined {
  const data = (response as { data?: { message?: unknown; errors?: unknown } } | undefined)?.data;
  if (!data || typeof data.message !== "string" || !Array.isArray(data.errors)) return undefined;
  const messages = data.errors
    .map((item) => (typeof item === "string" ? item : (item as { message?: unknown } | null)?.message))
    .filter((m): m is string => typeof m === "string" && m !== "");
  return messages.length > 0 ? `${data.message}: ${messages.join("; ")}` : undefined;
}
