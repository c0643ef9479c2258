import { execFileSync } from "node:child_process";
import { chmod, chown, stat } from "node:fs/promises";
import { Option } from "commander";
import { SYSTEM_HEARTBEAT_DIR, errnoText, makeDirs, systemHeartbeatDir, writeFileAtomically } from "lastbeat/internal";
import { UsageError } from "../errors.js";
import type { RegisterCommand } from "../io.js";
import { absolute, parsePathArg } from "../options.js";

/*
 * `lastbeat init`: the one heartbeat folder every user's jobs can write and every reader reads.
 * Mode 1777 (like /tmp: anyone writes, only the owner replaces a file), or 2775 with --group so
 * only that group's jobs write. /run is a tmpfs: the tmpfiles.d line makes systemd recreate the
 * folder at every boot. See docs/crontab.md, "Set up a host".
 */
export const registerInit: RegisterCommand = (program, io) => {
  program
    .command("init")
    .description("create the shared heartbeat folder (mode 1777, or group-writable) and its tmpfiles.d line")
    .addOption(new Option("--dir <folder>", `the folder (default: ${SYSTEM_HEARTBEAT_DIR})`).argParser(parsePathArg))
    .option("--group <name>", "only this group's jobs may write: root:<group>, mode 2775")
    .option("--install", "write the line to /etc/tmpfiles.d/lastbeat.conf (else it is printed)")
    .addHelpText(
      "after",
      `
Examples:
  $ sudo lastbeat init --install
  $ sudo lastbeat init --group app --install`,
    )
    .action(async (flags: { dir?: string; group?: string; install?: boolean }) => {
      const dir = flags.dir === undefined ? systemHeartbeatDir(io.env) : absolute(flags.dir, io);
      const mode = flags.group === undefined ? 0o1777 : 0o2775;
      const gid = flags.group === undefined ? 0 : groupId(flags.group);
      try {
        await makeDirs(dir);
        // chmod after mkdir: the umask would narrow the mode.
        await chown(dir, 0, gid);
        await chmod(dir, mode);
      } catch (error) {
        throw new UsageError(`cannot set up heartbeat folder ${dir}: ${errnoText(error)} (run lastbeat init as root)`, { cause: error });
      }
      const info = await stat(dir);
      // /var/run is a link to /run on current systems; systemd-tmpfiles wants the real path.
      const line = `d ${dir.replace(/^\/var\/run\//, "/run/")} ${(mode & 0o7777).toString(8).padStart(4, "0")} root ${flags.group ?? "root"} -\n`;
      io.stdout.write(`heartbeat folder ${dir}: mode ${(info.mode & 0o7777).toString(8)}, owner ${info.uid}:${info.gid}\n`);
      if (flags.install) {
        const file = "/etc/tmpfiles.d/lastbeat.conf";
        try {
          await writeFileAtomically(file, `# lastbeat: the shared heartbeat folder, recreated at boot\n${line}`);
        } catch (error) {
          throw new UsageError(`cannot write ${file}: ${errnoText(error)}`, { cause: error });
        }
        io.stdout.write(`wrote ${file}: ${line}`);
      } else {
        io.stdout.write(`tmpfiles.d line (/etc/tmpfiles.d/lastbeat.conf, or use --install):\n${line}`);
      }
    });
};

function groupId(name: string): number {
  try {
    const entry = execFileSync("getent", ["group", name], { encoding: "utf8" });
    const gid = Number(entry.split(":")[2]);
    if (Number.isInteger(gid)) return gid;
  } catch {
    // getent exits 2 for an unknown group
  }
  throw new UsageError(`--group ${JSON.stringify(name)}: no such group`);
}
