#!/bin/sh
# A shell job that reports its own heartbeat: ok when the work succeeded, fail (with the exit
# code) when it did not. Silence — the script never reached its end — is caught as stale.
set -u

work() {
  pg_dump --format=custom --file=/var/backups/app.dump app
}

work
status=$?
lastbeat beat shell-job --every 1h --exit-code "$status" --message "pg_dump exited $status"
exit "$status"
