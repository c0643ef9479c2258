/*
 * Heartbeat text (message, output tail, reasons, even job names of broken files) is untrusted:
 * anyone who can write a heartbeat can put anything in it. Before it goes into an issue it is
 * made inert: it cannot break the table, ping people, close its fence, inject HTML, or grow
 * without bound.
 */

/** Placed after `@` and `#` so `@everyone` and `#12` neither ping nor cross-reference. */
const ZWJ = "\u200D";

// ANSI colour and cursor sequences from job output.
const ANSI = /\u001B(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001B]*(?:\u0007|\u001B\\)|[@-Z\\-_])/g;
// Bidirectional overrides reorder what a reader sees ("Trojan Source").
const BIDI = /[\u202A-\u202E\u2066-\u2069]/g;

/** The first `max` characters, with `…` when cut. Never splits a surrogate pair. */
export function cutStart(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - 1);
  if (isHighSurrogate(text.charCodeAt(end - 1))) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** The last `max` characters, with `…` in front when cut: the end of output is what matters. */
export function cutEnd(text: string, max: number): string {
  if (text.length <= max) return text;
  let start = text.length - Math.max(0, max - 1);
  if (isLowSurrogate(text.charCodeAt(start))) start += 1;
  return `…${text.slice(start)}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function neutraliseMentions(text: string): string {
  return text.replace(/@/g, `@${ZWJ}`).replace(/#(?=\d)/g, `#${ZWJ}`);
}

/**
 * One line of inline markdown, safe inside a GFM table cell: newlines and control characters
 * become spaces, markdown punctuation is backslash-escaped (so `|` cannot end the cell and `[`
 * cannot start a link), `<` `>` `&` become entities, mentions are broken, autolinks defused.
 */
export function inlineText(text: string, max = 200): string {
  const flat = text
    .replace(ANSI, "")
    .replace(BIDI, "")
    .replace(/[\u0000-\u001F\u007F-\u009F\u2028\u2029]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  const escaped = cutStart(flat, max)
    .replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"))
    .replace(/[\\`*_[\]|~!$#^]/g, "\\$&")
    // GFM turns bare `http://…` and `www.…` into links even when escaped: a joiner keeps them text.
    .replace(/:\/\//g, `:${ZWJ}//`)
    .replace(/\bwww\./gi, (w) => `${w.slice(0, 3)}${ZWJ}.`);
  return neutraliseMentions(escaped);
}

/**
 * A fenced code block holding `text` verbatim (minus terminal escapes), cut to its last
 * `maxLines` lines and `maxChars` characters. The fence is longer than any backtick run inside,
 * so no line of the text can close it.
 */
export function codeBlock(text: string, options: { maxChars?: number; maxLines?: number } = {}): string {
  const { maxChars = 2000, maxLines = 40 } = options;
  let clean = text
    .replace(ANSI, "")
    .replace(BIDI, "")
    .replace(/\r\n?/g, "\n")
    .replace(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g, "")
    .replace(/\n+$/, "");
  clean = cutEnd(clean, maxChars);
  const lines = clean.split("\n");
  if (lines.length > maxLines) clean = `…\n${lines.slice(-maxLines).join("\n")}`;
  clean = neutraliseMentions(clean);
  const longestRun = Math.max(0, ...Array.from(clean.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  return `${fence}text\n${clean}\n${fence}`;
}

/** Plain one-line text for an issue title (titles are not rendered as markdown). */
export function titleText(text: string): string {
  return text
    .replace(ANSI, "")
    .replace(BIDI, "")
    .replace(/[\u0000-\u001F\u007F-\u009F]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}
