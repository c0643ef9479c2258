import { basename, dirname } from "node:path";
import { isUnbeaten } from "./evaluate.js";
import { isValidJobName } from "./job-name.js";
import type { JobState } from "./types.js";

/*
 * Disappearance is not recovery (docs/spec.md, "Alert issues"): a job remembered as alerting whose
 * heartbeat file is gone, and which nobody retired, stays alerting as `missing`, "heartbeat file
 * removed", until it beats again. `check` remembers through its open issues, the brief through the
 * checker's journal; both apply this one rule.
 */

/** Why a job alerts after its heartbeat file vanished (a reboot cleared the folder, a person deleted it). */
export const REMOVED_REASON = "heartbeat file removed";

/**
 * Whether a name a scan gives is a pseudo-job: a folder (`folder:<dir>`) or a crontab line
 * (`crontab:<file>:<line>`, `cron:<file>:<line>`) that alerts, not a heartbeat file. Job names
 * hold no `:`. A pseudo-job that leaves the scan has recovered: the folder is back (or retired),
 * the line fixed.
 */
export function isPseudoJob(job: string): boolean {
  return /^(?:folder|crontab|cron):/.test(job);
}

/**
 * A name as a scan gives it, split: `backup@/mnt/host-a/hb` (a job found in several folders) is the
 * job `backup` of that folder; a plain name has no folder. Job names hold no `@`.
 */
export function jobAndFolder(name: string): { job: string; folder: string | null } {
  const at = name.indexOf("@");
  return at > 0 ? { job: name.slice(0, at), folder: name.slice(at + 1) } : { job: name, folder: null };
}

/** The folder of a name qualified by one, or null for a plain name or a pseudo-job. */
export function folderOfJob(job: string): string | null {
  return isPseudoJob(job) ? null : jobAndFolder(job).folder;
}

/**
 * Every name the scanned jobs were or may have been known by. A scan of several folders names a
 * job found in more than one of them `<job>@<folder>`, and the plain `<job>` again once it is left
 * in one: the same file, so the alert remembered under the other name is not a vanished file.
 */
export function presentNames(states: readonly JobState[]): Set<string> {
  const names = new Set<string>();
  for (const { job, file } of states) {
    names.add(job);
    if (file === null || !file.endsWith(".last")) continue;
    const stem = basename(file).slice(0, -".last".length);
    names.add(stem);
    names.add(`${stem}@${dirname(file)}`);
  }
  return names;
}

/**
 * The remembered alerting jobs (name → since when they alert, as remembered) that vanished: not
 * among `states` by any name, not pseudo-jobs ({@link isPseudoJob}: one that left the scan has
 * recovered), not files whose name is no job's (`backup copy.last` was invalid for its name;
 * deleting it is the fix, and no beat or `retire` could ever clear it), and not in `retired`.
 * `retired` may be a function, asked only about the vanished ones.
 */
export function vanishedJobNames(
  states: readonly JobState[],
  remembered: Iterable<string>,
  retired: ReadonlySet<string> | ((job: string) => boolean),
): string[] {
  const isRetired = typeof retired === "function" ? retired : (job: string) => retired.has(job);
  let present: Set<string> | undefined;
  const out: string[] = [];
  for (const job of remembered) {
    if (isPseudoJob(job)) continue;
    if (!isValidJobName(jobAndFolder(job).job)) continue;
    present ??= presentNames(states);
    if (present.has(job) || isRetired(job)) continue;
    out.push(job);
  }
  return out;
}

/**
 * A declared job remembered as alerting that now waits for a first run (no heartbeat file: a
 * reboot emptied its folder and the checker's memory with it, or the memory was lost) stays
 * alerting as `missing` until it beats, never "recovered". Its reason is the same on every run
 * and whatever it alerted as before (a job that never beat, or one whose file is gone): the
 * alert goes on, its next run is what clears it. `check` remembers through its open issues, the
 * brief through the journal. Any other state is returned as it is.
 */
export function keptAlerting(state: JobState, rememberedStatus: string | undefined, since: Date | null): JobState {
  if (rememberedStatus === undefined || !isUnbeaten(state)) return state;
  const next = state.dueAt === null ? "" : `; its next run is due ${state.dueAt.toISOString()}`;
  return { ...state, status: "missing", alerting: true, reason: `${KEPT_REASON}${next}`, alertingSince: since };
}

/** Why a job alerting before still alerts while it waits for a run (see keptAlerting). */
export const KEPT_REASON = "no heartbeat file since it began alerting";

/** The state of a job whose heartbeat file vanished while it alerted. */
export function vanishedState(job: string, alertingSince: Date | null): JobState {
  return {
    job,
    status: "missing",
    alerting: true,
    reason: REMOVED_REASON,
    lastBeatAt: null,
    lastOkAt: null,
    ageSeconds: null,
    intervalSeconds: null,
    ratio: null,
    dueAt: null,
    graceEndAt: null,
    alertingSince: alertingSince !== null && Number.isFinite(alertingSince.getTime()) ? alertingSince : null,
    file: null,
    heartbeat: null,
  };
}

/**
 * `states` plus a `missing` state for each remembered alerting job that vanished
 * ({@link vanishedJobNames}). `remembered`: job → since when it alerts (null when unknown).
 */
export function withVanished(
  states: readonly JobState[],
  remembered: ReadonlyMap<string, Date | null>,
  retired: ReadonlySet<string> | ((job: string) => boolean),
): JobState[] {
  const vanished = vanishedJobNames(states, remembered.keys(), retired).map((job) => vanishedState(job, remembered.get(job) ?? null));
  return vanished.length === 0 ? [...states] : [...states, ...vanished];
}
