/**
 * Keeps the **last** `limit` bytes of a command's combined stdout and stderr (the end of a log
 * says why it failed; the start rarely does), like runitor's ring buffer.
 */
export class OutputTail {
  readonly limit: number;
  #buffer: Buffer = Buffer.alloc(0);
  #total = 0;

  constructor(limit = 4096) {
    this.limit = limit;
  }

  push(chunk: Uint8Array): void {
    this.#total += chunk.length;
    if (chunk.length >= this.limit) {
      this.#buffer = Buffer.from(chunk.subarray(chunk.length - this.limit));
      return;
    }
    const joined = Buffer.concat([this.#buffer, chunk]);
    this.#buffer = joined.length > this.limit ? joined.subarray(joined.length - this.limit) : joined;
  }

  /** How many bytes went through in all. */
  get totalBytes(): number {
    return this.#total;
  }

  /** The kept bytes as text, starting at a whole UTF-8 character. */
  text(): string {
    let start = 0;
    // Skip continuation bytes (10xxxxxx) left over from a character cut by the window.
    while (start < this.#buffer.length && start < 4 && ((this.#buffer[start] ?? 0) & 0xc0) === 0x80) start++;
    return this.#buffer.subarray(start).toString("utf8");
  }
}
