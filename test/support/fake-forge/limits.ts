import type { Reply } from "./routes.js";

/*
 * GitHub's secondary rate limits on content-creating requests (POST, PATCH, PUT, DELETE): at most
 * 80 a minute and 500 an hour. Past them GitHub answers 403 "You have exceeded a secondary rate
 * limit" with `retry-after`. Counted by the fake's own clock, so a test runs many checks "an hour
 * apart" without waiting.
 */

export const WRITES_PER_MINUTE = 80;
export const WRITES_PER_HOUR = 500;

export class WriteLimits {
  private readonly accepted: number[] = [];
  /** Requests refused for going past a limit: what a test asserts is zero. */
  refused = 0;

  constructor(private readonly clock: () => Date) {}

  /** The 403 to answer instead, or null when the write may go ahead (and is then counted). */
  check(method: string): Reply | null {
    if (method === "GET" || method === "HEAD") return null;
    const now = this.clock().getTime();
    const lastMinute = this.accepted.filter((t) => t > now - 60_000).length;
    const lastHour = this.accepted.filter((t) => t > now - 3_600_000).length;
    if (lastMinute >= WRITES_PER_MINUTE || lastHour >= WRITES_PER_HOUR) {
      this.refused += 1;
      return {
        status: 403,
        headers: { "retry-after": "60" },
        body: {
          message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
          documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
        },
      };
    }
    this.accepted.push(now);
    return null;
  }

  /** Writes accepted within the hour before `at`. */
  inHourBefore(at: Date): number {
    return this.accepted.filter((t) => t > at.getTime() - 3_600_000 && t <= at.getTime()).length;
  }
}
