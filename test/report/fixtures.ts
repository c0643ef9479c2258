import { evaluate } from "lastbeat";
import type { Heartbeat, JobState } from "lastbeat";

/** The pinned clock of every report test: Wednesday 8 April 2026, 07:00 UTC. */
export const NOW = new Date("2026-04-08T07:00:00Z");

const DIR = "/var/run/lastbeat/heartbeats";

function beat(fields: Partial<Heartbeat> & Pick<Heartbeat, "job" | "at" | "interval_s">): JobState {
  const heartbeat: Heartbeat = { format: "lastbeat/1", status: "ok", ...fields };
  return evaluate(heartbeat, undefined, NOW, { file: `${DIR}/${fields.job}.last` });
}

/** One job of every kind a morning brief meets, evaluated at NOW. */
export function sampleStates(): JobState[] {
  return [
    beat({ job: "heartbeat-checker", at: "2026-04-08T06:56:10Z", interval_s: 900, duration_ms: 840 }),
    beat({
      job: "metrics-push",
      at: "2026-04-08T06:59:30Z",
      interval_s: 60,
      duration_ms: 412,
    }),
    beat({
      job: "nightly-report",
      at: "2026-04-07T23:58:00Z",
      interval_s: 86_400,
      duration_ms: 95_000,
      message: "sent 12 reports",
    }),
    beat({ job: "thumbnails", at: "2026-04-08T06:53:00Z", interval_s: 300, duration_ms: 48_000 }),
    beat({
      job: "db-vacuum",
      status: "start",
      at: "2026-04-08T06:58:00Z",
      started_at: "2026-04-08T06:58:00Z",
      interval_s: 86_400,
      max_runtime_s: 3600,
    }),
    beat({ job: "invoice-sync", at: "2026-04-08T03:30:00Z", interval_s: 3600, duration_ms: 7_300 }),
    beat({
      job: "backup",
      status: "fail",
      at: "2026-04-08T02:03:03Z",
      started_at: "2026-04-08T02:00:00Z",
      interval_s: 86_400,
      duration_ms: 183_000,
      exit_code: 3,
      message: "disk full",
      last_ok_at: "2026-04-07T02:02:40Z",
      output_tail: "dumping db... done\ncompressing... done\nrsync: write failed on \"/mnt/backup/db.tar.zst\": No space left on device (28)\n",
    }),
    evaluate(undefined, undefined, NOW, {
      job: "cleanup",
      file: `${DIR}/cleanup.last`,
      invalidReason: "not valid JSON (Unexpected end of JSON input)",
      modifiedAt: new Date("2026-04-08T04:00:00Z"),
    }),
  ];
}
