// Baseline for scanning, the practical floor for Node: a plain synchronous loop, readdirSync, then
// readFileSync + JSON.parse per `*.last`, with no validation and no evaluation. As a process it
// prints what it parsed the way `lastbeat status --json` prints its result.
// Usage: node scan-sync.mjs <dir>
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** @param {string} dir @returns {unknown[]} */
export function readAndParseSync(dir) {
  const parsed = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith(".last")) continue;
    try {
      parsed.push(JSON.parse(readFileSync(join(dir, name), "utf8")));
    } catch (error) {
      parsed.push({ error: String(error) });
    }
  }
  return parsed;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const jobs = readAndParseSync(process.argv[2]);
  process.stdout.write(`${JSON.stringify({ now: new Date().toISOString(), jobs }, null, 2)}\n`);
}
