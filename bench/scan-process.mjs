// A folder scanned and timed inside a fresh Node process, for how a scan's cost grows with the folder
// (measure-scan.ts, measureGrowth): in the bench's own process the heap has grown with every
// earlier measure, and a scan of 100,000 files pays for collecting it. Warm, as in a service that
// scans again and again: untimed scans for at least half a second (the compiler takes two or three
// scans of 10,000 files to settle), then three timed; prints the median milliseconds.
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
const warm = process.hrtime.bigint();
do await scan();
while (process.hrtime.bigint() - warm < 500_000_000n);
const times = [];
let count = 0;
for (let i = 0; i < 3; i++) {
  const start = process.hrtime.bigint();
  count = await scan();
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const ms = times.sort((a, b) => a - b)[1];
process.stdout.write(`${JSON.stringify({ ms, count })}\n`);
