#!/usr/bin/env node
// Project rules that the type checker cannot see (STYLE.md). Prints one line per finding.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const findings = [];

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (/\.(ts|mts|js|mjs)$/.test(name)) out.push(path);
  }
  return out;
}

const files = [...walk(join(root, "packages")), ...walk(join(root, "test")), ...walk(join(root, "scripts")), ...walk(join(root, "bench"))];
for (const file of files) {
  const rel = relative(root, file);
  const lines = readFileSync(file, "utf8").split("\n");
  lines.forEach((line, i) => {
    const at = `${rel}:${i + 1}`;
    if (/^\s*export\s+default\b/.test(line)) findings.push(`${at}: no default exports (STYLE 1)`);
    if (/from\s+["'](\.\.\/)+(lastbeat|forge|report|cli)\/src/.test(line) || /from\s+["'](\.\.\/)+packages\/[^"']+\/src\//.test(line) && rel.startsWith("packages/")) {
      findings.push(`${at}: import another package by its name, not a relative path into its src (STYLE 2)`);
    }
    if (/\bvi\.mock\(/.test(line)) findings.push(`${at}: no vi.mock of our own modules (STYLE 7)`);
    if (i === 0 && /^packages\/.*\.test\.ts$/.test(rel)) findings.push(`${at}: tests live in test/<package>/, mirroring packages/<package>/ (vitest runs only test/**)`);
    if (/\b(it|test|describe)\.only\(/.test(line)) findings.push(`${at}: .only would skip the rest of the suite`);
  });
}

// The job-side package stays tiny: only the zero-dependency cron library at run time.
const lib = JSON.parse(readFileSync(join(root, "packages/lastbeat/package.json"), "utf8"));
for (const dep of Object.keys(lib.dependencies ?? {})) {
  if (!["croner"].includes(dep)) findings.push(`packages/lastbeat/package.json: runtime dependency ${dep} is not allowed`);
}

for (const line of findings) console.log(line);
if (findings.length > 0) process.exit(1);
console.log(`lint: ${files.length} files, no findings`);
