import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";

/*
 * Rendered markdown is checked as a tree, not as a string: a real CommonMark + GFM parse, as
 * GitHub, Gitea and most mail-to-HTML bridges do it. One helper for every package's tests.
 */

/** A node of the parsed tree: just what the tests look at. */
export interface MarkdownNode {
  type: string;
  children?: MarkdownNode[];
  value?: string;
  url?: string;
  depth?: number;
}

export function parseMarkdown(markdown: string): MarkdownNode {
  return fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] }) as MarkdownNode;
}

/** Every node of a tree, depth first; only those of `type` when given. */
export function allNodes(node: MarkdownNode, type?: string): MarkdownNode[] {
  const all = [node, ...(node.children ?? []).flatMap((child) => allNodes(child))];
  return type === undefined ? all : all.filter((n) => n.type === type);
}

/** The plain text of a node, as a reader sees it rendered. */
export function textOf(node: MarkdownNode): string {
  if (node.value !== undefined) return node.value;
  return (node.children ?? []).map(textOf).join("");
}

/** The first table of a markdown document as rows of cell texts (header first). */
export function tableCells(markdown: string): string[][] {
  const table = allNodes(parseMarkdown(markdown), "table")[0];
  if (!table) throw new Error("no table in the markdown");
  return (table.children ?? []).map((row) => (row.children ?? []).map(textOf));
}
