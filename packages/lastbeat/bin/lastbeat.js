#!/usr/bin/env node
// The `lastbeat` command: the CLI bundled by scripts/bundle-cli.mjs with everything it needs, so
// installing `lastbeat` gives the command without Octokit, commander or date-fns as dependencies.
// Only import() here, so this file runs as ESM or CommonJS alike.
import("../dist/cli/lastbeat.mjs").catch((error) => {
  process.stderr.write(`lastbeat: cannot start (${error && error.message}); from a clone, run \`npm run build\` first\n`);
  process.exitCode = 2;
});
