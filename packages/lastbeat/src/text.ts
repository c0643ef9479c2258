/*
 * Text from heartbeat files (message, output tail, reasons that quote them, even the job name of a
 * broken file) is untrusted: whoever can write a `.last` file can put anything in it. This module
 * is the one place that makes such text inert before it reaches an issue, a brief, a web page or a
 * terminal: it cannot break a table, ping people, close its fence, inject HTML or links, reorder
 * what a reader sees, send escape sequences to a terminal, or grow without bound.
 * See docs/spec.md, "Untrusted text". Internal: imported by @lastbeat/forge and @lastbeat/report
 * as `lastbeat/text`; not part of the job-side API.
 */

/**
 * Placed after `@` (and inside `#12`, `GH-12`, GitLab's `!12` and `&12`) so forges, Slack and mail
 * clients neither ping anyone nor cross-reference an issue, merge request or epic. Zero-width: a reader sees the text unchanged.
 */
export const MENTION_BREAK = "\u200D";

// Terminal escape sequences from job output (CSI colours and cursor moves, OSC titles and
// hyperlinks, two-character escapes), removed whole so no `[31m` is left behind.
const ANSI = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[@-Z\\-_])/g;
// Vertical tab, form feed, NEL and the Unicode separators end a line too.
const LINE_BREAK = /\r\n?|[\u000B\u000C\u0085\u2028\u2029]/g;
// The one control set: C0 (but tab and newline) and C1 controls, DEL, and the bidirectional marks,
// embeddings, overrides and isolates that make text display in another order than it reads
// ("Trojan Source", CVE-2021-42574).
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

/** The first `maxBytes` bytes of `text` in UTF-8, never splitting a character. No marker: for storage. */
export function firstBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  let end = Math.max(0, maxBytes);
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString("utf8");
}

/** The last `maxBytes` bytes of `text` in UTF-8, never splitting a character. No marker: for storage. */
export function lastBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= maxBytes) return text;
  let start = bytes.length - Math.max(0, maxBytes);
  while (start < bytes.length && ((bytes[start] ?? 0) & 0xc0) === 0x80) start++;
  return bytes.subarray(start).toString("utf8");
}

/**
 * At most `maxChars` characters (UTF-16 code units, the unit of `String#length` and of the forges'
 * limits) from the start of `text`, ending in `…` when cut. Never splits a surrogate pair, never
 * leaves a space dangling before the `…`.
 */
export function firstChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars < 1) return "";
  let end = maxChars - 1;
  if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end).trimEnd()}…`;
}

/** At most `maxChars` characters from the end of `text`, starting with `…` when cut: the end of output is what matters. */
export function lastChars(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  if (maxChars < 1) return "";
  let start = text.length - (maxChars - 1);
  if (isLowSurrogate(text.charCodeAt(start))) start += 1;
  return `…${text.slice(start)}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

/**
 * `text` without terminal escapes or control characters: line breaks become `\n`, tabs two
 * spaces, everything in the control set goes. What every other function here starts from.
 */
export function stripControls(text: string): string {
  return text.replace(ANSI, "").replace(LINE_BREAK, "\n").replace(/\t/g, "  ").replace(CONTROL, "");
}

/**
 * One line of plain text (an issue title, a terminal cell, text for HTML): controls stripped,
 * every run of whitespace one space, cut to `maxChars`. Not escaped for any markup.
 */
export function plainLine(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  // Most job names and reasons hold nothing to strip or fold: `check` prints thousands of them.
  if (!NOT_PLAIN.test(text)) return firstChars(text, maxChars);
  return firstChars(stripControls(text).replace(/\s+/g, " ").trim(), maxChars);
}

/**
 * What plainLine would change: the control set (escapes start with one, and so do tab, CR and
 * the other line breaks but NEL and the Unicode separators, which are white space), white space
 * other than a space, two spaces in a row, a space at either end.
 */
const NOT_PLAIN = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]|[^\S ]| {2}|^ | $/;

/**
 * Breaks `@name` mentions and `#12` / `GH-12` issue references with a zero-width joiner, and
 * GitLab's `!12` (merge request) and `&12` (epic) references, which post a "mentioned in" note
 * there: GitLab finds them in the rendered text, so a markdown backslash does not stop them.
 * Idempotent: text that went through it once is left as it is.
 */
function defuseMentions(text: string): string {
  return text
    .replace(/@(?!\u200D)/g, `@${MENTION_BREAK}`)
    .replace(/#(?=\d)/g, `#${MENTION_BREAK}`)
    // `&` may already be the entity `&amp;` (inline markdown): it still renders as `&12`.
    .replace(/(!|&(?:amp;)?)(?=\d)/g, `$1${MENTION_BREAK}`)
    .replace(/\b(GH)-(?=\d)/gi, `$1${MENTION_BREAK}-`);
}

/**
 * One line of inline markdown, safe inside a GFM table cell, a heading or bold text: a
 * `plainLine` cut to `maxChars`, then markdown punctuation backslash-escaped (`|` cannot end the
 * cell, `[` cannot start a link, `$` cannot start GitHub math), `<` `>` `&` written as entities,
 * bare URLs kept from becoming autolinks, and mentions defused.
 */
export function inlineMarkdown(text: string, maxChars = Number.POSITIVE_INFINITY): string {
  const escaped = plainLine(text, maxChars)
    .replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"))
    .replace(/[\\`*_[\]|~!$#^]/g, "\\$&")
    // GFM turns bare `http://…` and `www.…` into links even when escaped: a joiner keeps them text.
    .replace(/:\/\//g, `:${MENTION_BREAK}//`)
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}${MENTION_BREAK}.`);
  return defuseMentions(escaped);
}

/** Limits for the end of a multi-line text (an output tail). */
export interface TailLimits {
  maxLines?: number;
  maxChars?: number;
}

/** The end of a multi-line text, and whether anything before it was left out. */
export interface Tail {
  text: string;
  cut: boolean;
}

/**
 * The end of a multi-line text: controls stripped, trailing newlines dropped, then the last
 * `maxChars` characters and the last `maxLines` lines. A cut is marked: `…` in front of a cut
 * line, a `…` line in front of the kept lines.
 */
export function lastLines(text: string, limits: TailLimits = {}): Tail {
  const { maxLines = Number.POSITIVE_INFINITY, maxChars = Number.POSITIVE_INFINITY } = limits;
  const clean = stripControls(text).replace(/\n+$/, "");
  let kept = lastChars(clean, maxChars);
  let cut = kept !== clean;
  const lines = kept.split("\n");
  if (lines.length > maxLines) {
    kept = `…\n${lines.slice(-maxLines).join("\n")}`;
    cut = true;
  }
  return { text: kept, cut };
}

/**
 * A fenced code block holding `text` verbatim (minus controls), cut by `lastLines` when limits are
 * given. The fence is one backtick longer than any backtick run inside (CommonMark §4.5), so no
 * line of the text can close it; mentions are defused even inside, for renderers and mail
 * notifications that do not honour the fence.
 */
export function fencedBlock(text: string, limits: TailLimits = {}): string {
  const body = defuseMentions(lastLines(text, limits).text);
  const longestRun = Math.max(0, ...Array.from(body.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  return `${fence}text\n${body}\n${fence}`;
}

const HTML_ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for HTML element content and double- or single-quoted attribute values, controls stripped. */
export function escapeHtml(text: string): string {
  return stripControls(text).replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch] ?? ch);
}
