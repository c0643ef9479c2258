import { plainLine } from "lastbeat/text";
import { ForgeError, redact } from "./errors.js";

/*
 * The shapes of the forge answers lastbeat acts on, checked before they are believed. A 2xx
 * answer of another shape (an SSO or proxy login page, a gateway's `{"message":"ok"}`, a list of
 * something else, an empty body) is a ForgeError like a 502 and never an empty list: read as "no
 * issues", it opened a new issue on every run (docs/forges.md, "Answers it does not understand").
 */

/** A 2xx body that is not JSON (an HTML login page, a proxy's plain text, nothing at all). */
export class TextAnswer {
  constructor(
    readonly text: string,
    readonly contentType: string | null,
  ) {}
}

/** What one field of an answer must be, and how a reader says it. */
export interface FieldRule {
  test: (value: unknown) => boolean;
  /** `a whole number`, `text`, `a list of label names`. */
  is: string;
  /** Absent is fine (the adapter has a default for it). */
  optional?: boolean;
}

export type Fields = Readonly<Record<string, FieldRule>>;

/** What an answer must be; `T` is what the adapter reads it as once it fits. */
export interface AnswerShape<T> {
  /** `a list of issues`, `an issue`: what the answer should have been. */
  readonly name: string;
  /** What is wrong with `data`, or null when it fits. */
  problem(data: unknown, token: string): string | null;
  /** Only for the type: never set. */
  readonly _type?: T;
}

export const wholeNumber: FieldRule = { test: (v) => Number.isSafeInteger(v) && (v as number) > 0, is: "a whole number" };
/** A count the adapter can do without (absent or null reads as "not said"). */
export const optionalCount: FieldRule = { test: (v) => v === undefined || v === null || (Number.isSafeInteger(v) && (v as number) >= 0), is: "a count", optional: true };
export const text: FieldRule = { test: (v) => typeof v === "string", is: "text" };
export const optionalText: FieldRule = { test: (v) => v === undefined || v === null || typeof v === "string", is: "text", optional: true };
/** The oldest of several duplicates is kept: a creation time that does not parse would pick the wrong one. */
export const time: FieldRule = { test: (v) => typeof v === "string" && !Number.isNaN(Date.parse(v)), is: "a time" };

/**
 * `{ author }` of an issue or comment, who wrote it: `user.login` (GitHub, Gitea),
 * `author.username` (GitLab); nothing when the answer does not say. Never checked as a field: an
 * answer without it is believed, and its comments only count as the checker's own when they name
 * the issue's author (see `saidBefore` in sync.ts).
 */
export function withAuthor(item: { user?: unknown; author?: unknown }): { author?: string } {
  const login = (item.user as { login?: unknown } | null | undefined)?.login ?? (item.author as { username?: unknown } | null | undefined)?.username;
  return typeof login === "string" && login !== "" ? { author: login } : {};
}

/** A comment or note as `recentComments` gives it. */
export function toComment(item: { body?: string | null; user?: unknown; author?: unknown }): { body: string; author?: string } {
  return { body: item.body ?? "", ...withAuthor(item) };
}

/** A list whose every item passes `item`; with `optional`, null or absent (read as empty) too. */
export function listOf(item: (value: unknown) => boolean, is: string, options: { optional?: boolean } = {}): FieldRule {
  const optional = options.optional ?? false;
  return { test: (v) => (optional && (v === undefined || v === null)) || (Array.isArray(v) && v.every(item)), is, optional };
}

/** A JSON object with `fields`. */
export function objectShape<T>(name: string, fields: Fields): AnswerShape<T> {
  return {
    name,
    problem: (data, token) => (isObject(data) ? fieldProblem(data, fields, "") : wrongKind(data, token)),
  };
}

/** A JSON list of objects with `fields` (one page of it). */
export function listShape<T>(name: string, fields: Fields): AnswerShape<T[]> {
  return {
    name,
    problem(data, token) {
      if (!Array.isArray(data)) return wrongKind(data, token);
      for (const [index, item] of data.entries()) {
        if (!isObject(item)) return `item ${index + 1} is ${kindOf(item)}`;
        const problem = fieldProblem(item, fields, `item ${index + 1}`);
        if (problem) return problem;
      }
      return null;
    },
  };
}

/** Where an answer came from, for the error line. */
export interface AnswerSource {
  /** `gitlab acme/ops`. */
  target: string;
  /** `listing open issues`. */
  what: string;
  method: string;
  /** The API path without the query (never carries the token): `/projects/acme%2Fops/issues`. */
  path: string;
  /** Which page of a list, when past the first. */
  page?: number;
  status: number;
  /** Removed from the excerpt of the answer. */
  token: string;
}

/**
 * `data` as `T` when it has the shape, else a ForgeError (exit 3) naming the forge, the request
 * and what was wrong. After a write the error is `unclear`: the forge may have done it, so a
 * create is never sent again before the issues are listed.
 */
export function checkAnswer<T>(shape: AnswerShape<T>, data: unknown, source: AnswerSource): T {
  const problem = shape.problem(data, source.token);
  if (problem === null) return data as T;
  const { target, what, method, path, page, status } = source;
  const request = `${method} ${path}${page !== undefined && page > 1 ? `?page=${page}` : ""}`;
  throw new ForgeError(`${target}: ${what} failed: ${request} answered HTTP ${status} with something that is not ${shape.name} (${problem})`, {
    status,
    unclear: method !== "GET",
  });
}

/** A body read as JSON when it is JSON, else kept as the text it is. */
export function readBody(body: string, contentType: string | null): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return new TextAnswer(body, contentType);
  }
}

/** Enough of an unexpected answer to recognise it (a login page, a gateway's message). */
const EXCERPT_CHARS = 100;

function wrongKind(data: unknown, token: string): string {
  const kind = kindOf(data);
  const shown = data instanceof TextAnswer ? data.text : typeof data === "object" || typeof data === "string" ? JSON.stringify(data) : "";
  // Untrusted text bound for a terminal and a log: the token cut out, one line, no controls.
  const excerpt = shown && data !== null ? plainLine(redact(shown, token), EXCERPT_CHARS) : "";
  return excerpt ? `${kind}: ${excerpt}` : kind;
}

/** What a value is, in a reader's words. */
function kindOf(value: unknown): string {
  if (value instanceof TextAnswer) {
    if (value.text.trim() === "") return "an empty answer";
    return /html/i.test(value.contentType ?? "") || /^\s*</.test(value.text) ? "an HTML page" : "not JSON";
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  switch (typeof value) {
    case "object":
      return "an object";
    case "string":
      return "a string";
    case "number":
      return "a number";
    case "boolean":
      return "a boolean";
    default:
      return typeof value;
  }
}

function fieldProblem(item: Record<string, unknown>, fields: Fields, where: string): string | null {
  for (const [field, rule] of Object.entries(fields)) {
    const value = item[field];
    if (rule.test(value)) continue;
    if (value === undefined && !rule.optional) return where ? `${where} has no ${field}` : `no ${field}`;
    return `${where ? `${where}'s ` : ""}${field} is not ${rule.is} (${kindOf(value)})`;
  }
  return null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof TextAnswer);
}
