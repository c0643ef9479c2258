import { createHash } from "node:crypto";
import { STATUS_SEVERITY } from "lastbeat/internal";

/*
 * Hidden HTML comments that make an issue ours (docs/forges.md). The marker is the first line of
 * every body we write and names the issue's key and the checker's scope; job names are
 * URI-encoded inside it because names of broken files may hold anything, `-->` included.
 */

/** `rollup`, `storm` (per-job mode past --max-new-issues), or `job:<name>` in per-job mode. */
export type IssueKey = "rollup" | "storm" | `job:${string}`;

/**
 * A checker's scope: which checker an issue belongs to when many share one repository. The same
 * rule as job names, so it needs no escaping in markers or titles.
 */
export const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidScope(scope: string): boolean {
  return SCOPE_PATTERN.test(scope);
}

export function markerFor(key: IssueKey, scope: string): string {
  const name = key.startsWith("job:") ? `job:${encodeURIComponent(key.slice(4))}` : key;
  return `<!-- lastbeat:${name} scope=${scope} -->`;
}

export function jobKey(job: string): IssueKey {
  return `job:${job}`;
}

/** What the first marker line of a body says; `scope: null` for markers written before scopes. */
export interface MarkerInfo {
  key: IssueKey;
  scope: string | null;
}

const MARKER_LINE = /^<!-- lastbeat:(rollup|storm|job:(\S+))(?: scope=(\S+))? -->$/;

/**
 * The key and scope of the first marker line, or null when the body is not ours. Text from
 * heartbeats only appears after our own marker line, so a forged marker in an output tail is
 * never the first.
 */
export function markerOfBody(body: string): MarkerInfo | null {
  for (const line of body.split("\n")) {
    const m = MARKER_LINE.exec(line.trim());
    if (!m) continue;
    const scope = m[3] ?? null;
    if (scope !== null && !isValidScope(scope)) return null;
    if (m[1] === "rollup" || m[1] === "storm") return { key: m[1], scope };
    try {
      return { key: jobKey(decodeURIComponent(m[2]!)), scope };
    } catch {
      return null;
    }
  }
  return null;
}

/** The key of the first marker line, whatever its scope. */
export function keyOfBody(body: string): IssueKey | null {
  return markerOfBody(body)?.key ?? null;
}

/** What an issue last said about each alerting job: its status and since when it alerts. */
export type AlertSnapshot = Map<string, { status: string; since: string | null }>;

/**
 * The checker's memory, kept in the issue itself: the alerting jobs as last written, a
 * fingerprint of what a reader acts on (the set, each status and reason), and a hash of the
 * visible body (so a person's edit is noticed and restored). Jobs whose names did not fit are
 * kept by `nameHash` in `hashed` (the planner names them again from the scan); `forgotten`
 * counts jobs that did not fit even so.
 */
export interface IssueState {
  snapshot: AlertSnapshot;
  /** Jobs remembered only by `nameHash(job)`, keyed by that hash. */
  hashed: AlertSnapshot;
  fingerprint: string | null;
  bodyHash: string | null;
  forgotten: number;
}

/** The state line never takes more than this of the 65,536 characters a body may have. */
export const MAX_STATE_CHARS = 40_000;

const STATE_LINE = /^<!-- lastbeat:state (.*) -->$/;

/** Characters of `nameHash`: base 36, so 36^8 ≈ 2^41.4 values. */
export const NAME_HASH_CHARS = 8;
const HASHED_ENTRY = /^#[0-9a-z]{8}$/;

/**
 * A job's name in 8 base-36 characters (41 bits of SHA-256), for a marker that cannot hold the
 * name. A hash is only ever matched against the names of one checker's scan, so a false match
 * needs two of its own jobs to collide: about n²/2 / 36^8, one in 1.4 million for 2,000 jobs and
 * one in 14,000 for 20,000, and its cost is one job's alert start or status taken for another's
 * in a comment, never a lost alert (the scan, not the marker, says what alerts).
 */
export function nameHash(job: string): string {
  const n = createHash("sha256").update(job).digest().readUIntBE(0, 6) % 36 ** NAME_HASH_CHARS;
  return n.toString(36).padStart(NAME_HASH_CHARS, "0");
}

const severityRank = new Map<string, number>(STATUS_SEVERITY.map((status, index) => [status, index]));

/**
 * `<!-- lastbeat:state v3 fp=… h=… failed:htd4f=backup/htd4g=db;stale:htda9=invoice-sync,#k3j9x0ab +12 -->`:
 * jobs grouped by status, then by the minute their alert began (base 36, minutes since 1970; a
 * mass outage shares a few), each by its URI-encoded name, or `#` and its `nameHash` when the
 * names do not all fit `maxChars`; jobs that do not fit even so are counted in `+N`. Which jobs
 * keep their name, which a hash and which are counted depends only on the jobs, statuses and
 * minutes (worst status first, then by name), never on the order of the scan, so an unchanged
 * situation stores the same line.
 */
export function stateLine(state: Pick<IssueState, "snapshot" | "fingerprint" | "bodyHash">, maxChars = MAX_STATE_CHARS): string {
  const head = `<!-- lastbeat:state v3 fp=${state.fingerprint ?? "-"} h=${state.bodyHash ?? "-"}`;
  const tail = " -->";
  const entries = [...state.snapshot].map(([job, { status, since }]) => ({ job, status, since: sinceToken(since), name: encodeURIComponent(job) }));
  entries.sort((a, b) => rankOf(a.status) - rankOf(b.status) || cmp(a.status, b.status) || cmp(a.job, b.job));
  // First every job as cheaply as it can be kept (a hash, or a name shorter than one), then
  // names in place of hashes while they fit: as many jobs as possible, then as many names.
  const groups = new Map<string, Map<string, Array<{ job: string; text: string }>>>();
  let used = head.length + tail.length + 1 + 12; // " " before the groups, room for " +NNNNNNNNN"
  let forgotten = 0;
  const kept: Array<{ entry: { job: string; text: string }; name: string }> = [];
  for (const { job, status, since, name } of entries) {
    const text = name.length <= NAME_HASH_CHARS + 1 ? name : `#${nameHash(job)}`;
    const byStatus = groups.get(status);
    const bySince = byStatus?.get(since);
    const cost =
      text.length + (bySince ? 1 : since.length + 1 + (byStatus ? 1 : encodeURIComponent(status).length + 1 + (groups.size > 0 ? 1 : 0)));
    if (used + cost > maxChars) {
      forgotten += 1;
      continue;
    }
    used += cost;
    const entry = { job, text };
    if (bySince) bySince.push(entry);
    else if (byStatus) byStatus.set(since, [entry]);
    else groups.set(status, new Map([[since, [entry]]]));
    kept.push({ entry, name });
  }
  for (const { entry, name } of kept) {
    if (entry.text === name || used + name.length - entry.text.length > maxChars) continue;
    used += name.length - entry.text.length;
    entry.text = name;
  }
  const parts = [...groups].map(
    ([status, bySince]) => `${encodeURIComponent(status)}:${[...bySince].map(([since, list]) => `${since}=${list.map((e) => e.text).join(",")}`).join("/")}`,
  );
  const body = parts.length > 0 ? ` ${parts.join(";")}` : "";
  return `${head}${body}${forgotten > 0 ? ` +${forgotten}` : ""}${tail}`;
}

function rankOf(status: string): number {
  return severityRank.get(status) ?? STATUS_SEVERITY.length;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The state our last write left in the body, or null when a person removed it. */
export function stateOfBody(body: string): IssueState | null {
  for (const line of body.split("\n")) {
    const m = STATE_LINE.exec(line.trim());
    if (!m) continue;
    const text = m[1]!;
    return text.startsWith("v3 ") ? parseV3(text.slice(3)) : text.startsWith("v2 ") ? parseV2(text.slice(3)) : parseV1(text);
  }
  return null;
}

/** The snapshot of `stateOfBody`, or null. */
export function snapshotOfBody(body: string): AlertSnapshot | null {
  return stateOfBody(body)?.snapshot ?? null;
}

/**
 * The words of a v2 or v3 state line: `fp=`, `h=`, `+N`, and the jobs, grouped by status
 * (`stale:…;failed:…`). Each group's text after the status is read by `group`, which adds its
 * jobs to `state` and returns false when it is malformed; the line is then not ours (null).
 */
function parseWords(text: string, group: (state: IssueState, status: string, jobs: string) => boolean): IssueState | null {
  const state: IssueState = { snapshot: new Map(), hashed: new Map(), fingerprint: null, bodyHash: null, forgotten: 0 };
  for (const word of text.split(" ").filter(Boolean)) {
    if (word.startsWith("fp=")) state.fingerprint = word === "fp=-" ? null : word.slice(3);
    else if (word.startsWith("h=")) state.bodyHash = word === "h=-" ? null : word.slice(2);
    else if (/^\+\d+$/.test(word)) state.forgotten = Number(word.slice(1));
    else {
      for (const part of word.split(";")) {
        const colon = part.indexOf(":");
        if (colon <= 0) return null;
        try {
          if (!group(state, decodeURIComponent(part.slice(0, colon)), part.slice(colon + 1))) return null;
        } catch {
          return null;
        }
      }
    }
  }
  return state;
}

/** v3: `stale:htda9=invoice-sync,#k3j9x0ab/htdb0=…`, jobs by the minute their alert began, by name or `#hash`. */
function parseV3(text: string): IssueState | null {
  return parseWords(text, (state, status, jobs) => {
    for (const bySince of jobs.split("/")) {
      const eq = bySince.indexOf("=");
      if (eq <= 0) return false;
      const since = sinceOfToken(bySince.slice(0, eq));
      for (const entry of bySince.slice(eq + 1).split(",").filter(Boolean)) {
        if (HASHED_ENTRY.test(entry)) state.hashed.set(entry.slice(1), { status, since });
        else state.snapshot.set(decodeURIComponent(entry), { status, since });
      }
    }
    return true;
  });
}

/** The second format, `v2 fp=… h=… stale:backup@m1x2y3,db@-;failed:… +12`: read so issues open before an upgrade carry on. */
function parseV2(text: string): IssueState | null {
  return parseWords(text, (state, status, jobs) => {
    for (const entry of jobs.split(",").filter(Boolean)) {
      const at = entry.lastIndexOf("@");
      if (at <= 0) return false;
      state.snapshot.set(decodeURIComponent(entry.slice(0, at)), { status, since: sinceOfToken(entry.slice(at + 1)) });
    }
    return true;
  });
}

/** The first format: `job=status@ISO;…`, kept readable so issues open before an upgrade carry on. */
function parseV1(text: string): IssueState | null {
  const snapshot: AlertSnapshot = new Map();
  for (const part of text.split(";").filter(Boolean)) {
    const p = /^([^=]+)=([^@]+)@(\S+)$/.exec(part);
    if (!p) return null;
    try {
      const since = p[3] === "-" || Number.isNaN(Date.parse(p[3]!)) ? null : p[3]!;
      snapshot.set(decodeURIComponent(p[1]!), { status: decodeURIComponent(p[2]!), since });
    } catch {
      return null;
    }
  }
  return { snapshot, hashed: new Map(), fingerprint: null, bodyHash: null, forgotten: 0 };
}

function sinceToken(since: string | null): string {
  const ms = since === null ? NaN : Date.parse(since);
  return Number.isFinite(ms) ? Math.floor(ms / 60_000).toString(36) : "-";
}

function sinceOfToken(token: string): string | null {
  if (!/^[0-9a-z]{1,9}$/.test(token)) return null;
  const ms = Number.parseInt(token, 36) * 60_000;
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/**
 * `<!-- lastbeat:said <id> -->`, the last line of every change and closing comment: `<id>` names
 * the transition it announces, so a run can tell that the run before posted it and then failed to
 * make the edit or close (docs/forges.md, "Every change announced once").
 */
const SAID_LINE = /^<!-- lastbeat:said ([0-9a-f]{16}) -->$/;

/**
 * The id of a transition: from the state the issue's body records (its fingerprint, as read) to
 * the new fingerprint, or to `closed`. The same on every run until the body is edited, and
 * whatever token the checker holds (a GitHub App's lasts an hour).
 *
 * Anyone who can read the body can compute it: a said line counts only in a comment by the
 * issue's author, the checker's own account (`saidBefore` in sync.ts).
 */
export function saidId(from: IssueState | null, to: string): string {
  return shortHash(`said\n${from?.fingerprint ?? "-"}\n${to}`);
}

/** `comment` with the said line as its last line. */
export function withSaid(comment: string, id: string): string {
  return `${comment.trimEnd()}\n\n<!-- lastbeat:said ${id} -->\n`;
}

/** The transition a comment announced (its last line), or null when it is not one of ours. */
export function saidOfComment(body: string): string | null {
  const last = body.replace(/\r\n/g, "\n").trimEnd().split("\n").at(-1) ?? "";
  return SAID_LINE.exec(last.trim())?.[1] ?? null;
}

/** A short, stable hash for fingerprints and body hashes. */
export function shortHash(text: string): string {
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}
