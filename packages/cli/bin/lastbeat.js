#!/usr/bin/env node
// `npx lastbeat` inside the repository (npm links workspace bins into node_modules/.bin).
import("../dist/lastbeat.mjs").catch((error) => {
  process.stderr.write(`lastbeat: cannot start (${error && error.message}); run \`npm run build\` first\n`);
  process.exitCode = 2;
});
