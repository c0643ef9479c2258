// One scan timed inside a fresh Node process, for how a scan's cost grows with the folder
// (measure-scan.ts, measureGrowth): in the bench's own process the heap has grown with every
// earlier measure, and a scan of 100,000 files pays for collecting it. Warm, as in a service that
// scans again and again: one untimed scan first, then the timed one. Prints the milliseconds.
// Plain JavaScript, so the process loads only what it times (the built `lastbeat`, or the loop).
// Usage: node scan-process.mjs <lastbeat|sync> <dir> <now (ISO time)>
import { scanHeartbeats } from "lastbeat";
import { readAndParseSync } from "./baseline/scan-sync.mjs";

const [who, dir, nowText] = process.argv.slice(2);
const now = new Date(nowText ?? "");
if ((who !== "lastbeat" && who !== "sync") || !dir || Number.isNaN(now.getTime())) {
  process.stderr.write("usage: node scan-process.mjs <lastbeat|sync> <dir> <now (ISO time)>\n");
  process.exit(2);
}
const scan = who === "lastbeat" ? async () => (await scanHeartbeats({ dirs: [dir], now })).length : async () => readAndParseSync(dir).length;
await scan();
const start = process.hrtime.bigint();
const count = await scan();
const ms = Number(process.hrtime.bigint() - start) / 1e6;
process.stdout.write(`${JSON.stringify({ ms, count })}\n`);
