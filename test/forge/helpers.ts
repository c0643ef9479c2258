import Bottleneck from "bottleneck";
import { expect } from "vitest";
import { ForgeError, createFileForge, createGiteaForge, createGitHubForge, createGitLabForge, type Forge } from "@lastbeat/forge";
import { evaluate, type Heartbeat, type JobState } from "lastbeat";
import type { FakeForge, Flavor } from "../support/fake-forge.js";

export const NOW = new Date("2025-03-10T12:00:00Z");
export const HOUR = 3600_000;

export function at(hoursFromNow: number): Date {
  return new Date(NOW.getTime() + hoursFromNow * HOUR);
}

/** A job state as `scanHeartbeats` would return it, from a heartbeat evaluated at `now`. */
export function state(job: string, beat: Omit<Partial<Heartbeat>, "at"> & { at: Date | string }, now: Date = NOW): JobState {
  const heartbeat: Heartbeat = {
    format: "lastbeat/1",
    job,
    status: "ok",
    interval_s: 3600,
    ...beat,
    at: typeof beat.at === "string" ? beat.at : beat.at.toISOString(),
  };
  return evaluate(heartbeat, undefined, now, { file: `/var/run/lastbeat/heartbeats/${job}.last` });
}

export const healthy = (job: string, now: Date = NOW) => state(job, { at: new Date(now.getTime() - 10 * 60_000) }, now);
/** Last beat 5 h before `now` with a 1 h interval: stale since 3 h. */
export const stale = (job: string, now: Date = NOW) => state(job, { at: new Date(now.getTime() - 5 * HOUR) }, now);
export const failed = (job: string, now: Date = NOW, extra: Partial<Heartbeat> = {}) =>
  state(job, { at: new Date(now.getTime() - 20 * 60_000), status: "fail", exit_code: 2, message: "disk full", ...extra }, now);

/** Tiny waits and no write spacing, so tests never sleep for real. */
export function fastThrottle(): Record<string, unknown> {
  const group = () => new Bottleneck.Group({ maxConcurrent: 10, minTime: 0 });
  return { global: group(), auth: group(), search: group(), write: group(), notifications: group(), retryLimiter: new Bottleneck() };
}

export async function forgeFor(fake: FakeForge, extra: { timeoutMs?: number; retries?: number } = {}): Promise<Forge> {
  return forgeAt(fake.flavor, { url: fake.url, repo: fake.repo, token: fake.token }, extra);
}

/** The adapter of `flavor` at any URL with any token (a closed port, a wrong token), never sleeping. */
export async function forgeAt(
  flavor: Flavor,
  at: { url: string; repo: string; token: string },
  extra: { timeoutMs?: number; retries?: number } = {},
): Promise<Forge> {
  const { url, repo, token } = at;
  switch (flavor) {
    case "github":
      return createGitHubForge({ repo, token, baseUrl: url, retryBaseMs: 1, throttle: fastThrottle(), ...extra });
    case "gitea":
      return createGiteaForge({ repo, token, url, retryBaseMs: 1, sleep: async () => {}, ...extra });
    case "gitlab":
      return createGitLabForge({ repo, token, url, retryBaseMs: 1, sleep: async () => {}, ...extra });
  }
}

/** The forges with an HTTP API, for the tests that run on each of them. */
export const HTTP_FORGES = ["github", "gitea", "gitlab"] as const satisfies readonly Flavor[];

export function fileForge(dir: string, now: () => Date = () => NOW): Forge {
  return createFileForge({ dir, now });
}

/** The scope the tests' checker runs with (the host name by default). */
export const SCOPE = "web-1";

/** The ForgeError `promise` rejects with (a sync, a request); fails the test when it does not reject with one. */
export async function failure(promise: Promise<unknown>): Promise<ForgeError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ForgeError);
    return error as ForgeError;
  }
  throw new Error("expected the sync to fail");
}

/**
 * The two jobs of the lifecycle and said-once suites: fixed beats, evaluated at later and later
 * times, so the situation only changes when a test says so. `minutes(n)` is NOW + n minutes.
 */
export const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);
export const backupStale = (now: Date) => state("backup", { at: at(-5) }, now);
export const backupOk = (now: Date) => state("backup", { at: new Date(now.getTime() - 60_000) }, now);
export const dbOk = (now: Date) => state("db-dump", { at: new Date(now.getTime() - 60_000) }, now);
export const dbFailed = (now: Date) => state("db-dump", { at: minutes(20), status: "fail", exit_code: 1, message: "pg_dump: connection refused" }, now);
