import type { JobStatus } from "lastbeat";

/*
 * Hidden HTML comments that make an issue ours (SPEC §6). The marker is the first line of every
 * body we write; job names are URI-encoded inside it because names of broken files may hold
 * anything, `-->` included.
 */

export const ROLLUP_MARKER = "<!-- lastbeat:rollup -->";

/** `rollup`, or `job:<name>` in per-job mode. */
export type IssueKey = "rollup" | `job:${string}`;

export function markerFor(key: IssueKey): string {
  return key === "rollup" ? ROLLUP_MARKER : `<!-- lastbeat:job:${encodeURIComponent(key.slice(4))} -->`;
}

export function jobKey(job: string): IssueKey {
  return `job:${job}`;
}

const MARKER_LINE = /^<!-- lastbeat:(rollup|job:(\S+)) -->$/;
const STATE_LINE = /^<!-- lastbeat:state (.*) -->$/;

/**
 * The key of the first marker line, or null when the body is not ours. Text from heartbeats only
 * appears after our own marker line, so a forged marker in an output tail is never the first.
 */
export function keyOfBody(body: string): IssueKey | null {
  for (const line of body.split("\n")) {
    const m = MARKER_LINE.exec(line.trim());
    if (!m) continue;
    if (m[1] === "rollup") return "rollup";
    try {
      return jobKey(decodeURIComponent(m[2]!));
    } catch {
      return null;
    }
  }
  return null;
}

/** What an issue last said about each alerting job: its status and since when it alerts. */
export type AlertSnapshot = Map<string, { status: JobStatus | string; since: string | null }>;

export function stateLine(snapshot: AlertSnapshot): string {
  const parts = [...snapshot].map(
    ([job, { status, since }]) => `${encodeURIComponent(job)}=${encodeURIComponent(status)}@${since ?? "-"}`,
  );
  return `<!-- lastbeat:state ${parts.join(";")} -->`;
}

/** The snapshot our last write left in the body, or null when a person removed it. */
export function snapshotOfBody(body: string): AlertSnapshot | null {
  for (const line of body.split("\n")) {
    const m = STATE_LINE.exec(line.trim());
    if (!m) continue;
    const snapshot: AlertSnapshot = new Map();
    for (const part of m[1]!.split(";").filter(Boolean)) {
      const p = /^([^=]+)=([^@]+)@(\S+)$/.exec(part);
      if (!p) return null;
      try {
        const since = p[3] === "-" || Number.isNaN(Date.parse(p[3]!)) ? null : p[3]!;
        snapshot.set(decodeURIComponent(p[1]!), { status: decodeURIComponent(p[2]!), since });
      } catch {
        return null;
      }
    }
    return snapshot;
  }
  return null;
}
