import { describe, expect, it } from "vitest";
import { OutputTail } from "../../packages/cli/src/output-tail.js";

describe("OutputTail", () => {
  it("keeps everything below the limit", () => {
    const tail = new OutputTail(16);
    tail.push(Buffer.from("hello "));
    tail.push(Buffer.from("world"));
    expect(tail.text()).toBe("hello world");
  });

  it("keeps the end, not the start, across many small chunks", () => {
    const tail = new OutputTail(10);
    for (let i = 0; i < 100; i++) tail.push(Buffer.from(`${i % 10}`));
    expect(tail.text()).toBe("0123456789");
    expect(tail.totalBytes).toBe(100);
  });

  it("keeps the end of one chunk larger than the limit", () => {
    const tail = new OutputTail(4);
    tail.push(Buffer.from("abcdefgh"));
    expect(tail.text()).toBe("efgh");
  });

  it("never starts in the middle of a UTF-8 character", () => {
    const tail = new OutputTail(5);
    tail.push(Buffer.from("ab€€")); // € is 3 bytes: the window starts inside the first one
    expect(tail.text()).toBe("€");
    const emoji = new OutputTail(7);
    emoji.push(Buffer.from("x😀😀")); // 😀 is 4 bytes
    expect(emoji.text()).toBe("😀");
  });
});
