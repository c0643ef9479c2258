import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { scanHeartbeats } from "lastbeat";
import { expandDirPatterns, folderMemoryText, forgetFolder, readFolderMemory, rememberFolders, writeFolderMemory, type DirExpansion, type InternalScanOptions } from "lastbeat/internal";
import { testdir } from "../support/testdir.js";

/* The checker's memory of the folders its patterns matched (docs/spec.md, "Folders"). */

describe("expandDirPatterns with the checker's memory", () => {
  it("scans a remembered folder the pattern no longer matches as a plain folder, and names it", async () => {
    const dir = await testdir("lastbeat-memory-");
    for (const host of ["a", "b"]) await mkdir(join(dir, host, "hb"), { recursive: true });
    const pattern = join(dir, "*", "hb");
    const memory = new Map([[pattern, [join(dir, "a", "hb"), join(dir, "c", "hb")]]]);
    const expansion = await expandDirPatterns([pattern], dir, memory);
    expect(expansion.dirs).toEqual([join(dir, "a", "hb"), join(dir, "b", "hb"), join(dir, "c", "hb")]);
    expect(expansion.matched).toEqual(new Map([[pattern, [join(dir, "a", "hb"), join(dir, "b", "hb")]]]));
    expect(expansion.remembered).toEqual(new Map([[join(dir, "c", "hb"), pattern]]));
    expect(expansion.unmatched).toEqual([]);
    // Without memory, only what matches now.
    expect((await expandDirPatterns([pattern], dir)).dirs).toEqual([join(dir, "a", "hb"), join(dir, "b", "hb")]);
  });

  it("a pattern matching nothing but remembered folders is no 'no folder matches': each folder speaks", async () => {
    const dir = await testdir("lastbeat-memory-");
    const pattern = join(dir, "hosts", "*", "hb");
    const gone = join(dir, "hosts", "a", "hb");
    let seen: DirExpansion | undefined;
    const options: InternalScanOptions = { dirs: [pattern], now: new Date("2026-01-10T12:00:00Z"), rememberedFolders: new Map([[pattern, [gone]]]), onExpanded: (e) => (seen = e) };
    const states = await scanHeartbeats(options);
    expect(states.map((s) => [s.job, s.status, s.reason])).toEqual([
      [`folder:${gone}`, "invalid", `heartbeat folder does not exist; it matched ${pattern} before (gone for good? lastbeat retire 'folder:${gone}' with the checker's --dir flags)`],
    ]);
    expect(seen?.matched.get(pattern)).toEqual([]);
  });
});

describe("the folder memory file", () => {
  it("adds only, forgets only on purpose, and round-trips through its file", async () => {
    const dir = await testdir("lastbeat-memory-");
    const path = join(dir, "heartbeat-checker.folders");
    const first = rememberFolders(new Map(), new Map([["/m/*/hb", ["/m/b/hb", "/m/a/hb"]]]));
    expect(first).toEqual({ memory: new Map([["/m/*/hb", ["/m/a/hb", "/m/b/hb"]]]), changed: true });
    // A folder that no longer matches is kept; nothing new, nothing to write.
    expect(rememberFolders(first.memory, new Map([["/m/*/hb", ["/m/a/hb"]]])).changed).toBe(false);
    await writeFolderMemory(path, first.memory);
    expect(await readFolderMemory(path)).toEqual({ memory: first.memory, found: true, warning: null });
    expect(await readFile(path, "utf8")).toBe(folderMemoryText(first.memory));
    expect(forgetFolder(first.memory, "/m/b/hb")).toEqual({ memory: new Map([["/m/*/hb", ["/m/a/hb"]]]), patterns: ["/m/*/hb"] });
    expect(forgetFolder(first.memory, "/m/x/hb").patterns).toEqual([]);
    await rm(path);
    expect(await readFolderMemory(path)).toEqual({ memory: new Map(), found: false, warning: null });
  });

  it("reads hostile content as no memory, with a warning naming the file", async () => {
    const dir = await testdir("lastbeat-memory-");
    const path = join(dir, "heartbeat-checker.folders");
    for (const text of ["[]", '{"format":"other","patterns":{}}', '{"format":"lastbeat-folders/1","patterns":[]}', "\u0000"]) {
      await writeFile(path, text);
      const read = await readFolderMemory(path);
      expect(read.memory.size, text).toBe(0);
      expect(read.warning, text).toContain(path);
    }
    await writeFile(path, " ".repeat(1024 * 1024 + 1));
    expect((await readFolderMemory(path)).warning).toContain("is larger than 1048576 bytes");
    await writeFile(path, JSON.stringify({ format: "lastbeat-folders/1", patterns: { "/m/*/hb": ["/m/a/hb", "/m/\nb", "rel"], rel: ["/x"] } }));
    const partly = await readFolderMemory(path);
    expect(partly.memory).toEqual(new Map([["/m/*/hb", ["/m/a/hb"]]]));
    expect(partly.warning).toContain("had 3 entries that are not an absolute path");
  });
});
