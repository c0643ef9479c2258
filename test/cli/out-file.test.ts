import { chown, lutimes, readdir, readFile, symlink, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PIECE_CHARS, inPieces, writeParts } from "../../packages/cli/src/out-file.js";
import type { CliIo } from "../../packages/cli/src/io.js";
import { testdir } from "../support/testdir.js";

/** A CliIo whose stdout records each write and each wait for a drain; `full` says when write() returns false. */
function recordingIo(env: Record<string, string> = {}, full: (write: number) => boolean = () => false) {
  const writes: string[] = [];
  let waits = 0;
  const io: CliIo = {
    stdout: {
      write: (chunk: string) => {
        writes.push(chunk);
        return !full(writes.length);
      },
      drained: async () => {
        waits++;
      },
    },
    stderr: { write: () => true },
    env,
    cwd: "/",
    now: () => new Date(0),
  };
  return { io, writes, waits: () => waits };
}

const third = Math.ceil(PIECE_CHARS / 3);
/** Ten parts of a third of a piece each, told apart by their letter. */
const parts = () => Array.from({ length: 10 }, (_, i) => String.fromCharCode(97 + i).repeat(third));

describe("writing output in pieces", () => {
  it("joins parts into pieces of at least PIECE_CHARS (the last may be shorter), in order, none empty", () => {
    const list = parts();
    const whole = list.join("");
    const pieces = [...inPieces(list)];
    expect(pieces.join("")).toBe(whole);
    expect(pieces.map((piece) => piece.length)).toEqual([3 * third, 3 * third, 3 * third, third]);
    // Each part is let go of once joined: the caller's array no longer holds the text.
    expect(list.every((part) => part === "")).toBe(true);
    // A piece ends as soon as it reaches PIECE_CHARS.
    const half = "h".repeat(PIECE_CHARS / 2);
    expect([...inPieces([half, half, half, half])].map((piece) => piece.length)).toEqual([PIECE_CHARS, PIECE_CHARS]);
    expect([...inPieces([])]).toEqual([]);
    expect([...inPieces(["a", "", "b"])]).toEqual(["ab"]);
  });

  it("takes parts from a generator as from an array", () => {
    function* generated() {
      yield* parts();
    }
    expect([...inPieces(generated())]).toEqual([...inPieces(parts())]);
  });

  it("writes piece by piece, waiting for a drain only after a write the stream refused", async () => {
    const free = recordingIo();
    await writeParts(free.io, undefined, parts());
    expect(free.writes).toHaveLength(4);
    expect(free.waits()).toBe(0);

    const slow = recordingIo({}, (write) => write === 2);
    await writeParts(slow.io, undefined, parts());
    expect(slow.writes.join("")).toBe(parts().join(""));
    expect(slow.waits()).toBe(1);

    // A stream without drained(): nothing to wait for, nothing lost.
    const plain = recordingIo({}, () => true);
    delete plain.io.stdout.drained;
    await writeParts(plain.io, undefined, parts());
    expect(plain.writes.join("")).toBe(parts().join(""));
  });

  it("writes one piece when a token holds white space, so no write's end can cut it in two", async () => {
    const spaced = recordingIo({ LASTBEAT_TOKEN: "tok en-123456", GITHUB_TOKEN: "plain-token-123456" });
    await writeParts(spaced.io, undefined, parts());
    expect(spaced.writes).toEqual([parts().join("")]);

    const plainTokens = recordingIo({ LASTBEAT_TOKEN: "tok-en-123456" });
    await writeParts(plainTokens.io, undefined, parts());
    expect(plainTokens.writes).toHaveLength(4);
  });

  it("names the file and keeps the system's error as the cause when --out cannot be written", async () => {
    const out = join(await testdir("lastbeat-out-"), "missing", "lastbeat.prom");
    const { io } = recordingIo();
    const failure = await writeParts(io, out, parts()).catch((error: unknown) => error);
    expect(failure).toMatchObject({ message: expect.stringContaining(`cannot write --out ${out}`) });
    expect((failure as Error).cause).toMatchObject({ code: "ENOENT" });
  });

  it("removes the temp files a killed run left beside --out, and only those", async () => {
    const folder = await testdir("lastbeat-out-");
    const out = join(folder, "lastbeat.prom");
    const hours = (n: number) => new Date(Date.now() - n * 3_600_000);
    /** A file at `name`, last written `age` ago. */
    const plant = async (name: string, age: Date) => {
      await writeFile(join(folder, name), "# half a metrics file");
      await utimes(join(folder, name), age, age);
    };
    await plant(".lastbeat.prom.0123456789abcdef.tmp", hours(2)); // a killed run's: removed
    await plant(".lastbeat.prom.fedcba9876543210.tmp", hours(0)); // a run writing now: kept
    await plant(".other.prom.0123456789abcdef.tmp", hours(2)); // another file's: kept
    await plant(".lastbeat.prom.not-hex-digits!.tmp", hours(2)); // not a name the writer makes: kept
    await plant(".lastbeat.prom.0123456789abcdef.tmp.bak", hours(2));
    await plant(".lastbeat.prom.00000000000000ff.tmp", hours(2));
    // Another user's (as root, the tests can give one away): kept. Not root: not run.
    if (process.getuid?.() === 0) await chown(join(folder, ".lastbeat.prom.00000000000000ff.tmp"), 65534, 65534);
    else await plant(".lastbeat.prom.00000000000000ff.tmp", hours(0));
    // A link at a temp name is not followed and not removed.
    await symlink(join(folder, ".other.prom.0123456789abcdef.tmp"), join(folder, ".lastbeat.prom.1111111111111111.tmp"));
    await lutimes(join(folder, ".lastbeat.prom.1111111111111111.tmp"), hours(2), hours(2));

    await writeParts(recordingIo().io, out, ["lastbeat_alerting 0\n"]);
    expect(await readFile(out, "utf8")).toBe("lastbeat_alerting 0\n");
    expect((await readdir(folder)).sort()).toEqual(
      [
        ".lastbeat.prom.00000000000000ff.tmp",
        ".lastbeat.prom.0123456789abcdef.tmp.bak",
        ".lastbeat.prom.1111111111111111.tmp",
        ".lastbeat.prom.fedcba9876543210.tmp",
        ".lastbeat.prom.not-hex-digits!.tmp",
        ".other.prom.0123456789abcdef.tmp",
        "lastbeat.prom",
      ].sort(),
    );
    expect(await readFile(join(folder, ".other.prom.0123456789abcdef.tmp"), "utf8")).toBe("# half a metrics file");

    // Before the write, not after it: a run that fails too (a full disk, a bug) still clears them.
    await plant(".lastbeat.prom.2222222222222222.tmp", hours(3));
    function* failing() {
      yield "lastbeat_alerting 0\n";
      throw new TypeError("the metrics could not be built");
    }
    await expect(writeParts(recordingIo().io, out, failing())).rejects.toThrow("the metrics could not be built");
    expect(await readdir(folder)).not.toContain(".lastbeat.prom.2222222222222222.tmp");
    expect(await readFile(out, "utf8")).toBe("lastbeat_alerting 0\n");
  });

  it("lets an error in building the text through as it is: a bug, not a file that cannot be written", async () => {
    const folder = await testdir("lastbeat-out-");
    const out = join(folder, "brief.json");
    function* failing() {
      yield "{";
      throw new TypeError("the brief could not be built");
    }
    const { io } = recordingIo();
    await expect(writeParts(io, out, failing())).rejects.toThrow(new TypeError("the brief could not be built"));
    expect(await readdir(folder)).toEqual([]); // no half-written brief, no temp file left
    // Node's own errors have a code too, but no system call.
    const coded = Object.assign(new TypeError("bad argument"), { code: "ERR_INVALID_ARG_TYPE" });
    function* failingWithCode() {
      yield "{";
      throw coded;
    }
    await expect(writeParts(io, out, failingWithCode())).rejects.toBe(coded);
  });
});
