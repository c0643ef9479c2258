import { checkAnswer, readBody, type AnswerShape } from "./answers.js";
import { ForgeError, isUnclearStatus, networkReason, redact } from "./errors.js";

/*
 * The JSON-over-fetch client of the forges without an SDK (Gitea/Forgejo, GitLab): timeouts,
 * retries with backoff on 5xx, timeouts and rate limits, and one redacted error line. GitHub goes
 * through Octokit's own retry and throttling plugins instead.
 */

/** How a fetch-based adapter talks to its forge: the options its users may set. */
export interface HttpRetryOptions {
  fetch?: typeof globalThis.fetch;
  /** Per attempt. */
  timeoutMs?: number;
  /** How often a failed request (5xx, timeout, rate limit) is tried again. */
  retries?: number;
  /** Backoff unit: attempt n waits n² × this (1000 ms in production). */
  retryBaseMs?: number;
  /** A `retry-after` longer than this is not waited out: exit 3, the next run reconciles. */
  maxRetryAfterSeconds?: number;
  /** Injected for tests (and the CLI's io.sleep). */
  sleep?: (ms: number) => Promise<void>;
  /** For `retry-after` dates and `ratelimit-reset` times; injected for tests. */
  now?: () => Date;
}

export interface HttpClientOptions extends HttpRetryOptions {
  /** The API base every path is appended to: `https://git.example.com/api/v1`. */
  api: string;
  /** The token, sent in `headers` and removed from every message. */
  token: string;
  /** Auth and any other fixed headers. */
  headers: Record<string, string>;
  /** `gitea acme/ops`: the start of every error message. */
  target: string;
  /** The forge's own error text in an error answer (defaults to its `message`). */
  messageOf?: (data: unknown) => string | undefined;
}

export interface HttpAnswer<T = unknown> {
  status: number;
  data: T;
  headers: Headers;
}

export interface RequestOptions<T = unknown> {
  /**
   * false for a create: only an answer that says it was refused unprocessed (a rate limit) is
   * tried again; after a 5xx or a timeout the write may have happened, and the caller lists first.
   */
  retry?: boolean;
  /** Statuses that are success (default 200, 201, 204). */
  ok?: number[];
  /**
   * The shape a 2xx answer must have; any other (a login page, an object for a list) is a
   * ForgeError, never read as empty. Other `ok` statuses (a 409 "already exists") are not checked.
   */
  expect?: AnswerShape<T>;
}

export type HttpRequest = <T = unknown>(
  what: string,
  method: string,
  path: string,
  body?: unknown,
  opts?: RequestOptions<T>,
) => Promise<HttpAnswer<T>>;

export function createHttpClient(options: HttpClientOptions): HttpRequest {
  const { api, token, target } = options;
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const retries = options.retries ?? 3;
  const base = options.retryBaseMs ?? 1000;
  const maxRetryAfter = options.maxRetryAfterSeconds ?? 120;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? (() => new Date());
  const timeoutMs = options.timeoutMs ?? 30_000;
  const describe = options.messageOf ?? defaultMessage;

  return async function request<T>(what: string, method: string, path: string, body?: unknown, opts: RequestOptions<T> = {}): Promise<HttpAnswer<T>> {
    const ok = opts.ok ?? [200, 201, 204];
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetchImpl(`${api}${path}`, {
          method,
          headers: {
            ...options.headers,
            accept: "application/json",
            ...(body !== undefined && { "content-type": "application/json" }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        if (opts.retry !== false && attempt < retries) {
          await sleep(base * (attempt + 1) ** 2);
          continue;
        }
        throw new ForgeError(`${target}: ${what} failed: no answer from ${api} (${redact(networkReason(error), token)})`, {
          unclear: true,
          cause: error,
        });
      }
      const text = await response.text().catch(() => "");
      if (ok.includes(response.status)) {
        const { status, headers } = response;
        if (opts.expect && status >= 200 && status < 300) {
          const [route = path, query = ""] = path.split("?", 2);
          const page = Number(new URLSearchParams(query).get("page") ?? 1);
          const source = { target, what, method, path: route, page, status, token };
          return { status, data: checkAnswer(opts.expect, readBody(text, headers.get("content-type")), source), headers };
        }
        return { status, data: (text ? safeJson(text) : null) as T, headers };
      }
      const retryAfter = waitSeconds(response.headers, now());
      const rateLimited = response.status === 429 || (response.status === 403 && retryAfter !== null);
      const transient = response.status >= 500 || response.status === 408 || rateLimited;
      // A rate-limited request was refused, never processed: even a create may be sent again.
      const retryable = opts.retry === false ? rateLimited : transient;
      if (retryable && attempt < retries && (retryAfter ?? 0) <= maxRetryAfter) {
        await sleep(retryAfter !== null ? retryAfter * base : base * (attempt + 1) ** 2);
        continue;
      }
      const data = safeJson(text);
      const message = redact(oneLine(describe(data) ?? text), token);
      throw new ForgeError(`${target}: ${what} failed with HTTP ${response.status}${message ? ` (${message})` : ""}`, {
        status: response.status,
        unclear: isUnclearStatus(response.status),
      });
    }
  };
}

/**
 * How long a rate-limited answer asks us to wait: `retry-after` (seconds or an HTTP date), else
 * `ratelimit-reset` (GitLab: the Unix time the window resets). Null when neither says.
 */
export function waitSeconds(headers: Headers, now: Date): number | null {
  const retryAfter = headers.get("retry-after")?.trim();
  if (retryAfter) {
    if (/^\d+$/.test(retryAfter)) return Number(retryAfter);
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - now.getTime()) / 1000));
  }
  const reset = headers.get("ratelimit-reset")?.trim();
  if (reset && /^\d+$/.test(reset)) {
    const seconds = Number(reset);
    // A reset far in the past is a window length by another convention (seconds, not a time).
    return seconds > 1_000_000_000 ? Math.max(0, seconds - Math.floor(now.getTime() / 1000)) : seconds;
  }
  return null;
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function defaultMessage(data: unknown): string | undefined {
  const message = (data as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : undefined;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}
