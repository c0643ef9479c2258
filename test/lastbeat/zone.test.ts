import { mkdir, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildHeartbeat, cronTimeZone, systemTimeZone } from "lastbeat/internal";
import { describe, expect, it } from "vitest";
import { testdir } from "../support/testdir.js";

/* The zone cron reads a schedule in: the machine's (its /etc/localtime), or cronie's CRON_TZ; never $TZ. */

/** A machine's `/` with only what systemTimeZone reads. */
async function root(files: { localtime?: string | { file: string }; timezone?: string }): Promise<string> {
  const dir = await testdir("lastbeat-zone-");
  await mkdir(join(dir, "etc"));
  if (typeof files.localtime === "string") await symlink(files.localtime, join(dir, "etc", "localtime"));
  else if (files.localtime) await writeFile(join(dir, "etc", "localtime"), files.localtime.file);
  if (files.timezone !== undefined) await writeFile(join(dir, "etc", "timezone"), files.timezone);
  return dir;
}

describe("systemTimeZone", () => {
  it("names the zone /etc/localtime links to, however the link is written", async () => {
    expect(systemTimeZone(await root({ localtime: "/usr/share/zoneinfo/Europe/Berlin" }))).toBe("Europe/Berlin");
    expect(systemTimeZone(await root({ localtime: "../usr/share/zoneinfo/America/Argentina/Buenos_Aires" }))).toBe("America/Argentina/Buenos_Aires");
    expect(systemTimeZone(await root({ localtime: "/usr/share/zoneinfo/posix/Asia/Tokyo" }))).toBe("Asia/Tokyo");
    expect(systemTimeZone(await root({ localtime: "/usr/share/zoneinfo/right/Pacific/Chatham" }))).toBe("Pacific/Chatham");
    expect(systemTimeZone(await root({ localtime: "/var/db/timezone/zoneinfo/Australia/Lord_Howe" }))).toBe("Australia/Lord_Howe"); // macOS
    expect(systemTimeZone(await root({ localtime: "/usr/share/zoneinfo/Etc/UTC", timezone: "Asia/Tokyo\n" }))).toBe("Etc/UTC");
  });

  it("falls back to /etc/timezone for a copied zone file or a link it cannot name", async () => {
    expect(systemTimeZone(await root({ localtime: { file: "TZif2..." }, timezone: "Europe/Paris\n" }))).toBe("Europe/Paris");
    expect(systemTimeZone(await root({ localtime: "/usr/share/zoneinfo/Mars/Olympus", timezone: "Africa/Nairobi" }))).toBe("Africa/Nairobi");
    expect(systemTimeZone(await root({ localtime: "/etc/zones/berlin", timezone: " America/Sao_Paulo \n" }))).toBe("America/Sao_Paulo");
  });

  it("reads a link relative to etc/ that names the zoneinfo folder alone", async () => {
    expect(systemTimeZone(await root({ localtime: "zoneinfo/Europe/Vienna" }))).toBe("Europe/Vienna");
  });

  it.runIf(process.platform === "linux")("is UTC on Linux with neither file (a slim container), whatever $TZ says", async () => {
    expect(systemTimeZone(await root({}), () => "Asia/Tokyo")).toBe("UTC");
  });

  it("falls back to the runtime's zone when a file is there but names nothing it knows", async () => {
    const roots = [
      await root({ localtime: { file: "TZif2..." } }), // a copied zone file, no name file
      await root({ localtime: "/usr/share/zoneinfo/Mars/Olympus", timezone: "Mars/Olympus\n" }),
      await root({ timezone: "\n" }), // an empty name file
      await root({ localtime: "/etc/zones/berlin", timezone: "" }),
      await root({}).then(async (r) => (await mkdir(join(r, "etc", "timezone")), r)), // unreadable (a folder), no localtime
    ];
    expect(roots.map((r) => systemTimeZone(r, () => "Asia/Tokyo"))).toEqual(roots.map(() => "Asia/Tokyo"));
    expect(systemTimeZone(roots[0])).toBe(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});

describe("cronTimeZone", () => {
  it("is CRON_TZ when it names a zone (cronie passes it on to the job), else the machine's; TZ never counts", async () => {
    const berlin = await root({ localtime: "/usr/share/zoneinfo/Europe/Berlin" });
    expect(cronTimeZone({ CRON_TZ: "Asia/Tokyo", TZ: "America/New_York" }, berlin)).toBe("Asia/Tokyo");
    expect(cronTimeZone({ TZ: "America/New_York" }, berlin)).toBe("Europe/Berlin");
    expect(cronTimeZone({ CRON_TZ: "", TZ: "America/New_York" }, berlin)).toBe("Europe/Berlin");
    expect(cronTimeZone({ CRON_TZ: "Mars/Olympus" }, berlin)).toBe("Europe/Berlin");
  });

  it("is what a beat with a schedule and no tz records", () => {
    const beat = buildHeartbeat("x", { schedule: "0 2 * * *", env: { CRON_TZ: "Pacific/Chatham", TZ: "Asia/Tokyo" } }, null, []);
    expect(beat.tz).toBe("Pacific/Chatham");
    const plain = buildHeartbeat("x", { schedule: "0 2 * * *", env: { TZ: "Asia/Tokyo" } }, null, []);
    expect(plain.tz).toBe(systemTimeZone());
  });
});

