import { mkdir, rm, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { buildHeartbeat, cronDaemonTimeZone, cronTimeZone, runtimeZoneWithoutTZ, systemTimeZone } from "lastbeat/internal";
import { describe, expect, it } from "vitest";
import { testdir } from "../support/testdir.js";

/*
 * The zone cron reads a schedule in: the cron daemon's (its TZ, else /etc/localtime's), or
 * cronie's CRON_TZ; never the job's $TZ. Each test builds a machine's `/` in a folder: zone files
 * only need distinct bytes here, and process folders only `comm` and `environ`.
 */

interface Machine {
  localtime?: string | { copyOf: string } | { bytes: string };
  timezone?: string;
  /** Zone name → the bytes of its file under usr/share/zoneinfo. */
  zoneinfo?: Record<string, string>;
  /** pid (or "self") → name, parent, environment (none: not readable), mount namespace. */
  processes?: Record<string, { name: string; parent: number; env?: Record<string, string>; ns?: string; pid?: number }>;
}

async function machine(m: Machine): Promise<string> {
  const root = await testdir("lastbeat-zone-");
  const put = async (path: string, text: string) => {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  };
  await mkdir(join(root, "etc"));
  for (const [zone, bytes] of Object.entries(m.zoneinfo ?? {})) await put(`usr/share/zoneinfo/${zone}`, bytes);
  if (typeof m.localtime === "string") await symlink(m.localtime, join(root, "etc", "localtime"));
  else if (m.localtime && "copyOf" in m.localtime) await put("etc/localtime", (m.zoneinfo ?? {})[m.localtime.copyOf] as string);
  else if (m.localtime) await put("etc/localtime", m.localtime.bytes);
  if (m.timezone !== undefined) await put("etc/timezone", m.timezone);
  for (const [pid, p] of Object.entries(m.processes ?? {})) {
    await put(`proc/${pid}/stat`, `${p.pid ?? pid} (${p.name}) S ${p.parent} ${p.parent} 0 0 -1\n`);
    if (p.env) await put(`proc/${pid}/environ`, Object.entries(p.env).map(([k, v]) => `${k}=${v}\0`).join(""));
    if (p.ns) {
      await mkdir(join(root, "proc", pid, "ns"), { recursive: true });
      await symlink(p.ns, join(root, "proc", pid, "ns", "mnt"));
    }
  }
  return root;
}

// Paris and Tokyo are the same size: only their bytes tell them apart. Oslo's file is Berlin's.
const ZONES = { "Europe/Berlin": "TZif berlin", "Europe/Oslo": "TZif berlin", "Europe/Paris": "TZif paris", "Etc/UTC": "TZif utc", CET: "TZif berlin", "Asia/Tokyo": "TZif tokyo" };
const never = () => {
  throw new Error("the runtime's zone was asked for");
};

describe("systemTimeZone: /etc/localtime", () => {
  it("names the zone it links to, however the link is written", async () => {
    const zone = async (localtime: string) => systemTimeZone(await machine({ localtime }), never);
    expect(await zone("/usr/share/zoneinfo/Europe/Berlin")).toBe("Europe/Berlin");
    expect(await zone("../usr/share/zoneinfo/America/Argentina/Buenos_Aires")).toBe("America/Argentina/Buenos_Aires");
    expect(await zone("/usr/share/zoneinfo/posix/Asia/Tokyo")).toBe("Asia/Tokyo");
    expect(await zone("/usr/share/zoneinfo/right/Pacific/Chatham")).toBe("Pacific/Chatham");
    expect(await zone("/var/db/timezone/zoneinfo/Australia/Lord_Howe")).toBe("Australia/Lord_Howe"); // macOS
    expect(await zone("/etc/zoneinfo/Europe/Vienna")).toBe("Europe/Vienna"); // NixOS
    expect(await zone("zoneinfo/Europe/Vienna")).toBe("Europe/Vienna");
    expect(await zone("/usr/share/zoneinfo//Europe/Rome")).toBe("Europe/Rome");
    expect(await zone("/usr/share/zoneinfo/./Asia/Kolkata")).toBe("Asia/Kolkata");
    expect(systemTimeZone(await machine({ localtime: "/usr/share/zoneinfo/Etc/UTC", timezone: "Asia/Tokyo\n" }), never)).toBe("Etc/UTC");
  });

  it("names a copied zone file by the file it equals: /etc/timezone's only when it is that one", async () => {
    const copy = (zone: string, timezone?: string) =>
      machine({ zoneinfo: ZONES, localtime: { copyOf: zone }, ...(timezone !== undefined && { timezone }) });
    expect(systemTimeZone(await copy("Europe/Paris", "Europe/Paris\n"), never)).toBe("Europe/Paris");
    // A stale /etc/timezone does not override what the file says (glibc reads the file).
    expect(systemTimeZone(await copy("Europe/Berlin", "Etc/UTC\n"), never)).toBe("Europe/Berlin");
    // No name file: found among the zone files, a region's name before a legacy one (CET).
    expect(systemTimeZone(await copy("Europe/Berlin"), never)).toBe("Europe/Berlin");
    expect(systemTimeZone(await copy("Asia/Tokyo", "Mars/Olympus"), never)).toBe("Asia/Tokyo");
    expect(systemTimeZone(await copy("Europe/Paris"), never)).toBe("Europe/Paris");
    // Zones that share a file: the one /etc/timezone names, when it is that file.
    expect(systemTimeZone(await copy("Europe/Berlin", "Europe/Oslo\n"), never)).toBe("Europe/Oslo");
  });

  it("passes over aliases for a copied file: links (Debian's) and names tzdata.zi lists as links", async () => {
    const zoneinfo = { ...ZONES, "Pacific/Auckland": "TZif auckland", "Antarctica/South_Pole": "TZif auckland", "tzdata.zi": "# version 2025b\nL Pacific/Auckland Antarctica/South_Pole\n" };
    const root = (copyOf: string) => machine({ zoneinfo, localtime: { copyOf } });
    const berlin = await root("Europe/Berlin");
    await mkdir(join(berlin, "usr/share/zoneinfo/Arctic"));
    await symlink("../Europe/Berlin", join(berlin, "usr/share/zoneinfo/Arctic/Longyearbyen"));
    expect(systemTimeZone(berlin, never)).toBe("Europe/Berlin");
    expect(systemTimeZone(await root("Pacific/Auckland"), never)).toBe("Pacific/Auckland");
  });

  it("asks again for another machine's root: only this machine's answer is kept for a minute", async () => {
    const root = await machine({ localtime: "/usr/share/zoneinfo/Europe/Berlin" });
    expect(systemTimeZone(root, never)).toBe("Europe/Berlin");
    await rm(join(root, "etc", "localtime"));
    await symlink("/usr/share/zoneinfo/Asia/Tokyo", join(root, "etc", "localtime"));
    expect(systemTimeZone(root, never)).toBe("Asia/Tokyo");
  });

  it("reads a link it cannot name as the file it leads to on that machine", async () => {
    const root = await machine({ zoneinfo: { ...ZONES, "zones/paris": "TZif paris" }, localtime: "/usr/share/zoneinfo/zones/paris" });
    expect(systemTimeZone(root, never)).toBe("Europe/Paris");
    const relative = await machine({ zoneinfo: ZONES, localtime: "paris" });
    await writeFile(join(relative, "etc", "paris"), "TZif paris");
    expect(systemTimeZone(relative, never)).toBe("Europe/Paris");
  });

  it.runIf(process.platform === "linux")("is UTC on Linux without /etc/localtime (glibc's and musl's default), whatever else says", async () => {
    expect(systemTimeZone(await machine({ timezone: "Asia/Tokyo\n" }), never)).toBe("UTC");
  });

  it("never answers with this process's zone for another machine: UTC when nothing names a zone", async () => {
    const roots = [
      await machine({ localtime: { bytes: "TZif nowhere" } }),
      await machine({ zoneinfo: ZONES, localtime: { bytes: "TZif nowhere" }, timezone: "Europe/Paris" }),
      await machine({ localtime: "/usr/share/zoneinfo/Mars/Olympus" }),
    ];
    expect(roots.map((root) => systemTimeZone(root, never))).toEqual(["UTC", "UTC", "UTC"]);
  });
});

describe("systemTimeZone: the cron daemon's own TZ", () => {
  // The daemon (pid 88) before the child it forked for a line (412: after 88 in number, before it
  // in name order), whatever else runs.
  const daemon = (env: Record<string, string>, name = "cron") =>
    machine({
      localtime: "/usr/share/zoneinfo/Europe/Berlin",
      processes: {
        1: { name: "systemd", parent: 0, env: { TZ: "Asia/Tokyo" } },
        88: { name, parent: 1, env: { PATH: "/usr/bin:/bin", ...env } },
        412: { name, parent: 88, env: { TZ: "Asia/Tokyo" } },
      },
    });

  it("wins over /etc/localtime when the daemon was started with one (a container's ENV TZ, systemd's Environment=)", async () => {
    expect(systemTimeZone(await daemon({ TZ: "America/New_York" }), never)).toBe("America/New_York");
    expect(systemTimeZone(await daemon({ TZ: ":Pacific/Chatham" }, "crond"), never)).toBe("Pacific/Chatham");
    expect(systemTimeZone(await daemon({ TZ: "/usr/share/zoneinfo/Asia/Kolkata" }, "supercronic"), never)).toBe("Asia/Kolkata");
    // POSIX rules: an empty one is UTC, a fixed offset its Etc zone (same sign); summer time names none.
    expect(systemTimeZone(await daemon({ TZ: "" }), never)).toBe("UTC");
    expect(systemTimeZone(await daemon({ TZ: "JST-9" }), never)).toBe("Etc/GMT-9");
    expect(systemTimeZone(await daemon({ TZ: "EST5" }), never)).toBe("Etc/GMT+5");
    expect(systemTimeZone(await daemon({ TZ: "UTC0" }), never)).toBe("UTC");
  });

  it("is /etc/localtime's when the daemon has no TZ, one that names no zone, or none runs", async () => {
    expect(systemTimeZone(await daemon({}), never)).toBe("Europe/Berlin");
    expect(systemTimeZone(await daemon({ TZ: "CET-1CEST,M3.5.0,M10.5.0/3" }), never)).toBe("Europe/Berlin");
    expect(cronDaemonTimeZone(await machine({ processes: { 7: { name: "cronolog", parent: 1, env: { TZ: "Asia/Tokyo" } } } }))).toBeNull();
    expect(cronDaemonTimeZone(await machine({}))).toBeNull();
  });

  it("is the daemon this process runs under (a job's), read from the cron process above it", async () => {
    const root = await machine({
      processes: {
        self: { name: "node (worker) 2", parent: 4000, pid: 5000 }, // a name may hold ") "
        4000: { name: "sh", parent: 412 },
        412: { name: "cron", parent: 88, env: { TZ: "Asia/Kolkata" } },
        88: { name: "cron", parent: 1, env: { TZ: "Europe/Berlin" } },
        1: { name: "init", parent: 0 },
      },
    });
    expect(cronDaemonTimeZone(root)).toBe("Asia/Kolkata");
  });

  it("never takes a job named cron, a cron it may not read, or a container's cron for the daemon", async () => {
    // Root's daemon, unreadable to this user: not the next process named cron (a job's, with its TZ).
    const unreadable = await machine({
      processes: { 88: { name: "cron", parent: 1 }, 300: { name: "bash", parent: 1 }, 412: { name: "cron", parent: 300, env: { TZ: "Asia/Tokyo" } } },
    });
    expect(cronDaemonTimeZone(unreadable)).toBeNull();
    // A cron in another mount namespace (a container's) is not this machine's.
    const container = await machine({
      processes: {
        self: { name: "node", parent: 1, pid: 5000, ns: "mnt:[4026531840]" },
        88: { name: "cron", parent: 1, env: { TZ: "Asia/Tokyo" }, ns: "mnt:[4026532999]" },
        90: { name: "cron", parent: 1, env: { TZ: "America/Chicago" }, ns: "mnt:[4026531840]" },
      },
    });
    expect(cronDaemonTimeZone(container)).toBe("America/Chicago");
  });
});

describe("cronTimeZone", () => {
  it("is CRON_TZ when it names a zone (cronie passes it on to the job), else the machine's; TZ never counts", async () => {
    const berlin = await machine({ localtime: "/usr/share/zoneinfo/Europe/Berlin" });
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

describe("runtimeZoneWithoutTZ", () => {
  it("asks a runtime started without TZ (nor NODE_OPTIONS) when this process has one; UTC when it cannot tell", async () => {
    const bin = await testdir("lastbeat-zone-node-");
    /** A stand-in for node: prints what it is told, or its own TZ if it was given one. */
    const fake = async (name: string, script: string) => {
      await writeFile(join(bin, name), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
      return join(bin, name);
    };
    const before = { TZ: process.env.TZ, NODE_OPTIONS: process.env.NODE_OPTIONS, KEEP: process.env.KEEP };
    const restore = (name: keyof typeof before) => (before[name] === undefined ? delete process.env[name] : (process.env[name] = before[name]));
    try {
      process.env.KEEP = "1";
      process.env.NODE_OPTIONS = "--require /nonexistent.js";
      for (const tz of ["Pacific/Chatham", ""]) {
        process.env.TZ = tz;
        // It must be asked to print the zone, with the rest of the environment.
        const tokyo = await fake("tokyo", '[ "$1" = -p ] && [ -n "$2" ] && [ "$KEEP" = 1 ] && [ -z "$NODE_OPTIONS" ] || exit 1\necho "${TZ:-Asia/Tokyo}"');
        expect(runtimeZoneWithoutTZ(tokyo)).toBe("Asia/Tokyo");
        expect(runtimeZoneWithoutTZ(await fake("fails", "echo Asia/Tokyo; exit 1"))).toBe("UTC");
        expect(runtimeZoneWithoutTZ(await fake("junk", "echo Mars/Olympus"))).toBe("UTC");
        expect(runtimeZoneWithoutTZ(await fake("silent", "true"))).toBe("UTC");
      }
    } finally {
      restore("TZ");
      restore("NODE_OPTIONS");
      restore("KEEP");
    }
  });
});
