import { readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { dirname, join, posix } from "node:path";

// The zone cron reads a schedule in: the cron daemon's own. Not the job's $TZ: a crontab's `TZ=`
// line only reaches the job's environment (Vixie cron, Debian's: "TZ can be set, but cron
// ignores it other than passing it on through to the commands it runs"; cronie reads CRON_TZ,
// never TZ). A beat that recorded the job's $TZ as its schedule's zone was judged hours off, every
// day. The daemon's zone is /etc/localtime's, unless the daemon itself was started with a TZ (a
// container's `ENV TZ`, systemd's `Environment=`, /etc/default/cron).

/** Whether `tz` is an IANA zone this runtime knows. */
function knownZone(tz: string): boolean {
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
  return named && knownZone(named[1] as string) ? (named[1] as string) : null;
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
  const same = (name: string) => knownZone(name) && read(join(zoneinfo, name))?.equals(content) === true;
  const named = read(join(root, "etc/timezone"))?.toString("utf8").trim();
  if (named && same(named)) return named;
  return findZoneFile(zoneinfo, content);
}

/** The name of a zone file under `zoneinfo` with exactly `content`, or null (as ICU looks). */
function findZoneFile(zoneinfo: string, content: Buffer): string | null {
  const candidates: string[] = [];
  const walk = (folder: string, prefix: string) => {
    let names: string[];
    try {
      names = readdirSync(join(zoneinfo, folder)).sort();
    } catch {
      return;
    }
    for (const name of names) {
      const path = folder === "" ? name : `${folder}/${name}`;
      if (prefix === "" && (name === "posix" || name === "right")) continue; // copies of the rest
      try {
        const info = statSync(join(zoneinfo, path));
        if (info.isDirectory()) walk(path, path);
        else if (info.size === content.length) candidates.push(path);
      } catch {
        // Gone meanwhile, or unreadable: not this one.
      }
    }
  };
  walk("", "");
  // Canonical names (`Europe/Berlin`) before their aliases and the legacy top-level files (`CET`).
  candidates.sort((a, b) => Number(!a.includes("/")) - Number(!b.includes("/")));
  return candidates.find((name) => knownZone(name) && read(join(zoneinfo, name))?.equals(content) === true) ?? null;
}

/**
 * The zone a cron daemon running on this machine was started with (`TZ` in its environment), or
 * null: none running, its environment not readable (another user's process), or no `TZ` naming a
 * zone. `root` is where `proc` is (`/`; a test's own folder).
 */
export function cronDaemonTimeZone(root = "/"): string | null {
  const proc = join(root, "proc");
  let pids: string[];
  try {
    pids = readdirSync(proc).filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  // The daemon before the children it forks to run lines (they carry its environment too).
  pids.sort((a, b) => Number(a) - Number(b));
  for (const pid of pids) {
    const comm = read(join(proc, pid, "comm"))?.toString("utf8").trim();
    if (comm !== "cron" && comm !== "crond") continue;
    const environ = read(join(proc, pid, "environ"));
    if (environ === null) continue;
    const tz = environ
      .toString("utf8")
      .split("\0")
      .find((entry) => entry.startsWith("TZ="))
      ?.slice(3)
      .replace(/^:/, "");
    return tz === undefined ? null : knownZone(tz) ? tz : zoneOfPath(tz);
  }
  return null;
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
  const now = Date.now();
  if (own && answer !== null && answer.runtimeZone === runtimeZone && now - answer.at < ANSWER_MS) return answer.zone;
  const zone = cronDaemonTimeZone(root) ?? localtimeZone(root) ?? (own ? runtimeZone() : "UTC");
  if (own) answer = { zone, at: now, runtimeZone };
  return zone;
}

/** The last answer for this machine (not for another root: a test's, or a host's mounted read-only). */
let answer: { zone: string; at: number; runtimeZone: () => string } | null = null;
const ANSWER_MS = 60_000;

const defaultRuntimeZone = () => runtimeZoneWithoutTZ(process.env);

/** The runtime's idea of the machine's zone, without `$TZ` (asked of a child when `env` has one). */
export function runtimeZoneWithoutTZ(processEnv: Record<string, string | undefined>, node = process.execPath): string {
  if (!processEnv.TZ) return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  const env = { ...processEnv };
  delete env.TZ;
  // Loaded here only: child_process (with net and its bindings) would cost every beat ~3 ms.
  const { spawnSync } = process.getBuiltinModule("node:child_process");
  const child = spawnSync(node, ["-p", "Intl.DateTimeFormat().resolvedOptions().timeZone"], {
    env,
    encoding: "utf8",
    timeout: 5000,
    cwd: dirname(process.execPath),
  });
  const zone = child.status === 0 ? child.stdout.trim() : "";
  return zone !== "" && knownZone(zone) ? zone : "UTC";
}

/**
 * The zone a job's schedule is read in when the job does not say: `CRON_TZ` from its environment
 * (cronie reads a crontab's `CRON_TZ=` line as the schedule's zone and passes it on to the job),
 * else the machine's (`systemTimeZone`). `$TZ` never counts.
 */
export function cronTimeZone(env: Record<string, string | undefined>, root = "/"): string {
  const cronTz = env.CRON_TZ;
  if (cronTz !== undefined && knownZone(cronTz)) return cronTz;
  return systemTimeZone(root);
}
