import fc from "fast-check";
import { evaluate } from "lastbeat";
import type { JobState } from "lastbeat";
import { renderBrief, renderPanel } from "@lastbeat/report";
import { describe, expect, it } from "vitest";
import { NOW } from "./fixtures.js";
import { allNodes, parseMarkdown, tableCells, textOf } from "./markdown.js";

/** Text a job (or whoever can write its heartbeat file) might put in `message` or `output_tail`. */
const HOSTILE = [
  "a | b || c \\| d",
  "line one\nline two\r\nline three",
  "`code` and ``` a fence ```",
  "<script>alert(1)</script><img src=x onerror=alert(1)>",
  "@everyone @here please look, cc @octocat",
  "[click me](https://evil.example) ![x](https://evil.example/x.png) <https://evil.example>",
  "**bold** _em_ ~~gone~~ &amp; &#60;",
  "\u001b[31mred\u001b[0m \u202eevil\u202c bell\u0007",
  "trailing backslash \\",
];

const at = (minutesAgo: number) => new Date(NOW.getTime() - minutesAgo * 60_000).toISOString();

function failedWith(job: string, message: string, outputTail = message): JobState {
  return evaluate(
    { job, status: "fail", at: at(5), interval_s: 3600, exit_code: 1, message, output_tail: outputTail },
    undefined,
    NOW,
  );
}

function okWith(job: string, message: string): JobState {
  return evaluate({ job, status: "ok", at: at(5), interval_s: 3600, message }, undefined, NOW);
}

const ZWSP = "\u200b";

describe("hostile job messages cannot break the panel", () => {
  const states = HOSTILE.flatMap((message, i) => [failedWith(`failed-${i}`, message), okWith(`ok-${i}`, message)]);
  const markdown = renderPanel(states, { now: NOW, tz: "UTC" });

  it("the table keeps one row per job and eight cells per row", () => {
    const cells = tableCells(markdown);
    expect(cells).toHaveLength(1 + states.length);
    for (const row of cells) expect(row).toHaveLength(8);
  });

  it("each Note cell reads as the message on one line, with no markup taking effect", () => {
    const cells = tableCells(markdown).slice(1);
    const notes = new Map(cells.map((row) => [row[0], row[7]]));
    expect(notes.get("ok-0")).toBe("a | b || c \\| d");
    expect(notes.get("ok-1")).toBe("line one line two line three");
    expect(notes.get("ok-2")).toBe("`code` and ``` a fence ```");
    expect(notes.get("ok-3")).toBe("<script>alert(1)</script><img src=x onerror=alert(1)>");
    expect(notes.get("ok-4")).toBe(`@${ZWSP}everyone @${ZWSP}here please look, cc @${ZWSP}octocat`);
    expect(notes.get("ok-6")).toBe("**bold** _em_ ~~gone~~ &amp; &#60;");
    expect(notes.get("ok-7")).toBe("[31mred[0m evil bell");
    expect(notes.get("ok-8")).toBe("trailing backslash \\");
    expect(notes.get("failed-3")).toBe("last run failed with exit code 1: <script>alert(1)</script><img src=x onerror=alert(1)>");
  });

  it("produces no HTML, images, code, emphasis, strikethrough, or links that hide where they go", () => {
    const nodes = allNodes(parseMarkdown(markdown));
    const types = new Set(nodes.map((node) => node.type));
    for (const type of ["html", "image", "inlineCode", "emphasis", "strong", "delete", "code"]) {
      expect(types.has(type), type).toBe(false);
    }
    // A bare URL stays a GFM autolink (useful: "see https://ci/run/42"), but its text is the URL itself.
    const links = nodes.filter((node) => node.type === "link") as { url?: string; children?: [] }[];
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(textOf(link as never)).toBe(link.url);
  });

  it("keeps the raw markdown free of control characters and of pingable mentions", () => {
    expect(markdown).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
    expect(markdown).not.toMatch(/@(everyone|here|octocat)/);
  });

  it("holds for any text at all (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: "binary", maxLength: 80 }), { minLength: 1, maxLength: 5 }), (messages) => {
        const jobs = messages.map((message, i) => okWith(`job-${i}`, message));
        const cells = tableCells(renderPanel(jobs, { now: NOW, tz: "UTC" }));
        expect(cells).toHaveLength(1 + jobs.length);
        for (const row of cells) expect(row).toHaveLength(8);
        const types = allNodes(parseMarkdown(renderPanel(jobs, { now: NOW, tz: "UTC" }))).map((n) => n.type);
        expect(types).not.toContain("html");
        expect(types).not.toContain("image");
      }),
      { numRuns: 200 },
    );
  });

  it("the text format keeps one line per job", () => {
    const text = renderPanel(states, { now: NOW, tz: "UTC", format: "text" });
    expect(text.trimEnd().split("\n")).toHaveLength(1 + states.length);
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
  });
});

describe("hostile output tails cannot escape their fence in the brief", () => {
  const tail = "```\n# Injected heading\n````\n<script>alert(1)</script>\n@everyone\n~~~\n";
  const states = [failedWith("backup", "boom", tail), okWith("heartbeat-checker", "fine")];
  const markdown = renderBrief(states, { now: NOW, tz: "UTC" });

  it("the tail is one code block with the tail's text, and the panel still follows", () => {
    const nodes = allNodes(parseMarkdown(markdown));
    const code = nodes.filter((node) => node.type === "code");
    expect(code.map((node) => node.value)).toEqual([tail.trimEnd()]);
    expect(nodes.filter((node) => node.type === "heading").map(textOf)).toEqual([
      "Morning brief — Wednesday 8 April 2026",
      "Needs attention (1)",
      "✗ failed: backup",
      "Heartbeat panel",
    ]);
    expect(nodes.some((node) => node.type === "html")).toBe(false);
    expect(tableCells(markdown)).toHaveLength(3);
  });

  it("html escapes every message and tail", () => {
    const html = renderBrief(
      HOSTILE.map((message, i) => failedWith(`job-${i}`, message)),
      { now: NOW, tz: "UTC", format: "html" },
    );
    expect(html).not.toMatch(/<script|<img|<a |href=/i);
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(html).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f\u202e]/);
  });

  it("a hostile job name (from a file name the reader flagged invalid) is escaped too", () => {
    const state = evaluate(undefined, undefined, NOW, {
      job: "evil|name<b>@admin",
      file: "/hb/evil|name<b>@admin.last",
      invalidReason: "file name is not a valid job name",
    });
    const cells = tableCells(renderBrief([state], { now: NOW, tz: "UTC", checker: false }));
    expect(cells[1]?.[0]).toBe(`evil|name<b>@${ZWSP}admin`);
    expect(cells[1]).toHaveLength(8);
  });
});
