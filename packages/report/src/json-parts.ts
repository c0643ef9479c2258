import { jobRowsJsonText } from "lastbeat/internal";

/**
 * `JSON.stringify(document, null, 2)` and a newline, for a `document` whose top-level `jobs` is
 * `states.map(row)`, in pieces: the text around the rows, then the rows 100 at a time, each
 * built only when its piece is asked for. `head` is the document with `jobs: []` where the rows go.
 *
 * The report's JSON carries each job's past runs: 100,000 jobs of 20 runs are ~350 MB of text,
 * and near 150,000 one string of it would pass V8's longest (~512 MiB) and crash the report.
 */
export function* jsonWithJobs<S>(head: { readonly [key: string]: unknown; jobs: readonly never[] }, states: readonly S[], row: (state: S) => object): Generator<string> {
  const whole = JSON.stringify(head, null, 2);
  // Only top-level keys follow a newline and two spaces (deeper ones more; a string's own line
  // breaks are escaped): this is the one place for the rows.
  const at = whole.indexOf(EMPTY_JOBS);
  if (at < 0) throw new Error("jsonWithJobs: the document has no top-level jobs: []");
  const before = whole.slice(0, at + EMPTY_JOBS.length - 1);
  const after = whole.slice(at + EMPTY_JOBS.length);
  if (states.length === 0) {
    yield `${before}]${after}\n`;
    return;
  }
  yield `${before}\n`;
  for (let start = 0; start < states.length; start += ROWS_PER_PIECE) {
    const text = jobRowsJsonText(states.slice(start, start + ROWS_PER_PIECE).map(row));
    yield start > 0 ? `,\n${text}` : text;
  }
  yield `\n  ]${after}\n`;
}

const EMPTY_JOBS = '\n  "jobs": []';
/**
 * Pieces stay small enough for V8's young generation (a string over ~128 KiB is allocated where
 * only a full collection frees it): 100,000 jobs of 20 runs peaked at 1.7 GB with 1,000 rows a
 * piece, 1.0 GB with 100.
 */
const ROWS_PER_PIECE = 100;
