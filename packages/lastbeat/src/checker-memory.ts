/*
 * What the checker's memory files share (`heartbeat-checker.folders`, `heartbeat-checker.declared`,
 * beside its journal): only `check` writes them, under its lock; every reader reads them. Anyone
 * who can write the heartbeat folder can plant or edit one, so each is read like a heartbeat:
 * never through a symlink, never waiting on a FIFO, never more than its cap, its shape checked
 * before anything in it is used; and replaced atomically, never grown past its cap.
 */
import { isAbsolute } from "node:path";
import { writeFileAtomically } from "./atomic.js";
import type { AtomicFs } from "./atomic.js";
import { errnoText } from "./errors.js";
import { readBoundedFile } from "./read.js";

/** Longest path kept: longer is no file Linux can open (PATH_MAX). */
const MAX_PATH_CHARS = 4096;
const NOT_IN_PATH = /[\u0000-\u001F\u007F]/;

/** An absolute path Linux could open, without control characters. */
export const isAbsolutePath = (value: unknown): value is string =>
  typeof value === "string" && value.length > 0 && value.length <= MAX_PATH_CHARS && isAbsolute(value) && !NOT_IN_PATH.test(value);

/** How a memory file is named in messages, what it holds and how large it may grow. */
export interface MemoryFile {
  /** `the checker's folder memory`. */
  what: string;
  /** The value of its `format` key. */
  format: string;
  /** The key of its one object of entries (`patterns`, `jobs`). */
  key: string;
  maxBytes: number;
}

/**
 * The entries object of a memory file (and the whole object, `top`). Never throws: no file is `found: false`; a symlink, FIFO,
 * folder, file over the cap or text that is not the memory is no entries, with a warning naming
 * the file. The entries themselves are the caller's to check.
 */
export async function readMemoryFile(
  path: string,
  file: MemoryFile,
): Promise<{ entries: Record<string, unknown> | null; top: Record<string, unknown> | null; found: boolean; warning: string | null }> {
  const read = await readBoundedFile(path, file.maxBytes);
  if (!read.ok) {
    if (read.code === "ENOENT") return { entries: null, top: null, found: false, warning: null };
    const why = read.reason === "too large" ? `is larger than ${file.maxBytes} bytes` : read.reason;
    return { entries: null, top: null, found: true, warning: `${file.what} ${path} ${why}: not used` };
  }
  let data: unknown;
  try {
    data = JSON.parse(read.text);
  } catch {
    data = null;
  }
  const entries = typeof data === "object" && data !== null ? (data as Record<string, unknown>)[file.key] : undefined;
  if ((data as Record<string, unknown> | null)?.format !== file.format || typeof entries !== "object" || entries === null || Array.isArray(entries)) {
    return { entries: null, top: null, found: true, warning: `${file.what} ${path} is not ${file.format} JSON: not used` };
  }
  return { entries: entries as Record<string, unknown>, top: data as Record<string, unknown>, found: true, warning: null };
}

/**
 * Replaces a memory file with `text` atomically (temp file, fsync, rename; never through a
 * symlink). Throws an Error naming the file when it cannot be written, or when `text` would pass
 * the cap (`overCap` says what is then not remembered): the file is left as it was.
 */
export async function writeMemoryFile(path: string, text: string, file: MemoryFile & { overCap: string }, options: { maxBytes?: number; fs?: AtomicFs } = {}): Promise<void> {
  const maxBytes = options.maxBytes ?? file.maxBytes;
  const bytes = Buffer.byteLength(text);
  if (bytes > maxBytes) throw new Error(`${file.what} ${path} would be ${bytes} bytes, over its cap of ${maxBytes}: ${file.overCap}`);
  try {
    await writeFileAtomically(path, text, 0o644, options.fs);
  } catch (error) {
    throw new Error(`cannot write ${file.what} ${path}: ${errnoText(error)}`, { cause: error });
  }
}
