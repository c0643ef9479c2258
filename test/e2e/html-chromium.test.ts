import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { runLastbeat } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

// `lastbeat report --format html` is read in a browser: render it in Debian's Chromium
// (.ci/run installs the package `chromium`).
const chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));
const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let dir: string;
beforeAll(async () => {
  dir = await testdir("lastbeat-html-");
});

describe.skipIf(!chromium)("the HTML brief in a real browser (Chromium)", () => {
  it("renders the brief and the panel from one self-contained file", async () => {
    const hb = join(dir, "hb");
    const now = "2026-11-23T06:00:00Z";
    await runLastbeat(["beat", "backup", "--every", "1d", "--dir", hb, "--now", "2026-11-23T02:00:00Z"]);
    await runLastbeat(["beat", "sync", "--every", "5m", "--dir", hb, "--now", "2026-11-23T05:00:00Z"]);
    await runLastbeat(["beat", "invoices", "--every", "1h", "--dir", hb, "--status", "fail", "--message", "<script>alert(1)</script> @everyone", "--now", "2026-11-23T05:30:00Z"]);
    const page = join(dir, "brief.html");
    const report = await runLastbeat(["report", "--format", "html", "--out", page, "--dir", hb, "--now", now, "--tz", "UTC"]);
    expect(report.code).toBe(1);

    const profile = (name: string) => `--user-data-dir=${join(dir, name)}`;
    const dom = spawnSync(chromium!, [...flags, profile("dom"), "--dump-dom", `file://${page}`], { encoding: "utf8", timeout: 60_000 });
    expect(dom.status, dom.stderr).toBe(0);
    // What the browser built: a panel row per job, the hostile message as text, no script element.
    const rows = dom.stdout.match(/<tr[ >]/g) ?? [];
    expect(rows.length).toBe(1 + 4); // header + backup, sync, invoices, heartbeat-checker (missing)
    expect(dom.stdout).not.toMatch(/<script/i);
    expect(dom.stdout).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(dom.stdout).toMatch(/sync/);

    const png = join(dir, "brief.png");
    const shot = spawnSync(chromium!, [...flags, profile("shot"), "--window-size=1200,1600", `--screenshot=${png}`, `file://${page}`], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(shot.status, shot.stderr).toBe(0);
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe("PNG");
    expect(bytes.readUInt32BE(16)).toBe(1200); // IHDR width
    expect(bytes.length).toBeGreaterThan(20_000); // a rendered page, not a blank one
  });
});
