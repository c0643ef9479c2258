import { ForgeError, isUnclearStatus, networkReason, redact } from "./errors.js";
import type { Forge, ForgeIssue, NewIssue } from "./forge.js";
import { splitRepo } from "./github.js";

export interface GiteaForgeOptions {
  repo: string;
  token: string;
  /** `https://gitea.example.com` or `https://gitea.example.com/api/v1`. */
  url: string;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
  retries?: number;
  /** Backoff unit: attempt n waits n² × this (1000 ms in production). */
  retryBaseMs?: number;
  /** A `retry-after` longer than this is not waited out: exit 3, the next run reconciles. */
  maxRetryAfterSeconds?: number;
  /** Injected for tests. */
  sleep?: (ms: number) => Promise<void>;
}

interface GiteaIssue {
  number: number;
  title: string;
  body?: string | null;
  created_at: string;
  html_url: string;
  labels?: Array<{ id: number; name: string }> | null;
  pull_request?: unknown;
}

/** Gitea caps pages at 50 items (MAX_RESPONSE_ITEMS) whatever `limit` asks for. */
const PAGE_LIMIT = 50;

/**
 * Gitea and Forgejo (`/api/v1`) over plain fetch. Their differences from GitHub: labels are IDs
 * on create, pages hold at most 50, an edit answers 201, auth is `Authorization: token …`.
 */
export function createGiteaForge(options: GiteaForgeOptions): Forge {
  const [owner, repo] = splitRepo(options.repo);
  const api = apiBase(options.url);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const retries = options.retries ?? 3;
  const base = options.retryBaseMs ?? 1000;
  const maxRetryAfter = options.maxRetryAfterSeconds ?? 120;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeoutMs = options.timeoutMs ?? 30_000;
  const repoPath = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  const target = `gitea ${owner}/${repo}`;

  interface Answer {
    status: number;
    data: unknown;
    headers: Headers;
  }

  async function request(
    what: string,
    method: string,
    path: string,
    body?: unknown,
    opts: { retry?: boolean; ok?: number[] } = {},
  ): Promise<Answer> {
    const ok = opts.ok ?? [200, 201, 204];
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await fetchImpl(`${api}${path}`, {
          method,
          headers: {
            authorization: `token ${options.token}`,
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
        throw new ForgeError(`${target}: ${what} failed: no answer from ${api} (${redact(networkReason(error), options.token)})`, {
          unclear: true,
          cause: error,
        });
      }
      const text = await response.text().catch(() => "");
      if (ok.includes(response.status)) {
        return { status: response.status, data: text ? safeJson(text) : null, headers: response.headers };
      }
      const retryAfter = retryAfterSeconds(response.headers.get("retry-after"));
      const rateLimited = response.status === 429 || (response.status === 403 && retryAfter !== null);
      const transient = response.status >= 500 || response.status === 408 || rateLimited;
      // A rate-limited request was refused, never processed: even a create may be sent again.
      const retryable = opts.retry === false ? rateLimited : transient;
      if (retryable && attempt < retries && (retryAfter ?? 0) <= maxRetryAfter) {
        await sleep(retryAfter !== null ? retryAfter * base : base * (attempt + 1) ** 2);
        continue;
      }
      const message = redact(messageOf(text), options.token);
      throw new ForgeError(`${target}: ${what} failed with HTTP ${response.status}${message ? ` (${message})` : ""}`, {
        status: response.status,
        unclear: isUnclearStatus(response.status),
      });
    }
  }

  async function pages<T>(what: string, path: string): Promise<T[]> {
    const all: T[] = [];
    const sep = path.includes("?") ? "&" : "?";
    for (let page = 1; page <= 1000; page++) {
      const { data, headers } = await request(what, "GET", `${path}${sep}limit=${PAGE_LIMIT}&page=${page}`);
      const items = Array.isArray(data) ? (data as T[]) : [];
      all.push(...items);
      const link = headers.get("link");
      const hasNext = link !== null ? /rel="next"/.test(link) : items.length >= PAGE_LIMIT;
      if (!hasNext || items.length === 0) break;
    }
    return all;
  }

  async function labelId(label: string): Promise<number | undefined> {
    const labels = await pages<{ id: number; name: string }>(`reading labels`, `${repoPath}/labels`);
    return labels.find((l) => l.name.toLowerCase() === label.toLowerCase())?.id;
  }

  return {
    kind: "gitea",
    target,
    async listOpenIssues(label) {
      const issues = await pages<GiteaIssue>(
        "listing open issues",
        `${repoPath}/issues?state=open&type=issues&labels=${encodeURIComponent(label)}`,
      );
      const want = label.toLowerCase();
      // Older Gitea versions ignore an unknown label filter and list everything: check ourselves.
      return issues
        .filter((i) => !i.pull_request && (i.labels ?? []).some((l) => l.name.toLowerCase() === want))
        .map(toIssue)
        .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt) || a.number - b.number);
    },
    async createIssue(issue: NewIssue) {
      const id = await labelId(issue.label);
      if (id === undefined) throw new ForgeError(`${target}: label ${issue.label} does not exist`);
      const { data } = await request(
        "creating an issue",
        "POST",
        `${repoPath}/issues`,
        { title: issue.title, body: issue.body, labels: [id] },
        { retry: false, ok: [201] },
      );
      return toIssue(data as GiteaIssue);
    },
    async updateIssue(number, change) {
      // Gitea answers an edit with 201 Created.
      await request(`editing issue #${number}`, "PATCH", `${repoPath}/issues/${number}`, change, { ok: [200, 201] });
    },
    async comment(number, body) {
      await request(`commenting on issue #${number}`, "POST", `${repoPath}/issues/${number}/comments`, { body }, { ok: [201] });
    },
    async closeIssue(number) {
      await request(`closing issue #${number}`, "PATCH", `${repoPath}/issues/${number}`, { state: "closed" }, { ok: [200, 201] });
    },
    async ensureLabel(label) {
      if ((await labelId(label)) !== undefined) return;
      await request("creating label", "POST", `${repoPath}/labels`, {
        name: label,
        color: "#d73a4a",
        description: "lastbeat: a cron job is silent or failing",
      }, { ok: [201, 409, 422] });
    },
  };
}

/** Accepts the site root or the API base. */
export function apiBase(url: string): string {
  const trimmed = url.trim().replace(/\/+$/, "");
  return /\/api\/v1$/.test(trimmed) ? trimmed : `${trimmed}/api/v1`;
}

function toIssue(i: GiteaIssue): ForgeIssue {
  return {
    number: i.number,
    title: i.title,
    body: i.body ?? "",
    createdAt: i.created_at,
    url: i.html_url,
    labels: (i.labels ?? []).map((l) => l.name),
  };
}

function retryAfterSeconds(value: string | null): number | null {
  if (value === null) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const date = Date.parse(value);
  // An HTTP date: a relative wait is all we need (the answer's own Date is not trusted).
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function messageOf(text: string): string {
  const data = safeJson(text) as { message?: unknown } | null;
  const message = typeof data?.message === "string" ? data.message : text;
  return message.replace(/\s+/g, " ").trim().slice(0, 200);
}
