// Baseline for CLI cold start: the least a plain Node script does to write the same heartbeat
// durably (temp file in the same folder → fsync → rename). Usage: node beat.mjs <dir> <job> <interval_s>
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

const [dir, job, interval] = process.argv.slice(2);
const at = new Date().toISOString();
const beat = { format: "lastbeat/1", job, status: "ok", at, interval_s: Number(interval), last_ok_at: at, pid: process.pid, host: hostname() };
const file = join(dir, `${job}.last`);
const temp = `${file}.${process.pid}.tmp`;
const fd = openSync(temp, "w", 0o644);
writeSync(fd, `${JSON.stringify(beat)}\n`);
fsyncSync(fd);
closeSync(fd);
renameSync(temp, file);
