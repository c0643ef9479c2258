import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";

/** A real CommonMark + GFM parse, as GitHub, Gitea and most mail-to-HTML bridges do it. */
export function parseMarkdown(markdown: string) {
  return fromMarkdown(markdown, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
}

type Node = { type: string; children?: Node[]; value?: string };

/** Every node of a tree, depth first. */
export function allNodes(node: Node): Node[] {
  return [node, ...(node.children ?? []).flatMap((child) => allNodes(child))];
}

/** The plain text of a node, as a reader sees it rendered. */
export function textOf(node: Node): string {
  if (node.value !== undefined) return node.value;
  return (node.children ?? []).map(textOf).join("");
}

/** The first table of a markdown document as rows of cell texts (header first). */
export function tableCells(markdown: string): string[][] {
  const tree = parseMarkdown(markdown) as Node;
  const table = allNodes(tree).find((node) => node.type === "table");
  if (!table) throw new Error("no table in the markdown");
  return (table.children ?? []).map((row) => (row.children ?? []).map(textOf));
}
