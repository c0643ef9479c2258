import { readdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { LastbeatError } from "lastbeat";
import { makeDirs, readBoundedFile, writeFileAtomically } from "lastbeat/internal";
import { ForgeError } from "./errors.js";
import type { Forge, ForgeIssue, NewIssue } from "./forge.js";
import { formatTime } from "./render.js";

export interface FileForgeOptions {
  /** The folder that holds the issues; created when missing. */
  dir: string;
  /** The clock for created/closed times and comment headings. */
  now?: () => Date;
}

/** Everything after this line is comments; only the last occurrence counts. */
const COMMENTS_LINE = "<!-- lastbeat-file:comments -->";
const FILE_NAME = /^issue-(\d+)\.md$/;
/** The heading `comment` puts above each comment. */
const COMMENT_HEADING = /^### Comment · .*$/m;
/** The latest comments a run reads before it announces a change, as on the other forges. */
const RECENT_COMMENTS = 100;
/**
 * An issue file holds a title, a body and its comments, each at most 65,536 characters (4 bytes
 * each at worst); 16 MiB is room for a long incident's comments, and all a checker reads.
 */
const MAX_ISSUE_FILE_BYTES = 16 * 1024 * 1024;

interface FileIssue {
  number: number;
  title: string;
  state: "open" | "closed";
  labels: string[];
  created_at: string;
  closed_at: string | null;
  body: string;
  comments: string;
}

/**
 * Issues as markdown files in a folder (`issue-<n>.md`: front matter, body, comments appended):
 * the forge that needs no account. Every write goes through lastbeat's atomic writer (temp file
 * opened O_EXCL|O_NOFOLLOW, fsync, rename), and a new issue claims its number with its exclusive
 * create, which fails when the name exists, so two checkers never write the same number.
 */
export function createFileForge(options: FileForgeOptions): Forge {
  const dir = resolve(options.dir);
  const now = options.now ?? (() => new Date());
  const pathOf = (n: number) => join(dir, `issue-${n}.md`);

  async function readAll(): Promise<FileIssue[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw fsError(`reading issue folder ${dir}`, error);
    }
    const issues: FileIssue[] = [];
    for (const name of names) {
      const m = FILE_NAME.exec(name);
      if (!m) continue;
      const file = await readIssueFile(join(dir, name));
      if (!("text" in file)) continue;
      const parsed = parseIssueFile(file.text, Number(m[1]));
      if (parsed) issues.push(parsed);
    }
    return issues.sort((a, b) => a.number - b.number);
  }

  async function readOne(number: number): Promise<FileIssue> {
    const file = await readIssueFile(pathOf(number));
    if (!("text" in file)) throw new ForgeError(`file forge: ${pathOf(number)} ${file.passedOver}`);
    const issue = parseIssueFile(file.text, number);
    if (!issue) throw new ForgeError(`file forge: ${pathOf(number)} has no front matter`);
    return issue;
  }

  async function write(issue: FileIssue): Promise<void> {
    try {
      await writeFileAtomically(pathOf(issue.number), serialiseIssue(issue));
    } catch (error) {
      throw fsError(`writing ${pathOf(issue.number)}`, error);
    }
  }

  const toForgeIssue = (i: FileIssue): ForgeIssue => ({
    number: i.number,
    title: i.title,
    body: i.body,
    createdAt: i.created_at,
    url: pathOf(i.number),
    labels: i.labels,
    comments: commentsOf(i).length,
  });

  return {
    kind: "file",
    target: `file ${dir}`,
    async listOpenIssues(label) {
      const want = label.toLowerCase();
      return (await readAll())
        .filter((i) => i.state === "open" && i.labels.some((l) => l.toLowerCase() === want))
        .map(toForgeIssue);
    },
    async createIssue(input: NewIssue) {
      try {
        await makeDirs(dir);
      } catch (error) {
        throw fsError(`creating issue folder ${dir}`, error);
      }
      const existing = await readAll();
      let number = existing.reduce((max, i) => Math.max(max, i.number), 0) + 1;
      const issue: FileIssue = {
        number,
        title: input.title,
        state: "open",
        labels: [input.label],
        created_at: now().toISOString(),
        closed_at: null,
        body: input.body,
        comments: "",
      };
      for (let tries = 0; tries < 1000; tries++, number++) {
        issue.number = number;
        try {
          // Exclusive: a number another checker claimed meanwhile fails with EEXIST; take the next.
          await writeFileAtomically(pathOf(number), serialiseIssue(issue), 0o644, undefined, { exclusive: true });
          return toForgeIssue(issue);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw fsError(`creating ${pathOf(number)}`, error);
        }
      }
      throw new ForgeError(`file forge: no free issue number in ${dir}`);
    },
    async updateIssue(number, change) {
      const issue = await readOne(number);
      await write({ ...issue, title: change.title, body: change.body });
    },
    async comment(number, body) {
      const issue = await readOne(number);
      // Keep the separator unique so the body can always be told apart from the comments.
      const safe = body.replaceAll(COMMENTS_LINE, "&lt;!-- lastbeat-file:comments -->").trimEnd();
      const entry = `\n### Comment · ${formatTime(now())}\n\n${safe}\n`;
      await write({ ...issue, comments: issue.comments + entry });
    },
    async recentComments(issue) {
      // No authors here: whoever may write this folder may write anything in it.
      return commentsOf(await readOne(issue.number)).slice(-RECENT_COMMENTS).map((body) => ({ body }));
    },
    async closeIssue(number) {
      const issue = await readOne(number);
      await write({ ...issue, state: "closed", closed_at: now().toISOString() });
    },
    async ensureLabel() {
      // Labels are plain strings in the front matter: nothing to create.
    },
  };
}

/** The comments `comment` appended, oldest first, each without its heading. */
function commentsOf(issue: FileIssue): string[] {
  return issue.comments.split(COMMENT_HEADING).slice(1).map((c) => c.trim());
}

export function serialiseIssue(issue: FileIssue): string {
  const front = [
    "---",
    `number: ${issue.number}`,
    `title: ${JSON.stringify(issue.title)}`,
    `state: ${issue.state}`,
    `labels: ${JSON.stringify(issue.labels)}`,
    `created_at: ${issue.created_at}`,
    `closed_at: ${issue.closed_at ?? "null"}`,
    "---",
    "",
  ].join("\n");
  const body = issue.body.endsWith("\n") ? issue.body : `${issue.body}\n`;
  return `${front}${body}\n${COMMENTS_LINE}\n${issue.comments}`;
}

/** Reads what `serialiseIssue` wrote, and what a person made of it with an editor. */
export function parseIssueFile(text: string, fallbackNumber: number): FileIssue | null {
  const normal = text.replace(/\r\n/g, "\n");
  const m = /^---\n([\s\S]*?)\n---\n?/.exec(normal);
  if (!m) return null;
  const fields = new Map<string, string>();
  for (const line of m[1]!.split("\n")) {
    const kv = /^([A-Za-z_]+):\s*(.*)$/.exec(line);
    if (kv) fields.set(kv[1]!, kv[2]!.trim());
  }
  const value = (key: string): unknown => {
    const raw = fields.get(key);
    if (raw === undefined) return undefined;
    try {
      return JSON.parse(raw);
    } catch {
      return raw.replace(/^["']|["']$/g, "");
    }
  };
  let rest = normal.slice(m[0].length);
  let comments = "";
  const at = rest.lastIndexOf(`\n${COMMENTS_LINE}\n`);
  if (at >= 0) {
    comments = rest.slice(at + COMMENTS_LINE.length + 2);
    rest = rest.slice(0, at);
  } else if (rest.startsWith(`${COMMENTS_LINE}\n`)) {
    comments = rest.slice(COMMENTS_LINE.length + 1);
    rest = "";
  }
  const labels = value("labels");
  const state = String(value("state") ?? "open").toLowerCase();
  const number = Number(value("number"));
  return {
    number: Number.isInteger(number) && number > 0 ? number : fallbackNumber,
    title: String(value("title") ?? ""),
    state: state === "closed" ? "closed" : "open",
    labels: Array.isArray(labels) ? labels.map(String) : typeof labels === "string" ? labels.split(",").map((l) => l.trim()) : [],
    created_at: String(value("created_at") ?? new Date(0).toISOString()),
    closed_at: typeof value("closed_at") === "string" ? String(value("closed_at")) : null,
    body: rest,
    comments,
  };
}

/**
 * An issue file's text, or why it is passed over: it is gone, or it is a symbolic link, which this
 * forge never writes and never follows (passed over like a file without front matter). Read like
 * every file someone else may have written: never waiting on a FIFO or a device, at most 16 MiB.
 * A file it cannot read (a FIFO, a folder, one it may not open, one too large) is a ForgeError
 * naming it, as an unreadable issue file always was: the next run tries again once it is fixed.
 */
async function readIssueFile(path: string): Promise<{ text: string } | { passedOver: string }> {
  const file = await readBoundedFile(path, MAX_ISSUE_FILE_BYTES);
  if (file.ok) return { text: file.text };
  if (file.code === "ENOENT") return { passedOver: "is gone" };
  if (file.code === "ELOOP") return { passedOver: file.reason };
  if (file.reason === "too large") throw new ForgeError(`file forge: ${path} is larger than 16 MiB; move it out of the issue folder`);
  if (file.code === undefined) throw new ForgeError(`file forge: ${path} ${file.reason}; move it out of the issue folder`);
  throw new ForgeError(`file forge: ${path} ${file.reason}`);
}

function fsError(what: string, error: unknown): ForgeError {
  // lastbeat's own errors (a folder /proc will not take) say what is wrong in their message.
  const code = error instanceof LastbeatError ? error.message : (error as NodeJS.ErrnoException).code;
  return new ForgeError(`file forge: ${what} failed${code ? ` (${code})` : ""}`, { cause: error });
}
