import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LastbeatError, scanHeartbeats, writeHeartbeat } from "lastbeat";
import { expandDirs } from "lastbeat/internal";
import { expandDirPatterns, segmentMatcher } from "../../packages/lastbeat/src/dir.js";
import { testdir } from "../support/testdir.js";

const now = new Date("2026-11-23T10:00:00.000Z");

describe("a folder whose name holds glob characters", () => {
  it("is the folder the writer wrote, through LASTBEAT_DIR, even when the pattern would match another", async () => {
    const root = await testdir("lastbeat-dir-");
    const literal = join(root, "app[1]", "hb");
    const env = { LASTBEAT_DIR: literal };
    await writeHeartbeat("backup", { every: "5m", env, now, strict: true });
    // `app[1]` read as a pattern names `app1`: a reader that globbed would scan this one instead.
    await mkdir(join(root, "app1", "hb"), { recursive: true });
    await writeHeartbeat("decoy", { every: "5m", dir: join(root, "app1", "hb"), now, strict: true });

    const states = await scanHeartbeats({ env, now });
    expect(states.map((s) => [s.job, s.status, s.file])).toEqual([["backup", "ok", join(literal, "backup.last")]]);
  });

  it("is taken as written segment by segment, and globbing goes on around it", async () => {
    const root = await testdir("lastbeat-dir-");
    for (const host of ["web1", "web2"]) await mkdir(join(root, host, "hb[x]"), { recursive: true });
    await mkdir(join(root, "web3", "hbx"), { recursive: true });
    expect(await expandDirs([join(root, "web*", "hb[x]")])).toEqual([join(root, "web1", "hb[x]"), join(root, "web2", "hb[x]"), join(root, "web3", "hbx")]);
  });

  it("even a malformed pattern (`[z-a]`) is the folder when it exists as written", async () => {
    const root = await testdir("lastbeat-dir-");
    const literal = join(root, "[z-a]", "hb");
    await writeHeartbeat("backup", { every: "5m", dir: literal, now, strict: true });
    expect((await scanHeartbeats({ dirs: [literal], now })).map((s) => [s.job, s.status])).toEqual([["backup", "ok"]]);
  });
});

describe("a pattern that matches no folder", () => {
  it("is an invalid, alerting folder job naming the pattern, never an empty healthy scan", async () => {
    const root = await testdir("lastbeat-dir-");
    await mkdir(join(root, "hosts", "web1", "heartbeats"), { recursive: true });
    const typo = join(root, "nomatch*", "hb");
    const states = await scanHeartbeats({ dirs: [typo, join(root, "hosts", "*", "heartbeats")], now });
    expect(states).toMatchObject([{ job: `folder:${typo}`, file: typo, status: "invalid", alerting: true, reason: "no folder matches this pattern" }]);
  });

  it("is named by expandDirPatterns, relative patterns made absolute, each once", async () => {
    const root = await testdir("lastbeat-dir-");
    await mkdir(join(root, "a1"));
    expect(await expandDirPatterns(["a?", "b*", "b*", "plain"], root)).toEqual({
      dirs: [join(root, "a1"), join(root, "plain")],
      unmatched: [{ pattern: join(root, "b*"), reason: "no folder matches this pattern" }],
      matched: new Map([
        [join(root, "a?"), [join(root, "a1")]],
        [join(root, "b*"), []],
      ]),
      remembered: new Map(),
    });
  });

  it("a file is not a folder a pattern matches", async () => {
    const root = await testdir("lastbeat-dir-");
    await writeFile(join(root, "hb1"), "");
    expect(await expandDirPatterns(["hb?"], root)).toMatchObject({ dirs: [], unmatched: [{ pattern: join(root, "hb?"), reason: "no folder matches this pattern" }] });
  });
});

describe("a malformed pattern", () => {
  it("is a LastbeatError E_DIR naming the pattern and the fix, not a SyntaxError", async () => {
    const root = await testdir("lastbeat-dir-");
    const pattern = join(root, "[z-a]", "hb");
    const failure = await scanHeartbeats({ dirs: [pattern], now }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(LastbeatError);
    expect((failure as LastbeatError).code).toBe("E_DIR");
    expect((failure as Error).message).toBe(`heartbeat folder pattern ${pattern}: the range z-a in [z-a] is reversed (write a-z)`);
  });

  it("is reported even when an earlier segment matches nothing", async () => {
    const root = await testdir("lastbeat-dir-");
    await expect(expandDirPatterns([join(root, "none*", "[9-0]")])).rejects.toThrow(/the range 9-0 in \[9-0\] is reversed/);
  });
});

describe("segmentMatcher", () => {
  it("follows the shell's bracket rules", () => {
    const m = (segment: string) => segmentMatcher(segment, segment);
    expect(m("[]]")("]")).toBe(true);
    expect(m("[!]]")("]")).toBe(false);
    expect(m("[!]]")("a")).toBe(true);
    expect(m("[^a-c]x")("dx")).toBe(true);
    expect(m("[^a-c]x")("bx")).toBe(false);
    expect(m("[a-]")("-")).toBe(true);
    expect(m("[-a]")("-")).toBe(true);
    expect(m("app[1")("app[1")).toBe(true); // no closing bracket: itself
    expect(m("[]")("[]")).toBe(true);
    expect(m("a\\*")("a\\bc")).toBe(true); // a backslash is a character of the path
    expect(m("?")("😀")).toBe(true); // one character, not one UTF-16 unit
    expect(m("[😀-😂]")("😁")).toBe(true);
    expect(m("*.d")(".d")).toBe(true);
  });

  /** A pattern made of tokens, written out as a segment, and judged by a plain recursive matcher. */
  type Token =
    | { kind: "star" }
    | { kind: "any" }
    | { kind: "char"; c: string }
    | { kind: "set"; negation: "" | "!" | "^"; close: boolean; dash: boolean; items: (string | [string, string])[] };

  const literal = fc.constantFrom("a", "b", "z", "-", "]", "!", "^", "\\", ".", "é", "😀");
  const member = fc.constantFrom("a", "b", "z", "[", ".", "\\", "é", "😀");
  const cp = (c: string) => c.codePointAt(0) as number;
  const token: fc.Arbitrary<Token> = fc.oneof(
    fc.constant({ kind: "star" as const }),
    fc.constant({ kind: "any" as const }),
    literal.map((c) => ({ kind: "char" as const, c })),
    fc
      .record({
        negation: fc.constantFrom("" as const, "!" as const, "^" as const),
        close: fc.boolean(),
        dash: fc.boolean(),
        items: fc.array(fc.oneof(member, fc.tuple(member, member).map(([x, y]): [string, string] => (cp(x) <= cp(y) ? [x, y] : [y, x]))), { maxLength: 3 }),
      })
      .map((set) => ({ kind: "set" as const, ...set, items: set.items.length === 0 && !set.close && !set.dash ? ["a"] : set.items })),
  );
  const write = (tokens: Token[]) =>
    tokens
      .map((t) => {
        if (t.kind === "star") return "*";
        if (t.kind === "any") return "?";
        if (t.kind === "char") return t.c;
        const items = t.items.map((i) => (typeof i === "string" ? i : `${i[0]}-${i[1]}`)).join("");
        return `[${t.negation}${t.close ? "]" : ""}${items}${t.dash ? "-" : ""}]`;
      })
      .join("");
  const inSet = (t: Extract<Token, { kind: "set" }>, c: string) => {
    const members = t.items.some((i) => (typeof i === "string" ? i === c : cp(i[0]) <= cp(c) && cp(c) <= cp(i[1])));
    return (members || (t.close && c === "]") || (t.dash && c === "-")) !== (t.negation !== "");
  };
  const reference = (tokens: Token[], name: string[]): boolean => {
    const [t, ...rest] = tokens;
    if (t === undefined) return name.length === 0;
    if (t.kind === "star") return name.some((_, i) => reference(rest, name.slice(i))) || reference(rest, []);
    const [c, ...tail] = name;
    if (c === undefined) return false;
    const one = t.kind === "any" || (t.kind === "char" ? t.c === c : inSet(t, c));
    return one && reference(rest, tail);
  };
  const nameChar = fc.constantFrom("a", "b", "c", "z", "-", "]", "[", "!", "^", "\\", ".", "é", "😀", "😁");

  it("matches exactly what the shell's rules say (property, against a recursive matcher)", () => {
    fc.assert(
      fc.property(fc.array(token, { maxLength: 6 }), fc.array(fc.array(nameChar, { maxLength: 8 }), { minLength: 1, maxLength: 8 }), (tokens, names) => {
        const matcher = segmentMatcher(write(tokens), write(tokens));
        for (const name of names) expect(matcher(name.join(""))).toBe(reference(tokens, name));
      }),
      { numRuns: 2000 },
    );
  });

  it("any pattern is a matcher or a LastbeatError E_DIR naming it, never a SyntaxError (property)", () => {
    const char = fc.constantFrom("*", "?", "[", "]", "!", "^", "-", "\\", "a", "z", "0", "9", "(", ")", "+", "{", "}", "$", "|", ".", "😀");
    fc.assert(
      fc.property(fc.array(char, { maxLength: 12 }).map((cs) => cs.join("")), fc.array(fc.array(char, { maxLength: 8 }).map((cs) => cs.join(""))), (segment, names) => {
        let matcher;
        try {
          matcher = segmentMatcher(segment, `/x/${segment}`);
        } catch (error) {
          expect(error).toBeInstanceOf(LastbeatError);
          expect((error as LastbeatError).code).toBe("E_DIR");
          expect((error as Error).message).toMatch(/^heartbeat folder pattern \/x\/.* is reversed \(write .+\)$/);
          expect((error as Error).message.startsWith(`heartbeat folder pattern /x/${segment}: `)).toBe(true);
          return;
        }
        for (const name of names) expect(typeof matcher(name)).toBe("boolean");
        if (!/[*?[]/.test(segment)) for (const name of [...names, segment]) expect(matcher(name)).toBe(name === segment);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("one folder by two paths", () => {
  it("is scanned once, by the first path given: its jobs are not doubled under two names", async () => {
    const root = await testdir("lastbeat-dir-");
    const real = join(root, "run", "lastbeat");
    await writeHeartbeat("backup", { every: "5m", dir: real, now, strict: true });
    await mkdir(join(root, "var"));
    await symlink(join(root, "run"), join(root, "var", "run"));
    const viaLink = join(root, "var", "run", "lastbeat");
    expect(await expandDirs([viaLink, real, join(root, "va*", "run", "lastbeat")])).toEqual([viaLink]);
    expect((await scanHeartbeats({ dirs: [real, viaLink], now })).map((s) => s.job)).toEqual(["backup"]);
    // A folder that is not there stays, to be reported.
    expect(await expandDirs([join(root, "nope"), real])).toEqual([join(root, "nope"), real]);
  });
});

describe("an empty folder path (an unset variable's value)", () => {
  const message = "heartbeat folder is an empty string: is the variable that should give it unset?";

  it("is refused by the writer, never the working folder", async () => {
    const cwd = process.cwd();
    await expect(writeHeartbeat("backup", { every: "5m", dir: "", now, strict: true })).rejects.toMatchObject({ code: "E_DIR", message });
    // Not strict: reported and returned, nothing written.
    const lines: string[] = [];
    const written = await writeHeartbeat("backup", { every: "5m", dir: "", now, stderr: { write: (text: string) => lines.push(text) } });
    expect(written).toMatchObject({ file: null, error: { code: "E_DIR" } });
    expect(lines.join("")).toContain(message);
    expect(process.cwd()).toBe(cwd);
  });

  it("is refused by the reader, among good folders too, instead of scanning the working folder", async () => {
    const root = await testdir("lastbeat-dir-");
    await expect(scanHeartbeats({ dirs: [root, ""], now, cwd: root })).rejects.toMatchObject({ code: "E_DIR", message });
    await expect(expandDirs([""], root)).rejects.toBeInstanceOf(LastbeatError);
  });
});
