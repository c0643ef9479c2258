// A Node job that reports its own heartbeats: `npm install lastbeat`, then run it from cron.
import { withHeartbeat, writeHeartbeat } from "lastbeat";

async function syncInvoices() {
  // … the real work …
  return 42;
}

// Either wrap the work: a start beat, then ok with its duration, or fail with the error and rethrow.
const count = await withHeartbeat("sync-invoices", { every: "15m", maxRuntime: "10m" }, syncInvoices);

// Or beat by hand at the end. A heartbeat that cannot be written never crashes the job (it is
// reported on stderr; the checker then sees the job as stale), unless you pass `strict: true`.
await writeHeartbeat("invoice-count", { every: "15m", message: `${count} invoices synced` });
