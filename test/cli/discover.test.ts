import { chmod, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { runCli } from "@lastbeat/cli";
import { beforeEach, describe, expect, it } from "vitest";
import { lastbeatArgs, repoRoot, runCommand } from "../support/cli.js";
import { fakeIo } from "../support/fake-io.js";
import { testdir } from "../support/testdir.js";

/* `lastbeat discover`: wrap the unmonitored cron lines, print the manifest, --write, idempotence. */

const SHOP = [
  "SHELL=/bin/sh",
  "CRON_TZ=Europe/Berlin",
  "# nightly",
  "0 2 * * * root cd /srv && ./backup.sh --full > /dev/null 2>&1",
  "*/5 * * * * app /usr/bin/python3 /opt/sync.py",
  "*/10 * * * * app /usr/bin/python3 /opt/sync.py --fast %line one%line two",
  "@daily root run-parts /etc/cron.daily",
  "@reboot root /usr/local/bin/warm",
  "15 * * * * root lastbeat run old --every 1h -- true",
  "30 * * * * root echo hi # lastbeat: ignore",
  `0 3 * * mon-fri root echo "it's 100\\% done"`,
  "",
].join("\n");

/** Plain `lastbeat` in the wrapped lines, as if cron's PATH found it; how it is found is tested below. */
const DISCOVER = ["discover", "--lastbeat", "lastbeat"];

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await testdir("lastbeat-discover-");
  await mkdir(join(dir, "cron.d"));
  file = join(dir, "cron.d", "shop");
  await writeFile(file, SHOP, { mode: 0o640 });
  await mkdir(join(dir, "hb"));
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const io = fakeIo({ env: { LASTBEAT_DIR: join(dir, "hb"), ...env }, cwd: dir });
  const code = await runCli(args, io);
  return { code, stdout: io.out().replaceAll(dir, "<dir>"), stderr: io.err().replaceAll(dir, "<dir>") };
}

describe("lastbeat discover", () => {
  it("a TZ= line stays the commands' business: no --tz, no note; the manifest names the host's zone (a manifest reads none as UTC)", async () => {
    await writeFile(file, "TZ=Asia/Tokyo\n0 2 * * * root /srv/backup.sh\n");
    // The host whose cron this is: its /etc/localtime, not this process's TZ.
    const host = join(dir, "host");
    await mkdir(join(host, "etc"), { recursive: true });
    await symlink("/usr/share/zoneinfo/America/Chicago", join(host, "etc", "localtime"));
    const r = await cli([...DISCOVER, "--crontab", file, "--json"], { LASTBEAT_CRON_ROOT: host, TZ: "Asia/Tokyo" });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    const { crontabs, manifest } = JSON.parse(r.stdout) as { crontabs: { text: string }[]; manifest: unknown };
    expect(crontabs[0]?.text).toBe("TZ=Asia/Tokyo\n0 2 * * * root lastbeat run backup --schedule '0 2 * * *' -- sh -c '/srv/backup.sh'\n");
    expect(manifest).toEqual({ jobs: { backup: { schedule: "0 2 * * *", tz: "America/Chicago" } } });
  });

  it("prints the crontab with every unmonitored line wrapped, and the manifest", async () => {
    const r = await cli([...DISCOVER, "--crontab", file]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe(
      "lastbeat: <dir>/cron.d/shop: lines 4, 5, 6, 7, 11 take CRON_TZ as --tz, the zone cronie (RHEL, Fedora, Arch) runs them in; Debian's and Ubuntu's cron ignore CRON_TZ and run every line in the host's zone: there, drop CRON_TZ and --tz\n" +
        "lastbeat: <dir>/cron.d/shop:8: not wrapped: @reboot has no schedule to declare: wrap it by hand with lastbeat run <job> --every <duration>\n",
    );
    expect(r.stdout).toMatchInlineSnapshot(`
      "SHELL=/bin/sh
      CRON_TZ=Europe/Berlin
      # nightly
      0 2 * * * root lastbeat run backup --schedule '0 2 * * *' --tz 'Europe/Berlin' -- sh -c 'cd /srv && ./backup.sh --full > /dev/null 2>&1'
      */5 * * * * app lastbeat run sync --schedule '*/5 * * * *' --tz 'Europe/Berlin' -- sh -c '/usr/bin/python3 /opt/sync.py'
      */10 * * * * app lastbeat run sync-2 --schedule '*/10 * * * *' --tz 'Europe/Berlin' -- sh -c '/usr/bin/python3 /opt/sync.py --fast'%line one%line two
      @daily root lastbeat run cron.daily --schedule '0 0 * * *' --tz 'Europe/Berlin' -- sh -c 'run-parts /etc/cron.daily'
      @reboot root /usr/local/bin/warm
      15 * * * * root lastbeat run old --every 1h -- true
      30 * * * * root echo hi # lastbeat: ignore
      0 3 * * mon-fri root lastbeat run echo --schedule '0 3 * * 1-5' --tz 'Europe/Berlin' -- sh -c 'echo "it'\\''s 100\\% done"'

      # lastbeat.json, declaring these jobs before their first beat:
      # {
      #   "jobs": {
      #     "backup": {
      #       "schedule": "0 2 * * *",
      #       "tz": "Europe/Berlin"
      #     },
      #     "sync": {
      #       "schedule": "*/5 * * * *",
      #       "tz": "Europe/Berlin"
      #     },
      #     "sync-2": {
      #       "schedule": "*/10 * * * *",
      #       "tz": "Europe/Berlin"
      #     },
      #     "cron.daily": {
      #       "schedule": "0 0 * * *",
      #       "tz": "Europe/Berlin"
      #     },
      #     "echo": {
      #       "schedule": "0 3 * * 1-5",
      #       "tz": "Europe/Berlin"
      #     }
      #   }
      # }
      "
    `);
    expect(await readFile(file, "utf8")).toBe(SHOP); // printing never edits
  });

  it("--write edits the file after a backup; a second run changes nothing; the checker knows every job", async () => {
    const first = await cli([...DISCOVER, "--crontab", file, "--write"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe(
      "<dir>/cron.d/shop: wrapped backup (line 4), sync (line 5), sync-2 (line 6), cron.daily (line 7), echo (line 11); backup <dir>/cron.d/.shop.lastbeat-bak\n",
    );
    expect(await readFile(join(dir, "cron.d", ".shop.lastbeat-bak"), "utf8")).toBe(SHOP);
    const wrapped = await readFile(file, "utf8");
    expect(wrapped).not.toBe(SHOP);
    expect((await stat(file)).mode & 0o777).toBe(0o640);

    const second = await cli([...DISCOVER, "--crontab", file, "--write", "--json"]);
    expect(JSON.parse(second.stdout)).toMatchObject({ crontabs: [{ changed: false, written: false, wrapped: [] }], manifest: { jobs: {} } });
    expect(await readFile(file, "utf8")).toBe(wrapped);
    expect(await readFile(join(dir, "cron.d", ".shop.lastbeat-bak"), "utf8")).toBe(SHOP);

    // Every wrapped job is declared by its line: missing until its first beat, nothing unmonitored but @reboot.
    const status = await cli(["status", "--json", "--crontab", file]);
    const json = JSON.parse(status.stdout) as { jobs: { job: string; status: string }[]; unmonitored: { line: number }[] };
    expect(json.jobs.map((j) => `${j.job}:${j.status}`).sort()).toEqual(["backup:missing", "cron.daily:missing", "echo:missing", "old:missing", "sync-2:missing", "sync:missing"]);
    expect(json.unmonitored.map((u) => u.line)).toEqual([8]);
  });

  it("--write never wraps a line that runs lastbeat behind a wrapper; a wrapper line that runs something else is wrapped whole", async () => {
    const text = [
      "0 1 * * * root sudo -u app lastbeat run c6 --every 1h -- /usr/bin/x",
      "0 2 * * * root nice -n 10 lastbeat beat c2 --every 1d",
      "0 3 * * * root timeout 1h lastbeat run c8 --every 1d -- backup.sh",
      "0 4 * * * root flock -n /tmp/x lastbeat run c11 --every 1h -- sync.sh",
      "0 5 * * * root su app -c 'lastbeat run report -- /srv/report.sh'",
      "0 6 * * * root nice -n 10 /usr/local/bin/reindex --all",
      "0 7 * * * root timeout 1h /srv/backup.sh",
      "",
    ].join("\n");
    await writeFile(file, text);
    const first = await cli([...DISCOVER, "--crontab", file, "--write"]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toBe("<dir>/cron.d/shop: wrapped reindex (line 6), backup (line 7); backup <dir>/cron.d/.shop.lastbeat-bak\n");
    const written = await readFile(file, "utf8");
    expect(written).toMatchInlineSnapshot(`
      "0 1 * * * root sudo -u app lastbeat run c6 --every 1h -- /usr/bin/x
      0 2 * * * root nice -n 10 lastbeat beat c2 --every 1d
      0 3 * * * root timeout 1h lastbeat run c8 --every 1d -- backup.sh
      0 4 * * * root flock -n /tmp/x lastbeat run c11 --every 1h -- sync.sh
      0 5 * * * root su app -c 'lastbeat run report -- /srv/report.sh'
      0 6 * * * root lastbeat run reindex --schedule '0 6 * * *' -- sh -c 'nice -n 10 /usr/local/bin/reindex --all'
      0 7 * * * root lastbeat run backup --schedule '0 7 * * *' -- sh -c 'timeout 1h /srv/backup.sh'
      "
    `);
    expect(written.split("\n").slice(0, 5)).toEqual(text.split("\n").slice(0, 5));

    const second = await cli([...DISCOVER, "--crontab", file, "--write", "--json"]);
    expect(JSON.parse(second.stdout)).toMatchObject({ crontabs: [{ changed: false, wrapped: [] }] });
    expect(await readFile(file, "utf8")).toBe(written);
    const status = await cli(["status", "--json", "--crontab", file]);
    const json = JSON.parse(status.stdout) as { jobs: { job: string }[]; unmonitored: unknown[] };
    expect(json.jobs.map((j) => j.job).sort()).toEqual(["backup", "c11", "c2", "c6", "c8", "reindex", "report"]);
    expect(json.unmonitored).toEqual([]);
  });

  it("leaves the checker's own lines (lastbeat check, report, … behind any wrapper) as written; grep lastbeat is wrapped", async () => {
    // The README's /etc/cron.d/lastbeat: wrapped, a checker that exits 1 while anything alerts
    // would record `fail` and stay failed for ever.
    const text = [
      "*/15 * * * *  root  lastbeat check --quiet --crontabs --forge file --repo /var/lib/lastbeat/issues",
      `0 7 * * *  root  lastbeat report --crontabs --format text | mail -s "morning brief" ops@example.com`,
      "* * * * *  root  sudo -u prom sh -c '/usr/local/bin/lastbeat metrics --crontabs > /srv/lastbeat.prom'",
      "0 8 * * *  root  grep lastbeat /var/log/syslog",
      "",
    ].join("\n");
    await writeFile(file, text);
    const first = await cli([...DISCOVER, "--crontab", file, "--write"]);
    expect(first).toMatchObject({ code: 0, stderr: "" });
    expect(first.stdout).toBe("<dir>/cron.d/shop: wrapped grep (line 4); backup <dir>/cron.d/.shop.lastbeat-bak\n");
    const written = await readFile(file, "utf8");
    expect(written.split("\n")).toEqual([
      ...text.split("\n").slice(0, 3),
      "0 8 * * *  root  lastbeat run grep --schedule '0 8 * * *' -- sh -c 'grep lastbeat /var/log/syslog'",
      "",
    ]);
    const status = await cli(["status", "--json", "--crontab", file]);
    const json = JSON.parse(status.stdout) as { jobs: { job: string }[]; unmonitored: unknown[] };
    expect(json.jobs.map((j) => j.job)).toEqual(["grep"]);
    expect(json.unmonitored).toEqual([]);
  });

  it("names a wrapped line by the program behind its wrappers, read with their own options", async () => {
    const text = [
      "0 1 * * * root sudo -u app /usr/bin/invoice-run --all",
      "0 2 * * * root flock -n /tmp/x /srv/sync.sh",
      "0 3 * * * root timeout -s KILL 2h nice -n 10 ionice -c 3 /srv/backup.sh",
      "0 4 * * * root su app -c '/srv/report.py --daily'",
      "0 5 * * * root sh -c 'cd /srv && ./cleanup.sh'",
      "0 6 * * * root sudo --frobnicate /usr/bin/odd",
      "",
    ].join("\n");
    await writeFile(file, text);
    const r = await cli([...DISCOVER, "--crontab", file, "--json"]);
    expect((JSON.parse(r.stdout) as { crontabs: { wrapped: { job: string }[] }[] }).crontabs[0]!.wrapped.map((w) => w.job)).toEqual([
      "invoice-run",
      "sync",
      "backup",
      "report",
      "cleanup",
      // An option sudo does not have: which word is the program cannot be told; the old rough reading.
      "odd",
    ]);
  });

  it("leaves a spool file without --user unedited (exit 1, one line), edits it with one, and refuses bad input with one line", async () => {
    const spool = join(dir, "var", "spool", "cron", "crontabs");
    await mkdir(spool, { recursive: true });
    await writeFile(join(spool, "alice"), "*/5 * * * * /home/alice/poll.sh\n", { mode: 0o600 });
    const left = await cli([...DISCOVER, "--crontab", join(spool, "alice"), "--write"]);
    expect(left).toEqual({
      code: 1,
      stdout: "",
      stderr: "lastbeat: left the spool crontab of alice unedited: add --user alice to edit it (or edit it with crontab -e)\n",
    });
    expect(await readdir(spool)).toEqual(["alice"]);
    expect(await readFile(join(spool, "alice"), "utf8")).toBe("*/5 * * * * /home/alice/poll.sh\n");
    const allowed = await cli([...DISCOVER, "--crontab", join(spool, "alice"), "--write", "--user", "alice"]);
    expect(allowed.code).toBe(0);
    expect(await readFile(join(spool, "alice"), "utf8")).toBe("*/5 * * * * lastbeat run poll --schedule '*/5 * * * *' -- sh -c '/home/alice/poll.sh'\n");

    expect((await cli(["discover"])).stderr).toBe("error: discover needs --crontab <file> or --crontabs\n");
    const missing = await cli([...DISCOVER, "--crontab", join(dir, "nope")]);
    expect(missing).toMatchObject({ code: 2, stderr: "error: cannot read crontab <dir>/nope: no such file or directory (ENOENT)\n" });
  });

  it("--crontabs --write on a host with several user crontabs: edits the system files and the spool files of each --user, leaves the others and names them", async () => {
    const root = join(dir, "root");
    const spool = join(root, "var", "spool", "cron", "crontabs");
    await mkdir(spool, { recursive: true });
    await mkdir(join(root, "etc", "cron.d"), { recursive: true });
    await writeFile(join(root, "etc", "crontab"), "0 4 * * * root /usr/local/bin/rotate\n");
    await writeFile(join(root, "etc", "cron.d", "shop"), "0 2 * * * root /srv/backup.sh\n");
    const users = { bob: "0 1 * * * /home/bob/report.sh\n", alice: "*/5 * * * * /home/alice/poll.sh\n", carol: "# nothing to wrap\n" };
    for (const [user, text] of Object.entries(users)) await writeFile(join(spool, user), text, { mode: 0o600 });
    const env = { LASTBEAT_CRON_ROOT: root };
    const wrapped = {
      crontab: "0 4 * * * root lastbeat run rotate --schedule '0 4 * * *' -- sh -c '/usr/local/bin/rotate'\n",
      shop: "0 2 * * * root lastbeat run backup --schedule '0 2 * * *' -- sh -c '/srv/backup.sh'\n",
      bob: "0 1 * * * lastbeat run report --schedule '0 1 * * *' -- sh -c '/home/bob/report.sh'\n",
      alice: "*/5 * * * * lastbeat run poll --schedule '*/5 * * * *' -- sh -c '/home/alice/poll.sh'\n",
    };

    // No --user: the system files are edited; the spool crontabs with lines to wrap are named, sorted, in one line.
    const first = await cli([...DISCOVER, "--crontabs", "--write"], env);
    expect(first.code).toBe(1);
    expect(first.stderr).toBe("lastbeat: left the spool crontabs of alice, bob unedited: add --user <name> to edit one (or edit it with crontab -e)\n");
    expect(first.stdout).toBe(
      [
        "<dir>/root/etc/crontab: wrapped rotate (line 1); backup <dir>/root/etc/.crontab.lastbeat-bak",
        "<dir>/root/etc/cron.d/shop: wrapped backup (line 1); backup <dir>/root/etc/cron.d/.shop.lastbeat-bak",
        "",
      ].join("\n"),
    );
    expect(await readFile(join(root, "etc", "crontab"), "utf8")).toBe(wrapped.crontab);
    expect(await readFile(join(root, "etc", "cron.d", "shop"), "utf8")).toBe(wrapped.shop);
    for (const [user, text] of Object.entries(users)) expect(await readFile(join(spool, user), "utf8")).toBe(text);

    // --user is repeatable: one of them, then both.
    const json = await cli([...DISCOVER, "--crontabs", "--write", "--user", "bob", "--json"], env);
    expect(json.code).toBe(1);
    expect(json.stderr).toBe("lastbeat: left the spool crontab of alice unedited: add --user alice to edit it (or edit it with crontab -e)\n");
    const files = (JSON.parse(json.stdout) as { crontabs: { file: string; changed: boolean; written: boolean }[] }).crontabs;
    expect(files.filter((f) => f.changed).map((f) => [f.file.replaceAll(dir, "<dir>"), f.written])).toEqual([
      ["<dir>/root/var/spool/cron/crontabs/alice", false],
      ["<dir>/root/var/spool/cron/crontabs/bob", true],
    ]);
    expect(await readFile(join(spool, "bob"), "utf8")).toBe(wrapped.bob);
    expect(await readFile(join(spool, "alice"), "utf8")).toBe(users.alice);
    // The manifest declares what was wrapped: alice's line, left as it was, would be missing for ever.
    expect(Object.keys((JSON.parse(json.stdout) as { manifest: { jobs: object } }).manifest.jobs)).toEqual(["report"]);

    const both = await cli([...DISCOVER, "--crontabs", "--write", "--user", "bob", "--user", "alice"], env);
    expect(both).toMatchObject({ code: 0, stderr: "" });
    expect(await readFile(join(spool, "alice"), "utf8")).toBe(wrapped.alice);
    expect(await readFile(join(spool, "carol"), "utf8")).toBe(users.carol);
    // Nothing left to wrap: no line, exit 0, whoever is named.
    expect(await cli([...DISCOVER, "--crontabs", "--write"], env)).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("a wrapped line really runs: sh -c of the produced command beats with the schedule's interval and passes the exit code", async () => {
    await writeFile(file, "*/5 * * * * root echo 'a\\%b' > out; exit 3\n");
    const r = await cli([...DISCOVER, "--crontab", file, "--json"]);
    const line = (JSON.parse(r.stdout) as { crontabs: { text: string }[] }).crontabs[0]!.text.split("\n")[0]!;
    expect(line).toBe(`*/5 * * * * root lastbeat run echo --schedule '*/5 * * * *' -- sh -c 'echo '\\''a\\%b'\\'' > out; exit 3'`);
    // What cron hands to sh: the command after the five fields and the user, `\%` made `%`.
    const command = line.replace(/^(\S+\s+){6}/, "").replaceAll("\\%", "%");
    const bin = join(dir, "bin");
    await mkdir(bin);
    const shim = join(bin, "lastbeat");
    // `lastbeat` on PATH, from source; tsx by its file, since the job runs in another folder.
    const args = lastbeatArgs([]).map((a) => (a === "tsx" ? join(repoRoot, "node_modules", "tsx", "dist", "loader.mjs") : a));
    await writeFile(shim, `#!/bin/sh\nexec '${process.execPath}' ${args.map((a) => `'${a}'`).join(" ")} "$@"\n`);
    await chmod(shim, 0o755);
    const hb = join(dir, "hb");
    const run = await runCommand("sh", ["-c", `cd '${dir}' && ${command}`], { env: { PATH: `${bin}:${process.env.PATH}`, LASTBEAT_DIR: hb } });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(3);
    expect(await readFile(join(dir, "out"), "utf8")).toBe("a%b\n");
    const beat = JSON.parse(await readFile(join(hb, "echo.last"), "utf8"));
    expect(beat).toMatchObject({ job: "echo", status: "fail", exit_code: 3, schedule: "*/5 * * * *", interval_s: 300 });
  });

  it("beat takes --schedule alone: the interval is the schedule's shortest gap", async () => {
    expect((await cli(["beat", "hourly", "--schedule", "0 * * * *", "--tz", "UTC"])).code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, "hb", "hourly.last"), "utf8"))).toMatchObject({ schedule: "0 * * * *", tz: "UTC", interval_s: 3600 });
    expect((await cli(["beat", "weekdays", "--schedule", "0 3 * * 1-5", "--tz", "UTC"])).code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, "hb", "weekdays.last"), "utf8"))).toMatchObject({ interval_s: 86400 });
  });

  describe("how a wrapped line finds lastbeat under cron's PATH", () => {
    let npmBin: string;
    beforeEach(async () => {
      // Where `npm install -g` puts the command: on the caller's PATH, not on cron's default one.
      npmBin = join(dir, "npm-bin");
      await mkdir(npmBin);
      await writeFile(join(npmBin, "lastbeat"), "#!/bin/sh\n", { mode: 0o755 });
      await writeFile(file, "*/5 * * * * root /opt/poll.sh\n");
    });
    const wrappedLine = async (env: Record<string, string>, extra: string[] = []) => {
      const r = await cli(["discover", "--crontab", file, "--json", ...extra], env);
      return { ...r, line: r.code === 0 ? (JSON.parse(r.stdout) as { crontabs: { text: string }[] }).crontabs[0]!.text.split("\n")[0]! : "" };
    };

    it("uses the full path where cron's default PATH (/usr/bin:/bin) does not reach it, and a second run leaves the line alone", async () => {
      const r = await wrappedLine({ PATH: `${npmBin}:/usr/bin:/bin` });
      expect(r.stderr).toBe("");
      expect(r.line).toBe(`*/5 * * * * root <dir>/npm-bin/lastbeat run poll --schedule '*/5 * * * *' -- sh -c '/opt/poll.sh'`);
      await cli(["discover", "--crontab", file, "--write"], { PATH: `${npmBin}:/usr/bin:/bin` });
      const again = await wrappedLine({ PATH: `${npmBin}:/usr/bin:/bin` });
      expect(again.line).toBe(r.line);
      expect(JSON.parse(again.stdout)).toMatchObject({ crontabs: [{ changed: false }] });
    });

    it("uses plain lastbeat where the crontab's own PATH reaches it", async () => {
      await writeFile(file, `PATH=${npmBin}:/usr/bin:/bin\n*/5 * * * * root /opt/poll.sh\n`);
      const r = await cli(["discover", "--crontab", file, "--json"], { PATH: `${npmBin}:/usr/bin:/bin` });
      expect(r.stderr).toBe("");
      expect((JSON.parse(r.stdout) as { crontabs: { text: string }[] }).crontabs[0]!.text.split("\n")[1]).toBe(
        `*/5 * * * * root lastbeat run poll --schedule '*/5 * * * *' -- sh -c '/opt/poll.sh'`,
      );
    });

    it("says so when lastbeat is not on the caller's PATH, or cron's PATH has no node", async () => {
      // A PATH with no lastbeat on it, whatever this machine has installed in /usr/bin.
      const nowhere = join(dir, "empty-bin");
      await mkdir(nowhere);
      const lost = await wrappedLine({ PATH: nowhere });
      expect(lost.line).toBe(`*/5 * * * * root lastbeat run poll --schedule '*/5 * * * *' -- sh -c '/opt/poll.sh'`);
      expect(lost.stderr).toBe(
        "lastbeat: lastbeat is not on your PATH: the wrapped lines run plain `lastbeat`, so cron's PATH must find it (or pass --lastbeat <full path>)\n",
      );
      await writeFile(file, `PATH=${npmBin}\n*/5 * * * * root /opt/poll.sh\n`);
      const noNode = await cli(["discover", "--crontab", file], { PATH: `${npmBin}:/usr/bin:/bin` });
      expect(noNode.code).toBe(0);
      expect(noNode.stderr).toBe(
        `lastbeat: <dir>/cron.d/shop: cron's PATH here (<dir>/npm-bin) has no node, which lastbeat needs: set PATH above the line to include ${dirname(process.execPath)}\n`,
      );
    });

    it("takes --lastbeat as given, and refuses one a shell would split", async () => {
      expect((await wrappedLine({}, ["--lastbeat", "/opt/lb/bin/lastbeat"])).line).toMatch(/^\*\/5 \* \* \* \* root \/opt\/lb\/bin\/lastbeat run poll /);
      const bad = await cli(["discover", "--crontab", file, "--lastbeat", "/opt/my lastbeat"]);
      expect(bad).toMatchObject({ code: 2, stderr: 'error: --lastbeat "/opt/my lastbeat": give a command or a path without spaces or shell characters\n' });
      // A command by another name would wrap lines the readers do not know as lastbeat's.
      const renamed = await cli(["discover", "--crontab", file, "--lastbeat", "/opt/lb/bin/lastbeat.js"]);
      expect(renamed).toMatchObject({
        code: 2,
        stderr: 'error: --lastbeat "/opt/lb/bin/lastbeat.js": the command\'s file name must be lastbeat (a path to it, or a link named lastbeat), or status and check will not know the lines\n',
      });
    });
  });
});
