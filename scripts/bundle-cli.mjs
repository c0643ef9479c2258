#!/usr/bin/env node
// Bundles the CLI into packages/lastbeat/dist/cli/lastbeat.mjs (+ lazily loaded chunks beside it),
// the `bin` of the published `lastbeat` package:
// - one install gives the command: the bundle carries @lastbeat/forge, @lastbeat/report, commander,
//   Octokit and date-fns, so `lastbeat` itself depends on nothing but croner (for the library);
// - a cron job's `lastbeat beat` loads a handful of files instead of ~30 modules: cold start is
//   most of what the command costs (see README, Performance).
// The licences of everything bundled are written beside it (THIRD-PARTY-LICENSES.txt).
// Run by `npm run build` after `tsc -b`.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = new URL("../", import.meta.url).pathname;
const pkg = JSON.parse(readFileSync(join(root, "packages/lastbeat/package.json"), "utf8"));
const outdir = join(root, "packages/lastbeat/dist/cli/");
// Chunk names carry a content hash: drop the previous build's so they do not pile up.
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
/**
 * commander loads node:child_process (with net, dgram and their bindings: ~3 ms of every start)
 * only to spawn executable subcommands, which lastbeat does not have: load it on first use.
 */
const lazyChildProcessInCommander = {
  name: "lazy-child-process-in-commander",
  setup(plugin) {
    plugin.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const eager = "const childProcess = require('node:child_process');";
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(eager)) throw new Error(`bundle-cli: ${args.path} no longer has \`${eager}\`: update the lazy-child-process plugin`);
      const used = new Set(source.match(/childProcess\.\w+/g));
      if ([...used].some((member) => member !== "childProcess.spawn")) throw new Error(`bundle-cli: ${args.path} uses ${[...used].join(", ")}: the lazy child_process has only spawn`);
      const lazy = "const childProcess = { spawn: (...args) => require('node:child_process').spawn(...args) };";
      return { contents: source.replace(eager, lazy), loader: "js" };
    });
  },
};

const { metafile } = await build({
  entryPoints: { lastbeat: join(root, "packages/cli/src/bin.ts") },
  outdir,
  chunkNames: "lastbeat-[hash]",
  bundle: true,
  splitting: true, // check (Octokit) and report (date-fns) stay in chunks loaded only by them
  format: "esm",
  platform: "node",
  target: "node20",
  conditions: ["lastbeat-source"],
  outExtension: { ".js": ".mjs" },
  define: { __LASTBEAT_VERSION__: JSON.stringify(pkg.version) },
  metafile: true,
  legalComments: "none", // they are all in THIRD-PARTY-LICENSES.txt
  // commander is CommonJS: give it require() inside the ESM bundle.
  banner: { js: 'import { createRequire as __lastbeatRequire } from "node:module"; const require = __lastbeatRequire(import.meta.url);' },
  logLevel: "warning",
  plugins: [lazyChildProcessInCommander],
});

// Every npm package with code in the bundle, with its licence text (MIT and friends ask for it).
const packages = new Map();
for (const input of Object.keys(metafile.inputs)) {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  if (!match) continue;
  const folder = join(root, match[1]);
  if (packages.has(folder)) continue;
  const meta = JSON.parse(readFileSync(join(folder, "package.json"), "utf8"));
  const licenceFile = readdirSync(folder).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name));
  if (!licenceFile) throw new Error(`bundle-cli: ${meta.name} has no licence file to ship with the bundle`);
  packages.set(folder, { name: meta.name, version: meta.version, license: meta.license, text: readFileSync(join(folder, licenceFile), "utf8").trim() });
}
const notices = [...packages.values()]
  .sort((a, b) => a.name.localeCompare(b.name))
  .map((p) => `${p.name}@${p.version} (${p.license})\n\n${p.text}\n`);
writeFileSync(
  join(outdir, "THIRD-PARTY-LICENSES.txt"),
  `The \`lastbeat\` command (dist/cli/) bundles these packages:\n\n${notices.join("\n" + "-".repeat(72) + "\n\n")}`,
);
