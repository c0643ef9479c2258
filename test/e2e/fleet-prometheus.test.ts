import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runLastbeat } from "../support/cli.js";
import { testdir } from "../support/testdir.js";

// The fleet path, end to end, with Debian's prometheus, prometheus-node-exporter and
// prometheus-alertmanager (installed by .ci/run), all on loopback ports started and stopped here:
// `lastbeat metrics` → node_exporter's textfile collector → Prometheus with
// examples/prometheus/lastbeat.rules.yml → Alertmanager with examples/alertmanager/alertmanager.yml
// → a webhook receiver in this test. Short scrape, evaluation and grouping intervals; every wait
// polls until a deadline.

interface Alert {
  status: "firing" | "resolved";
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

const DEADLINE_MS = 90_000;
let tmp: string;
let webhook: Server;
const received: Alert[] = [];
const children: Array<{ name: string; child: ChildProcess; log: () => string }> = [];
/** Two node_exporters: one serves `lastbeat metrics`, the other `lastbeat metrics --job-label lastbeat_job`. */
const exporter = { plain: { dir: "", address: "" }, labelled: { dir: "", address: "" } };

async function freePort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function start(name: string, command: string, args: string[]): void {
  const child = spawn(command, args, { cwd: tmp, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (chunk: Buffer) => (output = (output + chunk.toString("utf8")).slice(-8_000));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  children.push({ name, child, log: () => output });
}

/** Polls `probe` until it returns a value, or fails at the deadline saying what never happened. */
async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const exited = children.find(({ child }) => child.exitCode !== null || child.signalCode !== null);
    if (exited) throw new Error(`${exited.name} exited while waiting for ${what}:\n${exited.log()}`);
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; received so far:\n${JSON.stringify(received, null, 1)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function ready(name: string, url: string): Promise<void> {
  await until(`${name} at ${url}`, async () => {
    try {
      return (await fetch(url)).ok ? true : undefined;
    } catch {
      return undefined;
    }
  });
}

async function writeMetrics(): Promise<void> {
  const env = { LASTBEAT_DIR: join(tmp, "heartbeats") };
  const plain = await runLastbeat(["metrics", "--out", join(exporter.plain.dir, "lastbeat.prom")], { env });
  const labelled = await runLastbeat(["metrics", "--job-label", "lastbeat_job", "--out", join(exporter.labelled.dir, "lastbeat.prom")], { env });
  expect([plain, labelled]).toMatchObject([
    { code: 0, stderr: "" },
    { code: 0, stderr: "" },
  ]);
}

async function beat(args: string[]): Promise<void> {
  expect(await runLastbeat(["beat", ...args], { env: { LASTBEAT_DIR: join(tmp, "heartbeats") } })).toMatchObject({ code: 0, stderr: "" });
}

/** One alert per (scrape config, exporter): what a person would read in the notification. */
function seen(alert: Alert): string {
  const l = alert.labels;
  const scrape = l.scrape ?? "?";
  const from = l.instance === exporter.plain.address ? "plain" : l.instance === exporter.labelled.address ? "labelled" : l.instance;
  return `${alert.status} ${l.alertname} scrape=${scrape} metrics=${from} job=${l.job ?? ""} lastbeat_job=${l.lastbeat_job ?? ""}: ${alert.annotations.summary}`;
}

beforeAll(async () => {
  tmp = await testdir("lastbeat-fleet-");
  for (const [name, side] of Object.entries(exporter)) {
    side.dir = join(tmp, `textfile-${name}`);
    await mkdir(side.dir);
  }
  await mkdir(join(tmp, "heartbeats"));

  // The receiver: Alertmanager's webhook posts { alerts: [{ status, labels, annotations }] }.
  webhook = createHttpServer((request, response) => {
    let body = "";
    request.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    request.on("end", () => {
      received.push(...(JSON.parse(body) as { alerts: Alert[] }).alerts);
      response.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
  const webhookUrl = `http://127.0.0.1:${(webhook.address() as { port: number }).port}/lastbeat`;

  // backup went silent 10 minutes ago on a 1-minute interval: stale. sync is healthy.
  await beat(["backup", "--every", "1m", "--now", new Date(Date.now() - 10 * 60_000).toISOString()]);
  await beat(["sync", "--every", "1h"]);
  await writeMetrics();

  for (const [name, side] of Object.entries(exporter)) {
    side.address = `127.0.0.1:${await freePort()}`;
    start(`node_exporter (${name})`, "prometheus-node-exporter", [
      `--web.listen-address=${side.address}`,
      "--collector.disable-defaults",
      "--collector.textfile",
      `--collector.textfile.directory=${side.dir}`,
    ]);
  }

  // The example route as shipped, with the receiver's address and short grouping for the test.
  const example = await readFile(join(repoRoot, "examples", "alertmanager", "alertmanager.yml"), "utf8");
  let config = example;
  for (const [from, to] of [
    ["http://127.0.0.1:9099/lastbeat", webhookUrl],
    ["group_wait: 30s", "group_wait: 1s"],
    ["group_interval: 5m", "group_interval: 1s"],
  ] as const) {
    expect(config).toContain(from);
    config = config.replace(from, to);
  }
  await writeFile(join(tmp, "alertmanager.yml"), config);
  const alertmanager = `127.0.0.1:${await freePort()}`;
  start("alertmanager", "prometheus-alertmanager", [
    `--config.file=${join(tmp, "alertmanager.yml")}`,
    `--storage.path=${join(tmp, "alertmanager-data")}`,
    `--web.listen-address=${alertmanager}`,
    "--cluster.listen-address=", // no gossip port: a single Alertmanager
  ]);

  // Each exporter scraped twice: as most setups do, and with honor_labels (the label `scrape`
  // tells the two apart, since honor_labels lets our `job` label replace the scrape's).
  const targets = [exporter.plain.address, exporter.labelled.address];
  const prometheusConfig = {
    global: { scrape_interval: "1s", evaluation_interval: "1s" },
    rule_files: [join(repoRoot, "examples", "prometheus", "lastbeat.rules.yml")],
    alerting: { alertmanagers: [{ static_configs: [{ targets: [alertmanager] }] }] },
    scrape_configs: [
      { job_name: "node", static_configs: [{ targets, labels: { scrape: "plain" } }] },
      { job_name: "node-honor", honor_labels: true, static_configs: [{ targets, labels: { scrape: "honor" } }] },
    ],
  };
  // JSON is YAML.
  await writeFile(join(tmp, "prometheus.yml"), JSON.stringify(prometheusConfig, null, 2));
  const prometheus = `127.0.0.1:${await freePort()}`;
  start("prometheus", "prometheus", [
    `--config.file=${join(tmp, "prometheus.yml")}`,
    `--storage.tsdb.path=${join(tmp, "prometheus-data")}`,
    `--web.listen-address=${prometheus}`,
    "--rules.alert.resend-delay=1s",
  ]);

  for (const side of Object.values(exporter)) await ready("node_exporter", `http://${side.address}/metrics`);
  await ready("alertmanager", `http://${alertmanager}/-/ready`);
  await ready("prometheus", `http://${prometheus}/-/ready`);
});

afterAll(async () => {
  await Promise.all(
    children.map(
      ({ child }) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    ),
  );
  // Every process is gone before testdir's cleanup removes their folders.
  await new Promise<void>((resolve) => (webhook ? webhook.close(() => resolve()) : resolve()));
});

describe("lastbeat metrics → node_exporter → Prometheus (example rules) → Alertmanager (example route) → webhook", () => {
  const stale = [
    "firing LastbeatJobAlerting scrape=honor metrics=labelled job=node-honor lastbeat_job=backup: cron job backup is stale",
    "firing LastbeatJobAlerting scrape=honor metrics=plain job=backup lastbeat_job=backup: cron job backup is stale",
    "firing LastbeatJobAlerting scrape=plain metrics=labelled job=node lastbeat_job=backup: cron job backup is stale",
    "firing LastbeatJobAlerting scrape=plain metrics=plain job=node lastbeat_job=backup: cron job backup is stale",
  ];

  it("a stale job's alert arrives named after the cron job, with and without --job-label and honor_labels", async () => {
    const firing = await until("the stale job's four alerts", () => {
      const lines = [...new Set(received.filter((a) => a.labels.alertname === "LastbeatJobAlerting").map(seen))].sort();
      return lines.length >= stale.length ? lines : undefined;
    });
    // Only backup: the healthy sync job never alerts.
    expect(firing).toEqual(stale);
    const withoutLabel = received.find((a) => a.labels.scrape === "plain" && a.labels.instance === exporter.plain.address);
    expect(withoutLabel?.labels).toMatchObject({ exported_job: "backup", status: "stale", severity: "warning" });
  });

  it("the alert resolves when the job beats again", async () => {
    await beat(["backup", "--every", "1m"]);
    await writeMetrics();
    const resolved = await until("the four alerts to resolve", () => {
      const lines = [...new Set(received.filter((a) => a.labels.alertname === "LastbeatJobAlerting" && a.status === "resolved").map(seen))].sort();
      return lines.length >= stale.length ? lines : undefined;
    });
    expect(resolved).toEqual(stale.map((line) => line.replace(/^firing/, "resolved")));
  });

  it("LastbeatMetricsStale fires for the host whose metrics file disappears", async () => {
    await unlink(join(exporter.labelled.dir, "lastbeat.prom"));
    const firing = await until("LastbeatMetricsStale for the host without its file", () => {
      const lines = [
        ...new Set(
          received
            .filter((a) => a.labels.alertname === "LastbeatMetricsStale" && a.status === "firing" && a.labels.instance === exporter.labelled.address)
            .map(seen),
        ),
      ].sort();
      return lines.length >= 2 ? lines : undefined;
    });
    const summary = `lastbeat metrics on ${exporter.labelled.address} are stale or missing`;
    expect(firing).toEqual([
      `firing LastbeatMetricsStale scrape=honor metrics=labelled job=node-honor lastbeat_job=: ${summary}`,
      `firing LastbeatMetricsStale scrape=plain metrics=labelled job=node lastbeat_job=: ${summary}`,
    ]);
    // The other host still exports its file: no alert for it.
    expect(received.filter((a) => a.labels.alertname === "LastbeatMetricsStale" && a.labels.instance === exporter.plain.address)).toEqual([]);
  });
});
