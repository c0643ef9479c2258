import { readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";

// The zone cron reads a schedule in. Not the process's $TZ: a crontab's `TZ=` line only reaches
// the job's environment (Vixie cron, Debian's: "TZ can be set, but cron ignores it other than
// passing it on through to the commands it runs"; cronie reads CRON_TZ, never TZ). A beat that
// recorded $TZ as its schedule's zone would be judged hours off, every day.

/** Whether `tz` is an IANA zone this runtime knows. */
function knownZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * The machine's own zone, as its cron daemon (and systemd's timers) read schedules: the zone
 * `<root>/etc/localtime` links to (`/usr/share/zoneinfo/Europe/Berlin`: Debian, Ubuntu, RHEL,
 * Arch, Alpine, macOS), else the name in `<root>/etc/timezone` (older Debian), else the runtime's
 * zone (`runtimeZone`, which follows $TZ). `root` is another machine's `/` (a container reading
 * its host's crontabs).
 */
export function systemTimeZone(root = "/", runtimeZone = defaultRuntimeZone): string {
  let missing = 0;
  try {
    // `posix/` and `right/` hold the same zones (`right/` with leap seconds, which cron ignores).
    const linked = /(?:^|\/)zoneinfo\/(?:posix\/|right\/)?([^/].*)/.exec(readlinkSync(join(root, "etc/localtime")));
    if (linked && knownZone(linked[1] as string)) return linked[1] as string;
  } catch (error) {
    // Not a link (a copied zone file), or none: try the name file.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") missing++;
  }
  try {
    const named = readFileSync(join(root, "etc/timezone"), "utf8").trim();
    if (knownZone(named)) return named;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") missing++;
  }
  // Neither file: glibc and musl then run on UTC (a slim container). The runtime's zone would be
  // $TZ's, the one thing this function must not answer with.
  if (missing === 2 && process.platform === "linux") return "UTC";
  return runtimeZone();
}

const defaultRuntimeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

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
