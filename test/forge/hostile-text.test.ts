import fc from "fast-check";
import type { Nodes, Root } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";
import { describe, expect, it } from "vitest";
import { renderJobIssue, renderRollupIssue } from "@lastbeat/forge";
import { evaluate, type JobState } from "lastbeat";
import { NOW, failed, stale, SCOPE } from "./helpers.js";

/*
 * Heartbeat text is untrusted. These tests parse the rendered body with a real CommonMark + GFM
 * parser (the one GitHub-flavoured renderers agree with) and check the tree, not the string.
 */

function parse(body: string): Root {
  return fromMarkdown(body, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
}

function all(node: Nodes, type: string): Nodes[] {
  const found: Nodes[] = node.type === type ? [node] : [];
  if ("children" in node) for (const child of node.children) found.push(...all(child as Nodes, type));
  return found;
}

function textOf(node: Nodes): string {
  if ("value" in node) return node.value;
  if ("children" in node) return node.children.map((c) => textOf(c as Nodes)).join("");
  return "";
}

/** The invariants every rendered body keeps, whatever the heartbeats said. */
function expectInert(body: string, alerting: number, cells = 6): Root {
  const tree = parse(body);
  const tables = all(tree, "table");
  expect(tables).toHaveLength(1);
  const rows = all(tables[0]!, "tableRow");
  expect(rows).toHaveLength(alerting + 1);
  for (const row of rows) expect(all(row, "tableCell")).toHaveLength(cells);
  // The only raw HTML is our own markers.
  for (const html of all(tree, "html")) expect(String((html as { value: string }).value)).toMatch(/^<!-- lastbeat:(rollup scope=web-1|storm scope=web-1|job:\S+ scope=web-1|state .*) -->$/);
  expect(all(tree, "link")).toHaveLength(0);
  expect(all(tree, "image")).toHaveLength(0);
  expect(all(tree, "linkReference")).toHaveLength(0);
  expect(all(tree, "footnoteReference")).toHaveLength(0);
  // No mention or issue reference survives, in text or in code.
  for (const node of [...all(tree, "text"), ...all(tree, "inlineCode"), ...all(tree, "code")]) {
    const value = (node as { value: string }).value;
    expect(value).not.toMatch(/@[A-Za-z0-9_]/);
    expect(value).not.toMatch(/#\d/);
  }
  // Nothing but our markers, the intro, the table and the fenced details at the top level.
  for (const child of tree.children) expect(["html", "paragraph", "table", "code"]).toContain(child.type);
  expect(body.length).toBeLessThanOrEqual(65_536);
  return tree;
}

const HOSTILE_MESSAGE =
  "@everyone look | here </td><script>alert(1)</script> ``` [x](http://evil.example) www.evil.example #1 \n| a | b |\n<!-- lastbeat:rollup -->";
const HOSTILE_TAIL = `${"x".repeat(1024 * 1024)}\n\`\`\`\n@team ping\n<img src=x onerror=alert(1)>\n\`\`\`\`\`\`\n~~~\n</details>\n@admin the end`;

function invalidState(job: string, reason: string): JobState {
  return evaluate(undefined, undefined, NOW, { job, file: `/hb/${job}.last`, invalidReason: reason, modifiedAt: new Date("2025-03-10T10:00:00Z") });
}

describe("hostile heartbeat text", () => {
  it("cannot break the table, ping anyone, close the fence or inject HTML (rollup)", () => {
    const states = [
      failed("backup", NOW, { message: HOSTILE_MESSAGE, output_tail: HOSTILE_TAIL }),
      stale("web"),
      invalidState("evil|<b>@root`x", "not JSON: <script>@here | ```"),
    ];
    const { body, title } = renderRollupIssue(states, SCOPE);
    const tree = expectInert(body, 3);
    expect(title).not.toMatch(/[\n\r]/);

    // The text is still there for a person to read, just inert.
    const cells = all(tree, "tableCell").map(textOf);
    expect(cells.some((c) => c.includes("look | here </td><script>"))).toBe(true);
    expect(cells.some((c) => c.startsWith("evil|<b>@"))).toBe(true);
    const code = all(tree, "code").map((c) => (c as { value: string }).value);
    expect(code).toHaveLength(2);
    // The fence outlived every backtick run: the tail's own fences are content.
    expect(code[1]).toContain("``````\n~~~");
    // 1 MiB was cut to the end of the output.
    expect(code[1]!.length).toBeLessThan(2100);
    expect(code[1]).toMatch(/the end$/);
  });

  it("keeps per-job bodies inert as well", () => {
    const { body } = renderJobIssue(failed("backup", NOW, { message: HOSTILE_MESSAGE, output_tail: HOSTILE_TAIL }), SCOPE);
    expectInert(body, 1);
  });

  it("keeps any message and output inert (property)", () => {
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: fc.constantFrom("`", "|", "@", "<", ">", "\\", "\n", "~", "#", "1", "a", " ", "[", "]", "(", ")", "!", "*", "_", "&", "-", ":", "/", "w", "."), maxLength: 300 }),
    );
    fc.assert(
      fc.property(text, text, (message, tail) => {
        const { body } = renderRollupIssue([failed("job-a", NOW, { message, output_tail: tail }), stale("job-b")], SCOPE);
        expectInert(body, 2);
      }),
      { numRuns: 150 },
    );
  });
});
