import type { Journal } from "@lastbeat/report";
import { parseJournalLine, type JournalEntry } from "lastbeat/internal";

/**
 * A journal as the checker writes it (one JSON object a line), read by the library's own line
 * parser, so these fixtures are in the file format and not in a shape only the tests know.
 */
export function journalEntries(lines: string): JournalEntry[] {
  return lines
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .map((line) => {
      const entry = parseJournalLine(line);
      if (entry === null) throw new Error(`not a journal line: ${line}`);
      return entry;
    });
}

/** One whole journal read from `heartbeat-checker.journal` beside the checker's heartbeat. */
export function journalOf(lines: string, source: Partial<Journal["sources"][number]> = {}): Journal {
  return {
    sources: [{ path: "/var/run/lastbeat/heartbeats/heartbeat-checker.journal", state: "read", truncated: false, skippedLines: 0, bytes: lines.length, ...source }],
    entries: journalEntries(lines),
  };
}

/** `{"at":…,"job":…,"from":…,"to":…,"reason":…}`: one journal line. */
export function line(at: string, job: string, from: string | null, to: string, reason = ""): string {
  return JSON.stringify({ at, job, from, to, reason });
}
