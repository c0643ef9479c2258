/*
 * Where a token can hide on its way out. A token escaped for markdown (`lbtok\_…`) renders as the
 * raw token on GitHub; one in an HTML page may be written as entities; one in JSON as `\u` escapes;
 * one in a URL percent-encoded; one in an Authorization header base64-encoded. `findLeaks`
 * undoes each of these encodings (and pairs of them) on the text and looks for the raw token, and
 * looks for its base64 form at every byte alignment, so "no token anywhere" means what it says.
 */

type Decoder = (text: string) => string;

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", lowbar: "_", hyphen: "-", dash: "-", period: ".", colon: ":", sol: "/", num: "#", ast: "*", grave: "`", lsqb: "[", rsqb: "]", bsol: "\\", nbsp: " " };

const DECODERS: Record<string, Decoder> = {
  raw: (text) => text,
  // \_ \* \- \. …: CommonMark backslash escapes of ASCII punctuation.
  "markdown-escaped": (text) => text.replace(/\\([!-/:-@[-`{-~])/g, "$1"),
  "html-escaped": (text) =>
    text.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, ref: string) => {
      if (ref[0] === "#") {
        const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
    }),
  "json-escaped": (text) =>
    text.replace(/\\u([0-9a-f]{4})|\\(["\\/bfnrt])/gi, (_whole, hex: string | undefined, c: string | undefined) =>
      hex ? String.fromCharCode(parseInt(hex, 16)) : ({ b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" } as Record<string, string>)[c!] ?? c!,
    ),
  "url-encoded": (text) => text.replace(/%([0-9a-f]{2})/gi, (_whole, hex: string) => String.fromCharCode(parseInt(hex, 16))).replace(/\+/g, " "),
};

/** The base64 of `token` as it appears inside a longer base64 text, at each of the 3 alignments. */
function base64Forms(token: string): string[] {
  const forms: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.from("\0".repeat(pad) + token).toString("base64").replace(/=+$/, "");
    // Drop the characters that mix padding bytes in, and the last, partial, ones.
    const start = pad === 0 ? 0 : pad === 1 ? 2 : 3;
    const stable = encoded.slice(start, encoded.length - 2);
    forms.push(stable, stable.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return forms.filter((f) => f.length >= 8);
}

/** How `token` hides in `text` (`["raw"]`, `["markdown-escaped"]`, `["base64"]`, …); empty when it does not. */
export function findLeaks(text: string, token: string): string[] {
  const found = new Set<string>();
  const single = Object.entries(DECODERS).filter(([, decode]) => decode(text).includes(token)).map(([name]) => name);
  if (single.length > 0) found.add(single.includes("raw") ? "raw" : single[0]!);
  else {
    for (const [first, a] of Object.entries(DECODERS)) {
      for (const [second, b] of Object.entries(DECODERS)) {
        if (b(a(text)).includes(token)) found.add(`${first}+${second}`);
      }
    }
  }
  if (base64Forms(token).some((form) => text.includes(form))) found.add("base64");
  return [...found].sort();
}

/** Every form `token` takes in the encodings above, for tests of `findLeaks` itself. */
export function encodingsOf(token: string): Record<string, string> {
  return {
    raw: token,
    "markdown-escaped": token.replace(/[!-/:-@[-`{-~]/g, "\\$&"),
    "html-escaped": [...token].map((c) => `&#${c.codePointAt(0)};`).join(""),
    "json-escaped": [...token].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
    "url-encoded": [...token].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`).join(""),
    base64: Buffer.from(`x-access-token:${token}`).toString("base64"),
  };
}
