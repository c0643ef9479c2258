import { constants } from "node:fs";
import { link, lstat, open, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/** The file-system calls the atomic write makes; tests inject failures here. */
export interface AtomicFs {
  open: typeof open;
  rename: typeof rename;
  unlink: typeof unlink;
  /** Used by `exclusive` writes only. */
  link?: typeof link;
}

export interface AtomicWriteOptions {
  /**
   * Create `file` only if it does not exist yet: the complete temp file is linked into place
   * (link(2) fails with EEXIST when the name is taken), so nobody ever sees it half-written and
   * two writers racing for one name cannot both win. Lock files and new issue files use it.
   */
  exclusive?: boolean;
  /**
   * Where the temp name's 16 hex digits come from (default: the system's random source). Tests
   * inject a known one to plant a file or link at the temp name, which O_EXCL must refuse.
   */
  tempSuffix?: () => string;
}

/**
 * Loaded on the first write, not with the module: node:crypto costs a few milliseconds to load,
 * and the readers (status, check, report, metrics) that share this chunk of the CLI never write a beat.
 */
let randomBytes: typeof import("node:crypto").randomBytes | undefined;
const randomSuffix = async () => (randomBytes ??= (await import("node:crypto")).randomBytes)(8).toString("hex");

const realFs: AtomicFs = { open, rename, unlink };

let processUmask: number | undefined;
/** Read once: the umask is per process and a cron job does not change it mid-run. */
function umask(): number {
  try {
    return (processUmask ??= process.umask());
  } catch {
    return 0o777; // worker threads cannot read it: always chmod
  }
}

/**
 * Replaces `file` atomically: a new temp file in the same folder (O_EXCL | O_NOFOLLOW, so a link
 * planted at the temp name is never followed; hidden and ending in `.tmp`, so a reader never takes
 * it for a job) → write → fsync → rename over `file`. Readers see
 * the old content or the new, never a torn file. On any failure the temp file is removed.
 * With `{ exclusive: true }` it creates `file` instead, failing with EEXIST when it exists.
 * `data` may come in pieces (an async iterable of strings): a file rewritten from a larger one
 * (the checker's journal, trimmed) is streamed through, never held whole.
 *
 * Written by hand rather than with write-file-atomic, whose predictable temp name is opened with
 * plain "w" (following a planted symlink) and which resolves `file` through symlinks: both unsafe
 * for root's cron jobs in a shared folder (docs/spec.md, "Folders").
 */
export async function writeFileAtomically(
  file: string,
  data: string | AsyncIterable<string>,
  mode = 0o644,
  fs: AtomicFs = realFs,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const suffix = options.tempSuffix ? options.tempSuffix() : await randomSuffix();
  const temp = join(dirname(file), `.${basename(file)}.${suffix}.tmp`);
  const handle = await fs.open(
    temp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    mode,
  );
  let renamed = false;
  try {
    try {
      if (typeof data === "string") await handle.writeFile(data, "utf8");
      else for await (const piece of data) await handle.writeFile(piece, "utf8"); // each from where the last ended
      if ((mode & umask()) !== 0) await handle.chmod(mode); // the umask narrowed the mode given to open()
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.exclusive) {
      await (fs.link ?? link)(temp, file); // the temp name is removed below either way
    } else {
      await fs.rename(temp, file);
      renamed = true;
    }
  } finally {
    if (!renamed) await fs.unlink(temp).catch(() => {});
  }
}

/** A temp file this old is no writer's any more: a write of even a fleet's metrics takes seconds. */
const STALE_TEMP_MS = 60 * 60 * 1000;
/** What follows `.<name>.` in writeFileAtomically's temp names: 16 hex digits and `.tmp`. */
const TEMP_TAIL = /^[0-9a-f]{16}\.tmp$/;

/**
 * Removes the temp files writeFileAtomically left beside `file` when its process was killed
 * mid-write (out of memory, a reboot): `.<name>.<16 hex digits>.tmp`, regular files of this user
 * untouched for `olderThanMs`. A temp of a write under way is fresh and stays; links, other users'
 * files and anything that cannot be removed stay too. Never throws.
 */
export async function removeStaleTemps(file: string, now: number, olderThanMs = STALE_TEMP_MS): Promise<void> {
  const dir = dirname(file);
  const prefix = `.${basename(file)}.`;
  const uid = process.getuid?.();
  // A folder that cannot be listed has nothing this can remove.
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !TEMP_TAIL.test(name.slice(prefix.length))) continue;
    const path = join(dir, name);
    try {
      const info = await lstat(path);
      if (!info.isFile() || (uid !== undefined && info.uid !== uid) || now - info.mtimeMs < olderThanMs) continue;
      await unlink(path);
    } catch {
      // gone already, or not ours to remove: left as it is
    }
  }
}
