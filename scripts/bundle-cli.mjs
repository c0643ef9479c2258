#!/usr/bin/env node
// Bundles the CLI into packages/cli/dist/lastbeat.mjs (+ lazily loaded chunks beside it) so a cron
// job's `lastbeat beat` loads a handful of files instead of ~30 modules: cold start is most of
// what the command costs (see README, Performance). Run by `npm run build` after `tsc -b`.
import { readdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

const outdir = new URL("../packages/cli/dist/", import.meta.url).pathname;
// Chunk names carry a content hash: drop the previous build's so they do not pile up.
for (const name of readdirSync(outdir)) if (/^lastbeat.*\.mjs$/.test(name)) rmSync(outdir + name);
await build({
  entryPoints: { lastbeat: new URL("../packages/cli/src/bin.ts", import.meta.url).pathname },
  outdir,
  // Chunks sit beside the entry: cli.ts finds its package.json as ../package.json from there.
  chunkNames: "lastbeat-[hash]",
  bundle: true,
  splitting: true, // check (Octokit) and report (date-fns) stay in chunks loaded only by them
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["lastbeat-source"],
  outExtension: { ".js": ".mjs" },
  // commander is CommonJS: give it require() inside the ESM bundle.
  banner: { js: 'import { createRequire as __lastbeatRequire } from "node:module"; const require = __lastbeatRequire(import.meta.url);' },
  logLevel: "warning",
});
