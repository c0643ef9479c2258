import type { Reply } from "./routes.js";
import type { Flavor } from "./state.js";

/*
 * Injected faults: a status instead of the answer, the answer lost after the write happened, a
 * dropped connection, a slow answer, GitHub's primary and secondary rate limits.
 */

export interface Fault {
  method?: string;
  /** Matched against the logged path. */
  path?: RegExp;
  /** How many matching requests it applies to (default 1). */
  times?: number;
  /** Answer with this status instead of handling the request. */
  status?: number;
  /** Handle the request (the write happens), then answer `status` or drop: the lost answer. */
  afterHandling?: boolean;
  /** Close the connection without an answer. */
  drop?: boolean;
  /** `retry-after` seconds on the answer. */
  retryAfter?: number;
  /**
   * GitHub's rate-limit answers: a 403 "secondary rate limit" message, or remaining 0. On GitLab,
   * "primary" is its 429 "Retry later" with the `RateLimit-*` headers, `RateLimit-Reset`
   * `retryAfter` seconds ahead; GitLab also sends `Retry-After`, left out here so that the
   * `RateLimit-Reset` path is the one tested.
   */
  rateLimit?: "secondary" | "primary";
  /** Hold the answer this long (a slow server). */
  delayMs?: number;
}

export class FaultQueue {
  private readonly pending: Array<Fault & { left: number }> = [];

  add(fault: Fault): void {
    this.pending.push({ ...fault, left: fault.times ?? 1 });
  }

  /** The first fault matching this request, counted as used. */
  take(method: string, path: string): Fault | undefined {
    const index = this.pending.findIndex((f) => (!f.method || f.method === method) && (!f.path || f.path.test(path)));
    if (index < 0) return undefined;
    const fault = this.pending[index]!;
    fault.left -= 1;
    if (fault.left <= 0) this.pending.splice(index, 1);
    return fault;
  }
}

/** Whether the fault replaces the answer (rather than only delaying or dropping it). */
export function answersInstead(fault: Fault): boolean {
  return Boolean(fault.status || fault.rateLimit);
}

export function faultReply(fault: Fault, flavor: Flavor): Reply {
  const headers: Record<string, string> = {};
  if (flavor === "gitlab" && fault.rateLimit === "primary") {
    // GitLab's throttle answer (Rack::Attack): plain text, the window's end as a Unix time.
    const reset = Math.floor(Date.now() / 1000) + (fault.retryAfter ?? 60);
    return {
      status: fault.status ?? 429,
      headers: { "ratelimit-name": "throttle_authenticated_api", "ratelimit-limit": "2000", "ratelimit-observed": "2001", "ratelimit-remaining": "0", "ratelimit-reset": String(reset), "ratelimit-resettime": new Date(reset * 1000).toUTCString() },
      text: "Retry later\n",
    };
  }
  if (fault.retryAfter !== undefined) headers["retry-after"] = String(fault.retryAfter);
  if (fault.rateLimit === "secondary") {
    return {
      status: fault.status ?? 403,
      headers,
      body: { message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", documentation_url: "https://docs.github.com/rest" },
    };
  }
  if (fault.rateLimit === "primary") {
    headers["x-ratelimit-remaining"] = "0";
    headers["x-ratelimit-limit"] = "5000";
    headers["x-ratelimit-reset"] = String(Math.floor(Date.now() / 1000) + 1);
    return { status: fault.status ?? 429, headers, body: { message: "API rate limit exceeded", documentation_url: "https://docs.github.com/rest" } };
  }
  return { status: fault.status ?? 500, headers, body: { message: `injected ${fault.status ?? 500}` } };
}
