/*
 * The checker's memory of the folders its patterns matched, `heartbeat-checker.folders` beside its
 * journal (docs/spec.md, "Folders"): a folder a pattern matched once is scanned until a person
 * retires it (`lastbeat retire 'folder:<dir>'`), so a share that disappears from the glob is an
 * alert, not a host whose jobs silently stop being counted. Only `check` writes it, under its lock;
 * `status`, `report` and `metrics` read it. Anyone who can write the heartbeat folder can plant or
 * edit the file, so it is read like a heartbeat: never through a symlink, never waiting on a FIFO,
 * never more than FOLDERS_MAX_BYTES, every entry checked before it is used.
 */
import type { AtomicFs } from "./atomic.js";
import { isAbsolutePath, readMemoryFile, writeMemoryFile } from "./checker-memory.js";
import type { FolderMemory } from "./dir.js";

/** The checker's memory of the folders its patterns matched, beside its journal. */
export const FOLDERS_FILE = "heartbeat-checker.folders";
/** The memory never grows past this: 1 MiB holds some 10,000 folders of 100 characters. */
export const FOLDERS_MAX_BYTES = 1024 * 1024;
const FORMAT = "lastbeat-folders/1";
const FILE = { what: "the checker's folder memory", format: FORMAT, key: "patterns", maxBytes: FOLDERS_MAX_BYTES };

export interface FolderMemoryRead {
  /** Per absolute glob pattern, the folders it matched, each once. Empty when none could be read. */
  memory: Map<string, string[]>;
  /** False when there is no file yet. */
  found: boolean;
  /** One line naming the file and what was wrong with it (left out, or not read at all); null when whole. */
  warning: string | null;
}

const isPath = isAbsolutePath;

/**
 * Reads the memory. Never throws: a missing file is an empty memory; a symlink, FIFO, folder,
 * file over 1 MiB or text that is not the memory is an empty memory with a warning; entries that
 * are not an absolute pattern with a list of absolute folders are left out, with a warning.
 */
export async function readFolderMemory(path: string): Promise<FolderMemoryRead> {
  const read = await readMemoryFile(path, FILE);
  const patterns = read.entries;
  if (patterns === null) return { memory: new Map(), found: read.found, warning: read.warning };
  const memory = new Map<string, string[]>();
  let skipped = 0;
  for (const [pattern, dirs] of Object.entries(patterns)) {
    if (!isPath(pattern) || !Array.isArray(dirs)) {
      skipped++;
      continue;
    }
    const kept = new Set<string>();
    for (const dir of dirs) {
      if (isPath(dir)) kept.add(dir);
      else skipped++;
    }
    memory.set(pattern, [...kept].sort());
  }
  const warning = skipped === 0 ? null : `the checker's folder memory ${path} had ${skipped} ${skipped === 1 ? "entry" : "entries"} that ${skipped === 1 ? "is" : "are"} not an absolute path: left out`;
  return { memory, found: true, warning };
}

/**
 * `memory` with the folders each pattern matches now added (nothing is ever dropped here: only a
 * person forgets a folder), and whether anything was added.
 */
export function rememberFolders(memory: FolderMemory, matched: ReadonlyMap<string, readonly string[]>): { memory: Map<string, string[]>; changed: boolean } {
  const out = new Map<string, string[]>([...memory].map(([pattern, dirs]) => [pattern, [...dirs]]));
  let changed = false;
  for (const [pattern, dirs] of matched) {
    const known = new Set(out.get(pattern) ?? []);
    const added = dirs.filter((dir) => isPath(dir) && !known.has(dir));
    if (added.length === 0) continue;
    out.set(pattern, [...known, ...added].sort());
    changed = true;
  }
  return { memory: out, changed };
}

/** `memory` without `dir`, and the patterns it was remembered under (none: it was not remembered). */
export function forgetFolder(memory: FolderMemory, dir: string): { memory: Map<string, string[]>; patterns: string[] } {
  const out = new Map<string, string[]>();
  const patterns: string[] = [];
  for (const [pattern, dirs] of memory) {
    const kept = dirs.filter((d) => d !== dir);
    if (kept.length < dirs.length) patterns.push(pattern);
    if (kept.length > 0) out.set(pattern, kept);
  }
  return { memory: out, patterns };
}

/** The file's text: one JSON object, patterns and folders sorted, one folder a line. */
export function folderMemoryText(memory: FolderMemory): string {
  const patterns: Record<string, string[]> = {};
  for (const pattern of [...memory.keys()].sort()) patterns[pattern] = [...(memory.get(pattern) ?? [])];
  return `${JSON.stringify({ format: FORMAT, patterns }, null, 2)}\n`;
}

/**
 * Replaces the memory atomically (temp file, fsync, rename; never through a symlink). Throws an
 * Error naming the file when it cannot be written, or when the memory would pass its cap
 * (FOLDERS_MAX_BYTES): the file is then left as it was, so nothing remembered is lost.
 */
export async function writeFolderMemory(path: string, memory: FolderMemory, options: { maxBytes?: number; fs?: AtomicFs } = {}): Promise<void> {
  const overCap = "the folders matched for the first time are not remembered (retire folders that are gone for good)";
  await writeMemoryFile(path, folderMemoryText(memory), { ...FILE, overCap }, options);
}
