import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ForgeError, parseIssueFile, type Forge } from "@lastbeat/forge";
import { startFakeForge, type FakeForge, type Flavor } from "../support/fake-forge.js";
import { testdir } from "../support/testdir.js";
import { fileForge, forgeFor } from "./helpers.js";

/*
 * One forge of each kind behind one interface, for the tests that run on GitHub, Gitea, GitLab
 * and the file forge alike: the issues as the forge stores them, its requests counted, and its
 * writes failing on demand.
 */

export interface Harness {
  forge: Forge;
  fake?: FakeForge;
  dir?: string;
  /** Open issues carrying the label, read from the forge's own store. */
  open(): Promise<Array<{ number: number; body: string; comments: string[] }>>;
  all(): Promise<Array<{ number: number; state: string; comments: string[] }>>;
  /** Reads and writes since the last `resetLog`: HTTP requests, or the file forge's calls. */
  counts(): { reads: number; writes: number; total: number };
  resetLog(): void;
  /**
   * The next `times` calls of the forge's `what` fail as a 502 would, after every retry: on an
   * HTTP forge the fake answers 502 to each attempt, on the file forge the call throws.
   */
  fail(what: "comment" | "updateIssue" | "closeIssue", times?: number): void;
  /** A person comments on the issue (in the web UI, or in the issue file with an editor). */
  personComments(number: number, body: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** The requests of each forge call, matched by method and path. */
const FAULT_AT: Record<Flavor, Record<"comment" | "updateIssue" | "closeIssue", { method: string; path: RegExp }>> = {
  github: { comment: { method: "POST", path: /\/issues\/\d+\/comments$/ }, updateIssue: { method: "PATCH", path: /\/issues\/\d+$/ }, closeIssue: { method: "PATCH", path: /\/issues\/\d+$/ } },
  gitea: { comment: { method: "POST", path: /\/issues\/\d+\/comments$/ }, updateIssue: { method: "PATCH", path: /\/issues\/\d+$/ }, closeIssue: { method: "PATCH", path: /\/issues\/\d+$/ } },
  gitlab: { comment: { method: "POST", path: /\/issues\/\d+\/notes$/ }, updateIssue: { method: "PUT", path: /\/issues\/\d+$/ }, closeIssue: { method: "PUT", path: /\/issues\/\d+$/ } },
};

/** The file forge with failures on demand: what the fake's injected 502s are to the HTTP forges. */
function failingForge(forge: Forge): { forge: Forge; fail: Harness["fail"] } {
  const left = { comment: 0, updateIssue: 0, closeIssue: 0 };
  const failing = <A extends unknown[]>(what: keyof typeof left, fn: (...args: A) => Promise<void>) => async (...args: A) => {
    if (left[what] > 0) {
      left[what] -= 1;
      throw new ForgeError(`file forge: ${what} failed (injected)`);
    }
    return fn(...args);
  };
  return {
    forge: {
      ...forge,
      comment: failing("comment", (n, body) => forge.comment(n, body)),
      updateIssue: failing("updateIssue", (n, change) => forge.updateIssue(n, change)),
      closeIssue: failing("closeIssue", (n) => forge.closeIssue(n)),
    },
    fail: (what, times = 1) => void (left[what] += times),
  };
}

/**
 * Counts a forge's calls the way the fake counts HTTP requests: the file forge has no request
 * log, so its "one read, zero writes" is checked on the calls the sync makes.
 */
function countingForge(forge: Forge): { forge: Forge; counts(): { reads: number; writes: number; total: number }; resetLog(): void } {
  let reads = 0;
  let writes = 0;
  const counted = <A extends unknown[], R>(kind: "read" | "write", fn: (...args: A) => Promise<R>) => (...args: A) => {
    if (kind === "read") reads += 1;
    else writes += 1;
    return fn(...args);
  };
  return {
    forge: {
      kind: forge.kind,
      target: forge.target,
      listOpenIssues: counted("read", (label) => forge.listOpenIssues(label)),
      createIssue: counted("write", (issue) => forge.createIssue(issue)),
      updateIssue: counted("write", (n, change) => forge.updateIssue(n, change)),
      comment: counted("write", (n, body) => forge.comment(n, body)),
      recentComments: counted("read", (issue) => forge.recentComments(issue)),
      closeIssue: counted("write", (n) => forge.closeIssue(n)),
      ensureLabel: counted("read", (label) => forge.ensureLabel(label)),
    },
    counts: () => ({ reads, writes, total: reads + writes }),
    resetLog: () => {
      reads = 0;
      writes = 0;
    },
  };
}

export async function harness(kind: "github" | "gitea" | "gitlab" | "file", label: string): Promise<Harness> {
  if (kind === "file") {
    const dir = await testdir();
    const failing = failingForge(fileForge(dir));
    const counting = countingForge(failing.forge);
    // Every issue file is read back; one that does not parse fails the test.
    const read = async () => {
      const names = (await readdir(dir)).filter((name) => /^issue-\d+\.md$/.test(name));
      const all = [];
      for (const name of names) {
        const n = Number(/\d+/.exec(name)![0]);
        const issue = parseIssueFile(await readFile(join(dir, name), "utf8"), n);
        if (!issue) throw new Error(`${name} does not parse as an issue file`);
        all.push({ ...issue, comments: issue.comments.split(/^### Comment · .*$/m).slice(1).map((c) => c.trim()) });
      }
      return all.sort((a, b) => a.number - b.number);
    };
    return {
      forge: counting.forge,
      dir,
      open: async () => (await read()).filter((i) => i.state === "open"),
      all: read,
      counts: counting.counts,
      resetLog: counting.resetLog,
      fail: failing.fail,
      personComments: (number, body) => fileForge(dir).comment(number, body),
      cleanup: async () => {},
    };
  }
  const fake = await startFakeForge({ flavor: kind });
  const forge = await forgeFor(fake);
  const view = (i: FakeForge["issues"][number]) => ({ number: i.number, body: i.body, state: i.state, comments: i.comments.map((c) => c.body) });
  return {
    forge,
    fake,
    open: async () => fake.openIssues(label).map(view),
    all: async () => fake.issues.filter((i) => !i.pull).map(view),
    counts: () => fake.counts(),
    resetLog: () => fake.resetLog(),
    // The first try and three retries (forgeFor's default).
    fail: (what, times = 1) => fake.fault({ ...FAULT_AT[kind][what], status: 502, times: 4 * times }),
    personComments: async (number, body) => void fake.person.comment(number, body),
    cleanup: () => fake.close(),
  };
}
