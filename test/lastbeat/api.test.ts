import { describe, expect, it } from "vitest";
import * as publicApi from "lastbeat";
import * as internalApi from "lastbeat/internal";
import { runCommand } from "../support/cli.js";

describe("the lastbeat package's API", () => {
  it("exports only what a job or a monitoring script calls", () => {
    // Adding a name here is a promise to users: sibling-only helpers go to lastbeat/internal.
    expect(Object.keys(publicApi).sort()).toMatchInlineSnapshot(`
      [
        "LastbeatError",
        "evaluate",
        "scanHeartbeats",
        "withHeartbeat",
        "writeHeartbeat",
      ]
    `);
  });

  it("keeps the public and the internal entry points apart", () => {
    const both = Object.keys(internalApi).filter((name) => name in publicApi);
    expect(both).toEqual([]);
  });

  it("resolves lastbeat/internal through the package's exports map, as sibling packages do", async () => {
    // Not through vitest's aliases: a real Node process with the source condition the CLI uses.
    const script = 'const m = await import("lastbeat/internal"); console.log(typeof m.parseGrace, typeof m.errnoText);';
    const run = await runCommand(process.execPath, ["--conditions=lastbeat-source", "--import", "tsx", "--input-type=module", "-e", script]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("function function\n");
  });
});
