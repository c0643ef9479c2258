// Baseline for scanning: plain Node reading and JSON-parsing every `*.last` in a folder as fast
// as it can (bounded concurrency, one readFile per file), with no validation and no evaluation.
// As a process it prints what it parsed the way `lastbeat status --json` prints its result.
// Usage: node scan.mjs <dir> [concurrency]
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** @param {string} dir @param {number} [concurrency] @returns {Promise<unknown[]>} */
export async function readAndParse(dir, concurrency = 64) {
  const names = (await readdir(dir)).filter((name) => name.endsWith(".last"));
  const parsed = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      try {
        parsed[i] = JSON.parse(await readFile(join(dir, names[i]), "utf8"));
      } catch (error) {
        parsed[i] = { error: String(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, names.length) }, worker));
  return parsed;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [dir, concurrency] = process.argv.slice(2);
  const jobs = await readAndParse(dir, concurrency ? Number(concurrency) : 64);
  process.stdout.write(`${JSON.stringify({ now: new Date().toISOString(), jobs }, null, 2)}\n`);
}
