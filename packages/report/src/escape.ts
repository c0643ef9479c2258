/**
 * Text from heartbeat files (job messages, output tails, even reasons that quote them) is
 * untrusted: whoever can write a `.last` file must not be able to break the panel's table, ping
 * people, inject HTML or links, or send escape sequences to the reader's terminal.
 */

// C0/C1 controls (ESC starts terminal escape sequences), DEL, and the bidi overrides and isolates
// that can make text display in another order than it reads ("trojan source").
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029]/g;

/** Longest note kept in a panel cell, in characters. */
export const MAX_CELL_CHARS = 120;
/** Lines of a job's output tail shown in the brief. */
export const MAX_TAIL_LINES = 20;

/** Removes control and bidi characters; keeps line breaks as `\n` and tabs as spaces. */
export function stripUnsafe(text: string): string {
  return text.replace(LINE_BREAKS, "\n").replace(/\t/g, "  ").replace(UNSAFE_CHARS, "");
}

/** One line of plain text, cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max = MAX_CELL_CHARS): string {
  const flat = stripUnsafe(text).replace(/\n/g, " ").replace(/ {2,}/g, " ").trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, max - 1).join("").trimEnd()}…`;
}

/** The last `maxLines` lines of an output tail (the end is what explains a failure). */
export function lastLines(text: string, maxLines = MAX_TAIL_LINES): { text: string; cut: boolean } {
  const lines = stripUnsafe(text).replace(/\n+$/, "").split("\n");
  const cut = lines.length > maxLines;
  return { text: lines.slice(-maxLines).join("\n"), cut };
}

/** A zero-width space after `@` stops GitHub, Gitea, Slack and Discord from pinging anyone. */
function defuseMentions(text: string): string {
  return text.replace(/@(?=[\p{L}\p{N}_-])/gu, "@\u200b");
}

/**
 * Escapes one line of untrusted text for a GFM table cell. Everything that could start markup is
 * backslash-escaped (`|` so the cell cannot end early, `<` so no HTML or autolink, backticks,
 * emphasis, links, strikethrough, entities); underscores inside words are left alone because
 * CommonMark never reads them as emphasis, which keeps `db_backup` readable in a plain mail.
 */
export function escapeMarkdownInline(text: string): string {
  const escaped = oneLine(text, Number.POSITIVE_INFINITY).replace(
    /[\\`*_[\]<|~]|&(?=[#A-Za-z])/g,
    (ch, offset: number, whole: string) => {
      if (ch === "_" && /[\p{L}\p{N}]/u.test(whole[offset - 1] ?? "") && /[\p{L}\p{N}]/u.test(whole[offset + 1] ?? "")) {
        return ch;
      }
      return `\\${ch}`;
    },
  );
  return defuseMentions(escaped);
}

/** A panel cell: one line, cut, escaped. */
export function markdownCell(text: string, max = MAX_CELL_CHARS): string {
  return escapeMarkdownInline(oneLine(text, max));
}

/**
 * A fenced code block that its content cannot close: the fence is one backtick longer than the
 * longest run of backticks inside (CommonMark §4.5). Mentions and HTML are inert inside it.
 */
export function markdownFence(text: string, info = "text"): string {
  const body = stripUnsafe(text);
  const longestRun = Math.max(0, ...Array.from(body.matchAll(/`+/g), (m) => m[0].length));
  const fence = "`".repeat(Math.max(3, longestRun + 1));
  return `${fence}${info}\n${body}\n${fence}`;
}

/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return stripUnsafe(text).replace(/[&<>"']/g, (ch) => HTML_ENTITIES[ch] ?? ch);
}

const HTML_ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
