import { errnoText, removeStaleTemps, secretsIn, writeFileAtomically } from "lastbeat/internal";
import { UsageError } from "./errors.js";
import type { CliIo } from "./io.js";

/**
 * `--out <file>` of `report` and `metrics`: temp file in the same folder, fsync, rename, so a
 * web server or node_exporter never reads half a brief or half an exposition. A file that cannot
 * be written is a configuration error naming the file and the reason (ENOSPC, EACCES, …).
 */
async function writeOut(path: string, text: string | AsyncIterable<string>): Promise<void> {
  // A run killed mid-write (out of memory, a reboot) left its temp file: a fleet's metrics is
  // ~100 MB, written every minute into node_exporter's folder. Removed before this run writes, so
  // runs that keep dying, or a disk those files filled, do not keep them forever (never throws).
  await removeStaleTemps(path, Date.now());
  try {
    await writeFileAtomically(path, text);
  } catch (error) {
    // The file system's refusal (an error from a system call) is the user's to fix; anything else,
    // such as the text failing to build while it is written, is a bug and reported as one.
    if (typeof (error as NodeJS.ErrnoException).syscall !== "string") throw error;
    throw new UsageError(`cannot write --out ${path}: ${errnoText(error)}`, { cause: error });
  }
}

/**
 * Writes `parts`, in order, to stdout (waiting for a slow reader) or atomically to `out`: joined
 * into pieces of about 256 KiB, each part let go of once joined, so a fleet's metrics or JSON
 * brief is never also one string.
 *
 * Stdout's token redaction (cli.ts) sees one write at a time. The parts of the metrics and the
 * JSON meet at a line break with indentation or at a sample's end and a line break, so a token cut
 * in two by a piece's end would have to hold white space: with such a token set, stdout gets one
 * piece. (A file written with --out holds what the readers redacted; it has no second pass.)
 */
export async function writeParts(io: CliIo, out: string | undefined, parts: Iterable<string>): Promise<void> {
  if (out !== undefined) {
    await writeOut(out, asAsync(inPieces(parts)));
    return;
  }
  if (secretsIn(io.env).some((secret) => /\s/.test(secret))) parts = [[...parts].join("")];
  for (const piece of inPieces(parts)) if (io.stdout.write(piece) === false) await io.stdout.drained?.();
}

export function* inPieces(parts: Iterable<string>): Generator<string> {
  const list = Array.isArray(parts) ? (parts as string[]) : null;
  let piece: string[] = [];
  let length = 0;
  let i = 0;
  for (const part of parts) {
    if (list !== null) list[i++] = ""; // what is joined need not stay in the caller's array
    piece.push(part);
    length += part.length;
    if (length >= PIECE_CHARS) {
      yield piece.join("");
      piece = [];
      length = 0;
    }
  }
  if (piece.length > 0) yield piece.join("");
}

export const PIECE_CHARS = 1 << 18;

async function* asAsync(pieces: Iterable<string>): AsyncGenerator<string> {
  yield* pieces;
}
