import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { runCli } from "@lastbeat/cli";
import { renderJobIssue, renderRollupIssue } from "@lastbeat/forge";
import { PANEL_COLUMNS, buildBrief, formatBrief, renderBrief, renderPanel, type Journal } from "@lastbeat/report";
import { evaluate, type Heartbeat, type JobState } from "lastbeat";
import type { JournalEntry } from "lastbeat/internal";
import {
  MENTION_BREAK,
  escapeHtml,
  fencedBlock,
  firstBytes,
  firstChars,
  inlineMarkdown,
  lastBytes,
  lastChars,
  lastLines,
  plainLine,
  stripControls,
} from "lastbeat/text";
import { fakeIo } from "./support/fake-io.js";
import { testdir } from "./support/testdir.js";
import { allNodes, parseMarkdown, tableCells, textOf, type MarkdownNode } from "./support/markdown.js";

/*
 * Text from heartbeat files is untrusted (docs/spec.md, "Untrusted text"). One rule, in
 * `lastbeat/text`, makes it inert wherever it goes: the alert issue, the morning brief (markdown,
 * text, HTML) and the terminal. This suite checks the rule itself, property by property, then
 * every place it is used, by parsing the rendered markdown as GitHub-flavoured renderers do.
 */

const NOW = new Date("2026-04-08T07:00:00Z");
const SCOPE = "web-1";
const minutesAgo = (minutes: number) => new Date(NOW.getTime() - minutes * 60_000).toISOString();

function beat(job: string, fields: Partial<Heartbeat>): JobState {
  const heartbeat: Heartbeat = { format: "lastbeat/1", job, status: "ok", at: minutesAgo(5), interval_s: 3600, ...fields };
  return evaluate(heartbeat, undefined, NOW, { file: `/var/run/lastbeat/heartbeats/${job}.last` });
}
const failedWith = (job: string, message: string, outputTail = message) =>
  beat(job, { status: "fail", exit_code: 1, message, output_tail: outputTail });
const okWith = (job: string, message: string) => beat(job, { message });
const staleJob = (job: string) => beat(job, { at: minutesAgo(300) });
const invalidJob = (job: string, reason: string) =>
  evaluate(undefined, undefined, NOW, { job, file: `/hb/${job}.last`, invalidReason: reason, modifiedAt: new Date(minutesAgo(60)) });

const unbroken = (text: string) => text.replaceAll(MENTION_BREAK, "");
// A mention or reference a forge would act on: `@name`, `#12`, `GH-12`, GitLab's `!12` and `&12`.
const PINGABLE = /@[\p{L}\p{N}_-]|#\d|\bGH-\d|[!&]\d/iu;
// The control set: C0 but newline, C1, DEL, bidi marks, embeddings, overrides and isolates.
const CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

/** Text a job (or whoever can write its heartbeat file) might put in `message` or `output_tail`. */
const HOSTILE = [
  "a | b || c \\| d",
  "line one\nline two\r\nline three",
  "`code` and ``` a fence ```",
  "<script>alert(1)</script><img src=x onerror=alert(1)>",
  "@everyone @here please look, cc @octocat and GH-12 and #34, see !56 and &7",
  "[click me](https://evil.example) ![x](https://evil.example/x.png) <https://evil.example> www.evil.example",
  "**bold** _em_ ~~gone~~ &amp; &#60; $x^2$",
  "\u001b[31mred\u001b[0m \u202eevil\u202c bell\u0007",
  "trailing backslash \\",
];

/** Any text, weighted towards what markdown, mentions and terminals react to. */
const anyText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({
    unit: fc.constantFrom("`", "|", "@", "<", ">", "\\", "\n", "\r", "\t", "~", "#", "1", "a", "G", "H", " ", "[", "]", "(", ")", "!", "*", "_", "&", "-", ":", "/", "w", ".", "$", "^", "\u001b", "\u202e", "\u200d", "😀"),
    maxLength: 200,
  }),
);

describe("the text rule (lastbeat/text)", () => {
  it("cuts bytes on UTF-8 character boundaries, keeping the start or the end", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), fc.nat(200), (text, max) => {
        const head = firstBytes(text, max);
        const tail = lastBytes(text, max);
        expect(Buffer.byteLength(head)).toBeLessThanOrEqual(Math.max(max, 0));
        expect(Buffer.byteLength(tail)).toBeLessThanOrEqual(max);
        expect(text.startsWith(head)).toBe(true);
        expect(text.endsWith(tail)).toBe(true);
        // Nothing is cut that fits, and a cut loses less than one character (4 bytes).
        expect(Buffer.byteLength(head)).toBeGreaterThan(Math.min(Buffer.byteLength(text), max) - 4);
        expect(Buffer.byteLength(tail)).toBeGreaterThan(Math.min(Buffer.byteLength(text), max) - 4);
      }),
    );
    expect(firstBytes("añb", 2)).toBe("a");
    expect(lastBytes("añb", 2)).toBe("b");
  });

  it("cuts characters with a visible … and never splits a surrogate pair", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 60 }), fc.integer({ min: 1, max: 80 }), (text, max) => {
        for (const cut of [firstChars(text, max), lastChars(text, max)]) {
          expect(cut.length).toBeLessThanOrEqual(max);
          expect(cut).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
          if (text.length <= max) expect(cut).toBe(text);
          else expect(cut).toContain("…");
        }
      }),
    );
    expect(firstChars("backup is late", 8)).toBe("backup…");
    expect(lastChars("a😀b😀", 4)).toBe("…b😀");
  });

  it("never splits a surrogate pair at the very edges of the surrogate ranges, and cuts exactly at its limit", () => {
    // U+10000 is \uD800\uDC00 and U+10FFFF is \uDBFF\uDFFF: the first and last code unit of each half.
    for (const c of ["\u{10000}", "\u{10FFFF}"]) {
      expect(firstChars(`ab${c}cd`, 4)).toBe("ab…");
      expect(lastChars(`ab${c}cd`, 4)).toBe("…cd");
    }
    // Just outside the ranges a code unit is a whole character and is kept.
    expect(firstChars("ab\uD7FFcd", 4)).toBe("ab\uD7FF…");
    expect(lastChars("ab\uE000cd", 4)).toBe("…\uE000cd");
    // A text exactly at its limit is not cut; one over it is; a limit of one leaves the marker alone.
    for (const cut of [firstChars, lastChars]) {
      expect(cut("abc", 3)).toBe("abc");
      expect(cut("abc", 1)).toBe("…");
      expect(cut("abc", 0)).toBe("");
      expect(cut("abc", -1)).toBe("");
    }
    expect(firstChars("abcd", 3)).toBe("ab…");
    expect(lastChars("abcd", 3)).toBe("…cd");
    expect(lastLines("a\nb", { maxLines: 2 })).toEqual({ text: "a\nb", cut: false });
    expect(lastLines("a\nb", { maxLines: 1 })).toEqual({ text: "…\nb", cut: true });
    expect(lastLines("abc", { maxChars: 3 })).toEqual({ text: "abc", cut: false });
    expect(firstBytes("abc", 0)).toBe("");
    expect(lastBytes("abc", 0)).toBe("");
    expect(firstBytes("abc", -1)).toBe("");
    expect(lastBytes("abc", -1)).toBe("");
  });

  it("strips terminal escapes whole and the one control set, keeping line breaks as \\n", () => {
    expect(stripControls("\u001b[31mred\u001b[0m \u001b]8;;http://x\u0007link\u001b]8;;\u0007 \u202eevil\u202c\u0007 a\r\nb\rc\u2028d\te")).toBe(
      "red link evil a\nb\nc\nd  e",
    );
    fc.assert(
      fc.property(anyText, (text) => {
        const clean = stripControls(text);
        expect(clean).not.toMatch(CONTROL);
        expect(stripControls(clean)).toBe(clean);
        const line = plainLine(text);
        expect(line).not.toMatch(/[\n\r]|^\s|\s$|\s{2}/);
        expect(plainLine(line)).toBe(line);
      }),
    );
  });

  it("a plain line's shortcut for text with nothing to change gives what the whole rule gives", () => {
    // The rule spelt out: strip, fold white space, trim, cut. plainLine skips it for clean text.
    const reference = (text: string, max: number) => firstChars(stripControls(text).replace(/\s+/g, " ").trim(), max);
    const edges = fc.constantFrom(" ", "  ", "\t", "\u00a0", "\ufeff", "\u2028", "\u0085", "\u200e", "\u3000", "\u001b[1m", "a", "é", "😀");
    fc.assert(
      fc.property(fc.oneof(anyText, fc.array(edges, { maxLength: 12 }).map((parts) => parts.join(""))), fc.integer({ min: 0, max: 40 }), (text, max) => {
        expect(plainLine(text, max)).toBe(reference(text, max));
        expect(plainLine(text)).toBe(reference(text, Number.POSITIVE_INFINITY));
      }),
      { numRuns: 2000 },
    );
    const clean = "backup@/mnt/fleet/web-3: no beat since 2026-04-08T02:00:00.000Z";
    expect(plainLine(clean)).toBe(clean);
  });

  it("inline markdown reads as the plain line in a table cell, with no markup taking effect", () => {
    fc.assert(
      fc.property(fc.array(anyText, { minLength: 1, maxLength: 4 }), (texts) => {
        const markdown = ["| a | b |", "| --- | --- |", ...texts.map((text) => `| ${inlineMarkdown(text)} | x |`)].join("\n");
        const cells = tableCells(markdown);
        expect(cells).toHaveLength(1 + texts.length);
        texts.forEach((text, i) => {
          expect(cells[i + 1]).toHaveLength(2);
          expect(unbroken(cells[i + 1]![0]!)).toBe(unbroken(plainLine(text)));
          expect(cells[i + 1]![0]).not.toMatch(PINGABLE);
        });
        const types = new Set(allNodes(parseMarkdown(markdown)).map((node) => node.type));
        for (const type of types) expect(["root", "table", "tableRow", "tableCell", "text"]).toContain(type);
      }),
      { numRuns: 300 },
    );
  });

  it("a fenced block holds the text's end verbatim and nothing can close it", () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 1, max: 8 }), (text, maxLines) => {
        const markdown = `before\n\n${fencedBlock(text, { maxLines, maxChars: 120 })}\n\nafter`;
        const tree = parseMarkdown(markdown);
        expect((tree.children ?? []).map((node) => node.type)).toEqual(["paragraph", "code", "paragraph"]);
        const code = allNodes(tree, "code")[0]!;
        expect(unbroken(code.value ?? "")).toBe(unbroken(lastLines(text, { maxLines, maxChars: 120 }).text));
        expect(code.value).not.toMatch(PINGABLE);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the end of a long output and says it was cut", () => {
    const output = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join("\n");
    expect(lastLines(output, { maxLines: 3 })).toEqual({ text: "…\nline 48\nline 49\nline 50", cut: true });
    expect(lastLines(`${output}\n\n`, { maxChars: 9 })).toEqual({ text: "…\nline 50", cut: true });
    expect(lastLines("done\n")).toEqual({ text: "done", cut: false });
  });

  it("HTML text has no markup and decodes to the text itself", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const html = escapeHtml(text);
        expect(html).not.toMatch(/[<>"']/);
        const decoded = html.replace(/&(amp|lt|gt|quot|#39);/g, (_, e: string) => ({ amp: "&", lt: "<", gt: ">", quot: '"', "#39": "'" })[e] ?? "");
        expect(decoded).toBe(stripControls(text));
      }),
    );
  });

  it("keeps bare URLs from becoming links with a joiner after the scheme's colon and after www", () => {
    const B = MENTION_BREAK;
    expect(inlineMarkdown("see http://x.example/a and WWW.y.example or www.z")).toBe(`see http:${B}//x.example/a and WWW${B}.y.example or www${B}.z`);
  });

  it("breaks mentions and issue references, once", () => {
    const once = inlineMarkdown("@everyone see #12, GH-3 and gh-4; mail a@b.example");
    expect(unbroken(once)).toBe("@everyone see \\#12, GH-3 and gh-4; mail a@b.example");
    expect(once).not.toMatch(PINGABLE);
    expect(fencedBlock(fencedBlock("@x"))).toContain(`@${MENTION_BREAK}x`);
    expect(fencedBlock(fencedBlock("@x"))).not.toContain(`@${MENTION_BREAK}${MENTION_BREAK}`);
  });
});

/** The invariants of every issue body, whatever the heartbeats said. */
function expectInertIssue(body: string, alerting: number): MarkdownNode {
  const tree = parseMarkdown(body);
  const tables = allNodes(tree, "table");
  expect(tables).toHaveLength(1);
  const rows = allNodes(tables[0]!, "tableRow");
  expect(rows).toHaveLength(alerting + 1);
  for (const row of rows) expect(allNodes(row, "tableCell")).toHaveLength(6);
  // The only raw HTML is our own markers.
  for (const html of allNodes(tree, "html")) expect(html.value).toMatch(/^<!-- lastbeat:(rollup scope=web-1|storm scope=web-1|job:\S+ scope=web-1|state .*) -->$/);
  for (const type of ["link", "image", "linkReference", "footnoteReference", "inlineMath", "math"]) {
    expect(allNodes(tree, type), type).toHaveLength(0);
  }
  // No mention or issue reference survives, in text or in code.
  for (const node of [...allNodes(tree, "text"), ...allNodes(tree, "inlineCode"), ...allNodes(tree, "code")]) {
    expect(node.value).not.toMatch(PINGABLE);
  }
  // Nothing but our markers, the intro, the table and the fenced details at the top level.
  for (const child of tree.children ?? []) expect(["html", "paragraph", "table", "code"]).toContain(child.type);
  expect(body.length).toBeLessThanOrEqual(65_536);
  return tree;
}

const HOSTILE_MESSAGE =
  "@everyone look | here </td><script>alert(1)</script> ``` [x](http://evil.example) www.evil.example #1 \n| a | b |\n<!-- lastbeat:rollup -->";
const HOSTILE_TAIL = `${"x".repeat(1024 * 1024)}\n\`\`\`\n@team ping\n<img src=x onerror=alert(1)>\n\`\`\`\`\`\`\n~~~\n</details>\n@admin the end`;

describe("the alert issue", () => {
  it("cannot be broken, ping anyone, close the fence or inject HTML (rollup)", () => {
    const states = [
      failedWith("backup", HOSTILE_MESSAGE, HOSTILE_TAIL),
      staleJob("web"),
      invalidJob("evil|<b>@root`x", "not JSON: <script>@here | ```"),
    ];
    const { body, title } = renderRollupIssue(states, SCOPE);
    const tree = expectInertIssue(body, 3);
    expect(title).not.toMatch(/[\n\r]/);

    // The text is still there for a person to read, just inert.
    const cells = allNodes(tree, "tableCell").map((cell) => unbroken(textOf(cell)));
    expect(cells.some((c) => c.includes("look | here </td><script>"))).toBe(true);
    expect(cells.some((c) => c.startsWith("evil|<b>@"))).toBe(true);
    const code = allNodes(tree, "code").map((c) => c.value ?? "");
    expect(code).toHaveLength(2);
    // The fence outlived every backtick run: the tail's own fences are content.
    expect(code[1]).toContain("``````\n~~~");
    // 1 MiB was cut to the end of the output.
    expect(code[1]!.length).toBeLessThan(2100);
    expect(code[1]).toMatch(/the end$/);
  });

  it("keeps per-job bodies inert as well", () => {
    expectInertIssue(renderJobIssue(failedWith("backup", HOSTILE_MESSAGE, HOSTILE_TAIL), SCOPE).body, 1);
  });

  it("keeps any message and output inert (property)", () => {
    fc.assert(
      fc.property(anyText, anyText, (message, tail) => {
        expectInertIssue(renderRollupIssue([failedWith("job-a", message, tail), staleJob("job-b")], SCOPE).body, 2);
      }),
      { numRuns: 150 },
    );
  });
});

describe("the heartbeat panel", () => {
  const states = HOSTILE.flatMap((message, i) => [failedWith(`failed-${i}`, message), okWith(`ok-${i}`, message)]);
  const markdown = renderPanel(states, { now: NOW, tz: "UTC" });

  it("keeps one row per job and every column in each row", () => {
    const cells = tableCells(markdown);
    expect(cells).toHaveLength(1 + states.length);
    for (const row of cells) expect(row).toHaveLength(PANEL_COLUMNS.length);
  });

  it("shows each message on one line in the Note cell, with no markup taking effect", () => {
    const notes = new Map(tableCells(markdown).slice(1).map((row) => [row[0], unbroken(row.at(-1)!)]));
    expect(notes.get("ok-0")).toBe("a | b || c \\| d");
    expect(notes.get("ok-1")).toBe("line one line two line three");
    expect(notes.get("ok-2")).toBe("`code` and ``` a fence ```");
    expect(notes.get("ok-3")).toBe("<script>alert(1)</script><img src=x onerror=alert(1)>");
    expect(notes.get("ok-4")).toBe("@everyone @here please look, cc @octocat and GH-12 and #34, see !56 and &7");
    expect(notes.get("ok-6")).toBe("**bold** _em_ ~~gone~~ &amp; &#60; $x^2$");
    expect(notes.get("ok-7")).toBe("red evil bell");
    expect(notes.get("ok-8")).toBe("trailing backslash \\");
    expect(notes.get("failed-3")).toBe("last run failed with exit code 1: <script>alert(1)</script><img src=x onerror=alert(1)>");
  });

  it("produces no HTML, images, code, emphasis, strikethrough, math or links", () => {
    const types = new Set(allNodes(parseMarkdown(markdown)).map((node) => node.type));
    for (const type of ["html", "image", "inlineCode", "emphasis", "strong", "delete", "code", "link", "inlineMath"]) {
      expect(types.has(type), type).toBe(false);
    }
  });

  it("keeps the raw markdown free of control characters and of pingable mentions", () => {
    expect(markdown).not.toMatch(CONTROL);
    expect(markdown).not.toMatch(PINGABLE);
  });

  it("holds for any text at all (property)", () => {
    fc.assert(
      fc.property(fc.array(anyText, { minLength: 1, maxLength: 5 }), (messages) => {
        const panel = renderPanel(
          messages.map((message, i) => okWith(`job-${i}`, message)),
          { now: NOW, tz: "UTC" },
        );
        const cells = tableCells(panel);
        expect(cells).toHaveLength(1 + messages.length);
        for (const row of cells) expect(row).toHaveLength(PANEL_COLUMNS.length);
        const types = allNodes(parseMarkdown(panel)).map((n) => n.type);
        for (const type of ["html", "image", "link"]) expect(types).not.toContain(type);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps one line per job in the text format", () => {
    const text = renderPanel(states, { now: NOW, tz: "UTC", format: "text" });
    // The table, then the legend after a blank line.
    expect(text.split("\n\n")[0]!.split("\n")).toHaveLength(1 + states.length);
    expect(text).not.toMatch(CONTROL);
  });
});

describe("the morning brief", () => {
  const tail = "```\n# Injected heading\n````\n<script>alert(1)</script>\n@everyone\n~~~\n";
  const markdown = renderBrief([failedWith("backup", "boom", tail), okWith("heartbeat-checker", "fine")], { now: NOW, tz: "UTC" });

  it("shows a hostile output tail as one code block, and the panel still follows", () => {
    const nodes = allNodes(parseMarkdown(markdown));
    const code = nodes.filter((node) => node.type === "code");
    expect(code.map((node) => unbroken(node.value ?? ""))).toEqual([tail.trimEnd()]);
    expect(code[0]?.value).not.toMatch(PINGABLE);
    expect(nodes.filter((node) => node.type === "heading").map(textOf)).toEqual([
      "Morning brief — Wednesday 8 April 2026",
      "Needs attention (1)",
      "✗ failed: backup",
      "Since the last brief",
      "Heartbeat panel",
    ]);
    expect(nodes.some((node) => node.type === "html")).toBe(false);
    expect(tableCells(markdown)).toHaveLength(3);
  });

  it("escapes every message and tail in HTML", () => {
    const html = renderBrief(
      HOSTILE.map((message, i) => failedWith(`job-${i}`, message)),
      { now: NOW, tz: "UTC", format: "html" },
    );
    expect(html).not.toMatch(/<script|<img|<a |href=/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toMatch(CONTROL);
  });

  it("escapes a hostile job name (from a file name the reader flagged invalid) too", () => {
    const state = evaluate(undefined, undefined, NOW, {
      job: "evil|name<b>@admin",
      file: "/hb/evil|name<b>@admin.last",
      invalidReason: "file name is not a valid job name",
    });
    const cells = tableCells(renderBrief([state], { now: NOW, tz: "UTC", checker: false }));
    expect(cells[1]?.[0]).toBe(`evil|name<b>@${MENTION_BREAK}admin`);
    expect(cells[1]).toHaveLength(PANEL_COLUMNS.length);
  });
});

describe("the since-the-last-brief section (journal lines)", () => {
  const checker = okWith("heartbeat-checker", "fine");
  const at = (hoursAgo: number) => new Date(NOW.getTime() - hoursAgo * 3_600_000).toISOString();
  /** A journal whose job names and reasons are hostile: anyone who can write the folder can write it. */
  function hostileJournal(reasons: readonly string[], job = (i: number) => `job-${i}`): Journal {
    const entries: JournalEntry[] = reasons.flatMap((reason, i) => [
      { at: at(5), job: job(i), from: "ok" as const, to: "failed" as const, reason },
      ...(i % 2 === 0 ? [{ at: at(2), job: job(i), from: "failed" as const, to: "ok" as const, reason }] : []),
      { at: at(1), job: `flaky-${i}`, from: "ok" as const, to: "flaky" as const, reason },
    ]);
    return { sources: [{ path: "/hb/heartbeat-checker.journal", state: "read", truncated: false, skippedLines: 0, bytes: 1 }], entries };
  }

  /** The section's list in the markdown brief: one item per event, nothing but bold job and text. */
  function expectInertSection(journal: Journal): void {
    const brief = buildBrief([checker], { now: NOW, tz: "UTC", journal });
    const markdown = formatBrief(brief, "md");
    const tree = parseMarkdown(markdown);
    const lists = allNodes(tree, "list");
    expect(lists).toHaveLength(1);
    const items = allNodes(lists[0]!, "listItem");
    expect(items).toHaveLength(brief.since.events.length);
    items.forEach((item, i) => {
      const event = brief.since.events[i]!;
      expect(unbroken(textOf(item))).toBe(unbroken(`${event.job} ${event.text}`));
      for (const node of allNodes(item)) expect(["listItem", "paragraph", "strong", "text"]).toContain(node.type);
      for (const node of allNodes(item, "text")) expect(node.value).not.toMatch(PINGABLE);
    });
    // The panel still follows, whole.
    expect(allNodes(tree, "heading").map(textOf).slice(-2)).toEqual(["Since the last brief", "Heartbeat panel"]);
    expect(markdown).not.toMatch(CONTROL);

    const text = formatBrief(brief, "text");
    expect(text).not.toMatch(CONTROL);
    const section = text.slice(text.indexOf("Since the last brief"), text.indexOf("Heartbeat panel"));
    expect(section.trimEnd().split("\n").filter((l) => l.startsWith("  "))).toHaveLength(brief.since.events.length);

    const html = formatBrief(brief, "html");
    expect(html).not.toMatch(/<script|<img|<a |href=|<b>/i);
    expect(html).not.toMatch(CONTROL);
    expect(html.match(/<li>/g) ?? []).toHaveLength(brief.since.events.length);
  }

  it("keeps hostile reasons and job names inert in markdown, text and HTML", () => {
    expectInertSection(hostileJournal(HOSTILE));
    expectInertSection(hostileJournal(HOSTILE, (i) => HOSTILE[i]!));
    const html = renderBrief([checker], { now: NOW, tz: "UTC", format: "html", journal: hostileJournal(HOSTILE, (i) => HOSTILE[i]!) });
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });

  it("holds for any reason and job name at all (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyText, anyText), { minLength: 1, maxLength: 4 }), (pairs) => {
        expectInertSection(hostileJournal(pairs.map(([reason]) => reason), (i) => pairs[i]![1]));
      }),
      { numRuns: 150 },
    );
  });
});

describe("the status table in a terminal", () => {
  it("shows a hostile message on its job's line, with no escape sequence reaching the terminal", async () => {
    const dir = await testdir("lastbeat-hostile-");
    const message = "\u001b]0;pwned\u0007\u001b[2Jdisk\nfull\u202e";
    const heartbeat = { format: "lastbeat/1", job: "backup", status: "fail", at: minutesAgo(5), interval_s: 3600, message };
    await writeFile(join(dir, "backup.last"), JSON.stringify(heartbeat));
    const io = fakeIo({ env: { LASTBEAT_DIR: dir }, cwd: dir });
    expect(await runCli(["status", "--now", NOW.toISOString()], io)).toBe(1);
    const lines = io.out().split("\n\n")[0]!.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^backup\s+failed\s.*: disk full$/);
    expect(io.out()).not.toMatch(CONTROL);
  });
});

describe("check and status --crontabs in a terminal", () => {
  const ESCAPES = "\u001b]0;pwned\u0007\u001b[2Jcleared \u202eevil\r\noverwrite";

  it("check prints a hostile message and a hostile file name each on its job's line, inert", async () => {
    const dir = await testdir("lastbeat-hostile-");
    const heartbeat = { format: "lastbeat/1", job: "backup", status: "fail", at: minutesAgo(5), interval_s: 3600, message: ESCAPES };
    await writeFile(join(dir, "backup.last"), JSON.stringify(heartbeat));
    await writeFile(join(dir, "esc\u001b[31mred\u202e.last"), "{}");
    const io = fakeIo({ env: {}, cwd: dir });
    expect(await runCli(["check", "--forge", "none", "--dir", dir, "--now", NOW.toISOString()], io)).toBe(1);
    const lines = io.out().trimEnd().split("\n");
    expect(lines).toHaveLength(3); // the count, then one line per alerting job
    expect(lines).toContainEqual("  backup: failed (last beat 5m ago): last run failed: cleared evil overwrite");
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}escred: invalid: file name is not a valid job name$/));
    expect(io.out()).not.toMatch(CONTROL);
  });

  it("status --crontabs lists another user's hostile cron line inert, on one line", async () => {
    const root = await testdir("lastbeat-hostile-cron-");
    const spool = join(root, "var", "spool", "cron", "crontabs");
    await mkdir(spool, { recursive: true });
    await writeFile(join(spool, "mallory"), `* * * * * /bin/echo ${ESCAPES.replace(/\r\n/, " ")}\n`);
    await mkdir(join(root, "hb"));
    const io = fakeIo({ env: { LASTBEAT_DIR: join(root, "hb"), LASTBEAT_CRON_ROOT: root, TZ: "UTC" }, cwd: root });
    await runCli(["status", "--crontabs", "--now", NOW.toISOString()], io);
    const listed = io.out().split("Unmonitored cron lines: 1")[1]!.trimEnd().split("\n").slice(1);
    expect(listed).toEqual([expect.stringMatching(/mallory: \/bin\/echo cleared evil overwrite$/)]);
    expect(io.out()).not.toMatch(CONTROL);
  });
});
