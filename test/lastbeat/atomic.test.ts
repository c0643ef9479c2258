import { lstat, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import * as fsp from "node:fs/promises";
import { join } from "node:path";
import { beforeEach, expect, it } from "vitest";
import { writeFileAtomically } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

let dir: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-atomic-");
});

const fail = (code: string) => async () => {
  throw Object.assign(new Error(code), { code });
};

it("replaces the file and leaves no temp file", async () => {
  await writeFile(join(dir, "a.last"), "old");
  await writeFileAtomically(join(dir, "a.last"), "new");
  expect(await readFile(join(dir, "a.last"), "utf8")).toBe("new");
  expect(await readdir(dir)).toEqual(["a.last"]);
});

it("removes the temp file and keeps the old content when the rename fails", async () => {
  await writeFile(join(dir, "a.last"), "old");
  await expect(
    writeFileAtomically(join(dir, "a.last"), "new", 0o644, { open: fsp.open, unlink: fsp.unlink, rename: fail("EXDEV") }),
  ).rejects.toMatchObject({ code: "EXDEV" });
  expect(await readFile(join(dir, "a.last"), "utf8")).toBe("old");
  expect(await readdir(dir)).toEqual(["a.last"]);
});

it("removes the temp file when writing fails (disk full)", async () => {
  const openFailingWrite: typeof fsp.open = async (...args) => {
    const handle = await fsp.open(...args);
    handle.writeFile = fail("ENOSPC");
    return handle;
  };
  await expect(
    writeFileAtomically(join(dir, "a.last"), "new", 0o644, { open: openFailingWrite, unlink: fsp.unlink, rename: fsp.rename }),
  ).rejects.toMatchObject({ code: "ENOSPC" });
  expect(await readdir(dir)).toEqual([]);
});

it("replaces a symlink itself instead of writing through it", async () => {
  const outside = join(dir, "outside");
  await writeFile(outside, "precious");
  await symlink(outside, join(dir, "a.last"));
  await writeFileAtomically(join(dir, "a.last"), "new");
  expect(await readFile(outside, "utf8")).toBe("precious");
  expect((await lstat(join(dir, "a.last"))).isFile()).toBe(true);
});

it("exclusive: creates a new file whole, fails with EEXIST on an existing one and leaves no temp file", async () => {
  const path = join(dir, "x.lock");
  await writeFileAtomically(path, "first", 0o644, undefined, { exclusive: true });
  await expect(writeFileAtomically(path, "second", 0o644, undefined, { exclusive: true })).rejects.toMatchObject({ code: "EEXIST" });
  expect(await readFile(path, "utf8")).toBe("first");
  expect(await readdir(dir)).toEqual(["x.lock"]);
});

it("exclusive: of ten writers racing for one name exactly one wins", async () => {
  const path = join(dir, "x.lock");
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) => writeFileAtomically(path, `writer ${i}`, 0o644, undefined, { exclusive: true })),
  );
  const won = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
  expect(won).toHaveLength(1);
  expect(await readFile(path, "utf8")).toBe(`writer ${won[0]}`);
  expect(await readdir(dir)).toEqual(["x.lock"]);
});

it("exclusive: never follows a symlink planted at the name", async () => {
  const outside = join(dir, "outside");
  await writeFile(outside, "precious");
  await symlink(outside, join(dir, "x.lock"));
  await expect(writeFileAtomically(join(dir, "x.lock"), "new", 0o644, undefined, { exclusive: true })).rejects.toMatchObject({ code: "EEXIST" });
  expect(await readFile(outside, "utf8")).toBe("precious");
});

// The temp name is unpredictable in production; a known suffix lets a test plant something there.
const SUFFIX = "0123456789abcdef";
const knownSuffix = { tempSuffix: () => SUFFIX };

it("refuses a regular file planted at the temp name (O_EXCL) and leaves it as it was", async () => {
  const planted = join(dir, `.a.last.${SUFFIX}.tmp`);
  await writeFile(planted, "planted by someone else");
  await expect(writeFileAtomically(join(dir, "a.last"), "new", 0o644, undefined, knownSuffix)).rejects.toMatchObject({ code: "EEXIST" });
  expect(await readFile(planted, "utf8")).toBe("planted by someone else");
  expect((await readdir(dir)).sort()).toEqual([`.a.last.${SUFFIX}.tmp`]);
});

it("refuses a symlink planted at the temp name and never writes through it", async () => {
  const outside = join(dir, "outside");
  await writeFile(outside, "precious");
  await symlink(outside, join(dir, `.a.last.${SUFFIX}.tmp`));
  await expect(writeFileAtomically(join(dir, "a.last"), "new", 0o644, undefined, knownSuffix)).rejects.toMatchObject({ code: "EEXIST" });
  expect(await readFile(outside, "utf8")).toBe("precious");
});

it("writes, fsyncs and closes the temp file before renaming it into place", async () => {
  const events: string[] = [];
  const observedOpen: typeof fsp.open = async (...args) => {
    const handle = await fsp.open(...args);
    const { writeFile: write, sync, close } = handle;
    handle.writeFile = async (...a: Parameters<typeof write>) => {
      events.push("write");
      return write.apply(handle, a);
    };
    handle.sync = async () => {
      events.push("fsync");
      return sync.apply(handle);
    };
    handle.close = async () => {
      events.push("close");
      return close.apply(handle);
    };
    return handle;
  };
  const rename: typeof fsp.rename = async (from, to) => {
    events.push("rename");
    return fsp.rename(from, to);
  };
  await writeFileAtomically(join(dir, "a.last"), "new", 0o644, { open: observedOpen, unlink: fsp.unlink, rename });
  expect(events).toEqual(["write", "fsync", "close", "rename"]);
  expect(await readFile(join(dir, "a.last"), "utf8")).toBe("new");
});

it("writes through a hidden temp name a reader never takes for a job, unpredictable from one write to the next", async () => {
  const temps: string[] = [];
  const observedOpen: typeof fsp.open = async (path, ...rest) => {
    temps.push(String(path));
    return fsp.open(path, ...rest);
  };
  const fs = { open: observedOpen, unlink: fsp.unlink, rename: fsp.rename };
  await writeFileAtomically(join(dir, "a.last"), "one", 0o644, fs);
  await writeFileAtomically(join(dir, "a.last"), "two", 0o644, fs);
  expect(temps).toHaveLength(2);
  for (const temp of temps) expect(temp).toMatch(new RegExp(`^${dir.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/\\.a\\.last\\.[0-9a-f]{16}\\.tmp$`));
  expect(temps[0]).not.toBe(temps[1]);
});

it("sets a mode the umask would narrow in full", async () => {
  // Under the usual umask 022, open() alone would make this 0644.
  await writeFileAtomically(join(dir, "shared.last"), "x", 0o666);
  expect((await fsp.stat(join(dir, "shared.last"))).mode & 0o777).toBe(0o666);
  await writeFileAtomically(join(dir, "private.last"), "x", 0o600);
  expect((await fsp.stat(join(dir, "private.last"))).mode & 0o777).toBe(0o600);
});

it("streams data given in pieces into place whole, in order", async () => {
  async function* pieces() {
    for (let i = 0; i < 100; i++) yield `line ${i} ${"é".repeat(i % 7)}\n`;
  }
  let expected = "";
  for await (const piece of pieces()) expected += piece;
  await writeFile(join(dir, "a.journal"), "old");
  await writeFileAtomically(join(dir, "a.journal"), pieces());
  expect(await readFile(join(dir, "a.journal"), "utf8")).toBe(expected);
  expect(await readdir(dir)).toEqual(["a.journal"]);
});
