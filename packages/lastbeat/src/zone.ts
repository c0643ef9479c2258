import { lstatSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { dirname, join, posix } from "node:path";

// The zone cron reads a schedule in: the cron daemon's own. Not the job's $TZ: a crontab's `TZ=`
// line only reaches the job's environment (Vixie cron, Debian's: "TZ can be set, but cron
// ignores it other than passing it on through to the commands it runs"; cronie reads CRON_TZ,
// never TZ). A beat that recorded the job's $TZ as its schedule's zone was judged hours off, every
// day. The daemon's zone is /etc/localtime's, unless the daemon itself was started with a TZ (a
// container's `ENV TZ`, systemd's `Environment=`, /etc/default/cron).

/** Whether `tz` is an IANA zone this runtime knows (`Europe/Berlin`, `UTC`). */
export function isKnownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** `/usr/share/zoneinfo/Europe/Berlin` (however written) → `Europe/Berlin`, or null. */
function zoneOfPath(path: string): string | null {
  // `posix/` and `right/` hold the same zones (`right/` with leap seconds, which cron ignores).
  const named = /(?:^|\/)zoneinfo\/(?:posix\/|right\/)?([^/].*)/.exec(posix.normalize(path));
  return named && isKnownTimeZone(named[1] as string) ? (named[1] as string) : null;
}

const read = (path: string): Buffer | null => {
  try {
    return readFileSync(path);
  } catch {
    return null;
  }
};

/**
 * The zone of the zone file at `<root>/etc/localtime`, as glibc reads it: the zone it links to
 * (`/usr/share/zoneinfo/Europe/Berlin`: Debian, Ubuntu, RHEL, Arch, Alpine, macOS); for a copied
 * file, the zone whose file it equals (the one `<root>/etc/timezone` names first, else any under
 * `<root>/usr/share/zoneinfo`); "UTC" on Linux when there is none (glibc and musl then run on UTC,
 * a slim container). Null when the file is there but names no zone this runtime knows.
 */
function localtimeZone(root: string): string | null {
  const localtime = join(root, "etc/localtime");
  let target: string | null = null;
  try {
    target = readlinkSync(localtime);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return process.platform === "linux" ? "UTC" : null;
    // EINVAL: a copied zone file, not a link.
  }
  if (target !== null) {
    const linked = zoneOfPath(target);
    if (linked !== null) return linked;
  }
  // Through a link, the file it names on that machine (an absolute target is under `root` too).
  const content = read(target === null ? localtime : posix.isAbsolute(target) ? join(root, target) : join(root, "etc", target));
  if (content === null) return null;
  const zoneinfo = join(root, "usr/share/zoneinfo");
  const named = read(join(root, "etc/timezone"))?.toString("utf8").trim();
  if (named && isZoneFile(zoneinfo, named, content)) return named;
  return findZoneFile(zoneinfo, content);
}

/** Whether `name` is a zone this runtime knows whose file under `zoneinfo` is `content`. */
const isZoneFile = (zoneinfo: string, name: string, content: Buffer) =>
  isKnownTimeZone(name) && read(join(zoneinfo, name))?.equals(content) === true;

/**
 * The name of a zone file under `zoneinfo` with exactly `content`, or null (as ICU looks). Aliases
 * are passed over (`Arctic/Longyearbyen` for Berlin's file, `Asia/Calcutta` for Kolkata's): links
 * (Debian's) and the names `tzdata.zi` lists as links.
 */
function findZoneFile(zoneinfo: string, content: Buffer): string | null {
  const aliases = new Set(
    (read(join(zoneinfo, "tzdata.zi"))?.toString("utf8") ?? "")
      .split("\n")
      .filter((line) => line.startsWith("L "))
      .map((line) => line.split(/\s+/)[2]),
  );
  const candidates: string[] = [];
  const walk = (folder: string) => {
    let names: string[];
    try {
      names = readdirSync(join(zoneinfo, folder)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      if (folder === "" && (name === "posix" || name === "right")) continue; // copies of the rest
      const path = folder === "" ? name : `${folder}/${name}`;
      try {
        const info = lstatSync(join(zoneinfo, path));
        if (info.isDirectory()) walk(path);
        else if (info.isFile() && info.size === content.length && !aliases.has(path)) candidates.push(path);
      } catch {
        // Gone meanwhile, or unreadable: not this one.
      }
    }
  };
  walk("");
  // Canonical names (`Europe/Berlin`) before their aliases and the legacy top-level files (`CET`).
  candidates.sort((a, b) => Number(!a.includes("/")) - Number(!b.includes("/")));
  return candidates.find((name) => isZoneFile(zoneinfo, name, content)) ?? null;
}

const CRON_DAEMONS: ReadonlySet<string> = new Set(["cron", "crond", "supercronic"]);

/** `pid`'s name and parent from `<proc>/<pid>/stat` (`412 (cron) S 88 …`), or null. */
function processInfo(proc: string, pid: string): { pid: string; name: string; parent: string } | null {
  const stat = read(join(proc, pid, "stat"))?.toString("utf8");
  if (stat === undefined) return null;
  const open = stat.indexOf("(");
  const close = stat.lastIndexOf(")"); // a name may hold parentheses and spaces
  if (open < 0 || close < open) return null;
  const parent = stat.slice(close + 2).split(" ")[1];
  return parent === undefined ? null : { pid: stat.slice(0, open).trim(), name: stat.slice(open + 1, close), parent };
}

/**
 * The cron daemon whose zone counts, as a pid: the one this process descends from (a job, or a
 * checker run by cron), else the one running on this machine at the top of its own process tree
 * and in this process's mount namespace (not a container's, not a job named `cron`).
 */
function cronDaemon(proc: string): string | null {
  let at = processInfo(proc, "self");
  for (let hops = 0; at !== null && hops < 64; hops++) {
    if (CRON_DAEMONS.has(at.name)) return at.pid;
    if (at.parent === "0" || at.parent === at.pid) break;
    at = processInfo(proc, at.parent);
  }
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const namespace = (pid: string) => {
    try {
      return readlinkSync(join(proc, pid, "ns", "mnt"));
    } catch {
      return null;
    }
  };
  const ours = namespace("self");
  for (const pid of pids.sort((a, b) => Number(a) - Number(b))) {
    const info = processInfo(proc, pid);
    if (info === null || !CRON_DAEMONS.has(info.name)) continue;
    if (CRON_DAEMONS.has(processInfo(proc, info.parent)?.name ?? "")) continue; // a child it forked for a line
    if (ours !== null && namespace(pid) !== ours) continue;
    return pid;
  }
  return null;
}

/**
 * The zone the cron daemon (see `cronDaemon`) was started with: `TZ` in its environment, or null
 * when none runs, its environment may not be read (another user's process: a job of another
 * user under root's cron), or it has no `TZ`. `root` is where `proc` is (`/`; a test's folder).
 */
export function cronDaemonTimeZone(root = "/"): string | null {
  const proc = join(root, "proc");
  const daemon = cronDaemon(proc);
  if (daemon === null) return null;
  const environ = read(join(proc, daemon, "environ"));
  if (environ === null) return null;
  const tz = environ
    .toString("utf8")
    .split("\0")
    .find((entry) => entry.startsWith("TZ="))
    ?.slice(3)
    .replace(/^:/, "");
  if (tz === undefined) return null;
  // An empty TZ is UTC to glibc and musl; a POSIX rule of a fixed offset (`JST-9`, `UTC0`) is the
  // Etc zone of that offset, whose sign is POSIX's; rules with summer time name no zone.
  if (tz === "") return "UTC";
  const fixed = /^[A-Za-z]{3,}([+-]?)(\d{1,2})$/.exec(tz);
  if (fixed) {
    const etc = Number(fixed[2]) === 0 ? "UTC" : `Etc/GMT${fixed[1] === "-" ? "-" : "+"}${Number(fixed[2])}`;
    return isKnownTimeZone(etc) ? etc : null;
  }
  return isKnownTimeZone(tz) ? tz : zoneOfPath(tz);
}

/**
 * The machine's own zone, as its cron daemon (and systemd's timers) read schedules: the cron
 * daemon's `TZ` when it was started with one, else the zone of `<root>/etc/localtime`. `root` is
 * another machine's `/` (a container reading its host's crontabs). Never this process's `$TZ`:
 * when neither says, the machine's zone as the runtime finds it without `$TZ`; for another
 * machine's root, UTC.
 */
export function systemTimeZone(root = "/", runtimeZone = defaultRuntimeZone): string {
  // Looking costs a read of every process's name (~1 ms per 50 processes): `run` asks twice per
  // run, a service on every beat. A zone changed meanwhile reaches cron only when it restarts.
  const own = posix.normalize(root) === "/";
  const kept = own && runtimeZone === defaultRuntimeZone;
  const now = Date.now();
  if (kept && answer !== null && now - answer.at < ANSWER_MS) return answer.zone;
  const zone = cronDaemonTimeZone(root) ?? localtimeZone(root) ?? (own ? runtimeZone() : "UTC");
  if (kept) answer = { zone, at: now };
  return zone;
}

/** The last answer for this machine (not for another root: a test's, or a host's mounted read-only). */
let answer: { zone: string; at: number } | null = null;
const ANSWER_MS = 60_000;

const defaultRuntimeZone = () => runtimeZoneWithoutTZ();

/**
 * The runtime's idea of this machine's zone, without `$TZ`: its own when the process has no TZ,
 * else asked of a child started without it (nor NODE_OPTIONS, whose preloads could print).
 */
export function runtimeZoneWithoutTZ(node = process.execPath): string {
  if (process.env.TZ === undefined) return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const env = { ...process.env };
  delete env.TZ;
  delete env.NODE_OPTIONS;
  // Loaded here only: child_process (with net and its bindings) would cost every beat ~3 ms.
  const { spawnSync } = process.getBuiltinModule("node:child_process");
  const child = spawnSync(node, ["-p", "Intl.DateTimeFormat().resolvedOptions().timeZone"], {
    env,
    encoding: "utf8",
    timeout: 5000,
    cwd: dirname(process.execPath),
  });
  const zone = child.status === 0 ? child.stdout.trim() : "";
  return isKnownTimeZone(zone) ? zone : "UTC";
}

/**
 * The zone a job's schedule is read in when the job does not say: `CRON_TZ` from its environment
 * (cronie reads a crontab's `CRON_TZ=` line as the schedule's zone and passes it on to the job),
 * else the machine's (`systemTimeZone`). `$TZ` never counts.
 */
export function cronTimeZone(env: Record<string, string | undefined>, root = "/"): string {
  const cronTz = env.CRON_TZ;
  if (cronTz !== undefined && isKnownTimeZone(cronTz)) return cronTz;
  return systemTimeZone(root);
}
