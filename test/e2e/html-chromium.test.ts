import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
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
    await runLastbeat(["beat", "heartbeat-checker", "--every", "15m", "--dir", hb, "--now", "2026-11-23T05:55:00Z"]);
    // The checker's journal beside its heartbeat, as it writes it: backup failed at 02:00 and
    // recovered at 03:10; a reason carries hostile text.
    const journal = [
      { at: "2026-10-01T00:00:00Z", job: "backup", from: null, to: "ok", reason: "next beat due" },
      { at: "2026-11-23T00:30:00Z", job: "backup", from: "ok", to: "failed", reason: "last run failed: <img src=x onerror=alert(1)> @everyone" },
      { at: "2026-11-23T01:40:00Z", job: "backup", from: "failed", to: "ok", reason: "next beat due" },
      { at: "2026-11-23T05:30:00Z", job: "invoices", from: "ok", to: "failed", reason: "last run failed: <script>alert(2)</script>" },
    ];
    writeFileSync(join(hb, "heartbeat-checker.journal"), journal.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
    const page = join(dir, "brief.html");
    const report = await runLastbeat(["report", "--format", "html", "--out", page, "--dir", hb, "--now", now, "--tz", "UTC"]);
    expect(report.code).toBe(1);

    const profile = (name: string) => `--user-data-dir=${join(dir, name)}`;
    const dom = spawnSync(chromium!, [...flags, profile("dom"), "--dump-dom", `file://${page}`], { encoding: "utf8", timeout: 60_000 });
    expect(dom.status, dom.stderr).toBe(0);
    // What the browser built: a panel row per job, the hostile message as text, no script element.
    const rows = dom.stdout.match(/<tr[ >]/g) ?? [];
    expect(rows.length).toBe(1 + 4); // header + backup, sync, invoices, heartbeat-checker
    expect(dom.stdout).not.toMatch(/<script|<img/i);
    expect(dom.stdout).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(dom.stdout).toMatch(/sync/);
    // "Since the last brief": one item per episode, the hostile reasons as text.
    const since = /<section class="since">([\s\S]*?)<\/section>/.exec(dom.stdout)?.[1] ?? "";
    expect(since).toContain("<h2>Since the last brief</h2>");
    expect(since.match(/<li>/g) ?? []).toHaveLength(2);
    expect(since).toContain("<strong>backup</strong> failed at 00:30, recovered at 01:40 — down 1h 10m (last run failed: &lt;img src=x onerror=alert(1)&gt; @everyone)");
    expect(since).toContain("<strong>invoices</strong> failed at 05:30 — down since 05:30, 30m so far (last run failed: &lt;script&gt;alert(2)&lt;/script&gt;)");
    // The panel's two history columns: headed, and filled per job.
    expect(dom.stdout).toContain('<th>Last runs</th><th class="num">Availability</th>');
    expect(dom.stdout).toMatch(/<td class="job">backup<\/td>.*<td class="runs">✓<\/td><td class="num">99\.8%<\/td>/);
    expect(dom.stdout).toMatch(/<td class="job">sync<\/td>.*<td class="runs">✓<\/td><td class="num">—<\/td>/);
    expect(dom.stdout).toContain("oldest left, newest right");

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
