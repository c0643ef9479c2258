import { errnoText, writeFileAtomically } from "lastbeat/internal";
import { UsageError } from "./errors.js";

/**
 * `--out <file>` of `report` and `metrics`: temp file in the same folder, fsync, rename, so a
 * web server or node_exporter never reads half a brief or half an exposition. A file that cannot
 * be written is a configuration error naming the file and the reason (ENOSPC, EACCES, …).
 */
export async function writeOut(path: string, text: string | AsyncIterable<string>): Promise<void> {
  try {
    await writeFileAtomically(path, text);
  } catch (error) {
    throw new UsageError(`cannot write --out ${path}: ${errnoText(error)}`, { cause: error });
  }
}
