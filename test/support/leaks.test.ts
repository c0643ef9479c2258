import { describe, expect, it } from "vitest";
import { encodingsOf, findLeaks } from "./leaks.js";

const TOKEN = "lbtok_Leak-7f3c9e1d_SECRET.5a2b";

describe("findLeaks", () => {
  it.each(Object.entries(encodingsOf(TOKEN)))("finds the token %s inside other text", (form, encoded) => {
    expect(findLeaks(`before ${encoded} after`, TOKEN)).toContain(form);
  });

  it("finds it under two encodings at once (markdown-escaped inside a JSON string)", () => {
    const body = JSON.stringify({ body: `| job | ${encodingsOf(TOKEN)["markdown-escaped"]} |` }).replace(/_/g, "\\u005f");
    expect(findLeaks(body, TOKEN)).not.toEqual([]);
  });

  it("finds nothing in text without the token, nor in the redacted forms", () => {
    expect(findLeaks("lbtok_Leak-7f3c9e1d_SECRET.5a2 *** [REDACTED] lbtok\\_Leak", TOKEN)).toEqual([]);
  });
});
