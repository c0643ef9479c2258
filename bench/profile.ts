import { readFileSync } from "node:fs";

/*
 * Summarises a V8 CPU profile (`node --cpu-prof …`) by where the time went: self time per package
 * (node_modules/<name>, packages/<name>, node: internals, GC, …) and the top functions.
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bin/lastbeat beat job --every 5m
 *   node --import tsx bench/profile.ts /tmp/prof/*.cpuprofile
 */

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function bucketOf(url: string, name: string): string {
  if (url === "") return name.startsWith("(") ? name : "(native)";
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/packages\/([^/]+)\//.exec(url);
  if (own) return `lastbeat:${own[1]}`;
  if (url.startsWith("node:")) return /^node:internal\/modules/.test(url) ? "node: module loader" : "node: other internals";
  return url;
}

export function summariseProfile(profile: Profile): { totalMs: number; buckets: [string, number][]; functions: [string, number][] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const buckets = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, ms] of self) {
    const frame = byId.get(id)!.callFrame;
    const bucket = bucketOf(frame.url, frame.functionName);
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + ms);
    const fn = `${frame.functionName || "(anonymous)"} ${frame.url.replace(/^.*\/(node_modules|packages)\//, "")}:${frame.lineNumber + 1}`;
    functions.set(fn, (functions.get(fn) ?? 0) + ms);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: (profile.endTime - profile.startTime) / 1000, buckets: sorted(buckets), functions: sorted(functions).slice(0, 15) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"))) {
  for (const file of process.argv.slice(2)) {
    const { totalMs, buckets, functions } = summariseProfile(JSON.parse(readFileSync(file, "utf8")) as Profile);
    process.stdout.write(`${file}: ${totalMs.toFixed(1)} ms profiled\n  self time by package:\n`);
    for (const [name, ms] of buckets.slice(0, 15)) process.stdout.write(`    ${ms.toFixed(1).padStart(8)} ms  ${name}\n`);
    process.stdout.write("  top functions:\n");
    for (const [name, ms] of functions) process.stdout.write(`    ${ms.toFixed(1).padStart(8)} ms  ${name}\n`);
  }
}
