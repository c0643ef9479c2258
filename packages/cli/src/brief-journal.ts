import { dirname, join } from "node:path";
import { LastbeatError, type JobState } from "lastbeat";
import { JOURNAL_FILE, errnoText, isCheckerJob, readJournal, redact, secretsIn } from "lastbeat/internal";
import type { JournalEntry } from "lastbeat/internal";
import type { Journal, JournalSource } from "@lastbeat/report";

/*
 * The checker's journal(s) for the brief: `heartbeat-checker.journal` beside each checker
 * heartbeat the scan found (one per folder when several hosts share a mount). A journal that
 * cannot be read is said in the brief, never a reason to print no brief.
 */

/** The journal beside each checker heartbeat among `states`, in scan order, each once. */
export function journalPaths(states: readonly JobState[]): string[] {
  const paths = states
    .filter((state) => state.file !== null && isCheckerJob(state.job))
    .map((state) => join(dirname(state.file!), JOURNAL_FILE));
  return [...new Set(paths)];
}

/** Reads each journal (bounded, by `readJournal`), with every token value cut out of its text. */
export async function readJournals(paths: readonly string[], env: Record<string, string | undefined>): Promise<Journal> {
  const sources: JournalSource[] = [];
  const entries: JournalEntry[] = [];
  const secrets = secretsIn(env);
  for (const path of paths) {
    const source: JournalSource = { path, state: "read", truncated: false, skippedLines: 0, bytes: 0 };
    sources.push(source);
    try {
      const read = await readJournal(path);
      // An empty journal and none at all read alike; the brief tells the two apart.
      if (!read.found) {
        source.state = "absent";
        continue;
      }
      Object.assign(source, { truncated: read.truncated, skippedLines: read.skippedLines, bytes: read.bytes });
      for (const entry of read.entries) entries.push(secrets.length === 0 ? entry : { ...entry, job: redact(entry.job, secrets), reason: redact(entry.reason, secrets) });
    } catch (error) {
      source.state = "unreadable";
      source.error = error instanceof LastbeatError ? error.message : `cannot read the journal ${path}: ${errnoText(error)}`;
    }
  }
  return { sources, entries };
}
