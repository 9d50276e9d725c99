#!/usr/bin/env bash
# The server benchmark: starts `medledger serve --demo` on the embedded default (ledger and store on this
# machine's disk, under --work), then runs http_bench for POST /reports at 1, 16 and 64 connections and GET
# /reports/{id} at 64, and prints each run's throughput, p50/p99 and the server's own CPU per request
# (utime + stime from /proc, which is steadier than throughput on a shared VM).
#
#   MEDLEDGER_BIN_DIR=build/rel bench/run_server_bench.sh [--seconds N] [--work DIR] [--port P] [--keep]
#
# MEDLEDGER_BIN_DIR holds src/app/medledger and bench/http_bench (a Release build). The data directory is
# removed at the end only: ext4 without a journal skips inodes freed in the last minutes when it allocates new
# ones (recently_deleted), so deleting ~10,000 files just before a run made each report's key-file create (the
# keystore layout before the key log) up to a quarter of the server's CPU in our profiles. Leave a few minutes
# between runs that delete data, or pass --keep (the data stays; delete it later, when nothing is measured).
set -euo pipefail
SECONDS_PER_RUN=8
WORK_PARENT="${TMPDIR:-/tmp}"
PORT=18555
KEEP=0
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --work) WORK_PARENT="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
: "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR to a build directory with src/app/medledger and bench/http_bench}"
BIN_DIR="$(cd "$MEDLEDGER_BIN_DIR" && pwd)"
WORK="$(mktemp -d "$WORK_PARENT/medledger-server-bench-XXXXXX")"
source "$(dirname "$0")/demo_server.sh"
cleanup() {
  demo_server_stop
  if [ "$KEEP" = 1 ]; then echo "data kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
demo_server_start "$BIN_DIR/src/app/medledger" "$WORK" "$PORT"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
TICK_US=$((1000000 / $(getconf CLK_TCK)))
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), ${SECONDS_PER_RUN} s per run"
for run in "post 1" "post 16" "post 64" "get 64"; do
  set -- $run
  before=$(cpu_ticks)
  out=$("$BIN_DIR/bench/http_bench" 127.0.0.1 "$PORT" "$WORK/data/demo-credentials.txt" "$1" "$2" \
        "$SECONDS_PER_RUN" | tail -1)
  after=$(cpu_ticks)
  ok=$(sed -n 's/.* ok=\([0-9]*\).*/\1/p' <<<"$out")
  echo "$out server_cpu_per_request=$(( (after - before) * TICK_US / (ok > 0 ? ok : 1) ))us"
done
