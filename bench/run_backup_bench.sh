#!/usr/bin/env bash
# Backup and restore throughput: starts `medledger serve --demo` (embedded ledger), fills it with 4 KiB reports
# through http_bench for --fill seconds, then times a full `medledger backup`, an incremental one after a few
# more seconds of reports, and `medledger restore` of the chain (copy and verification of every byte, then the
# state database rebuilt by replay and `medledger verify`). Prints MiB/s of plaintext for each.
#
#   MEDLEDGER_BIN_DIR=build/rel bench/run_backup_bench.sh [--fill SECONDS] [--work DIR] [--port P]
#
# MEDLEDGER_BIN_DIR holds src/app/medledger and bench/http_bench (a Release build).
set -euo pipefail
FILL=30
WORK_PARENT="${TMPDIR:-/tmp}"
PORT=18556
while [ $# -gt 0 ]; do
  case "$1" in
    --fill) FILL="$2"; shift 2 ;;
    --work) WORK_PARENT="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
: "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR to a build directory with src/app/medledger and bench/http_bench}"
BIN_DIR="$(cd "$MEDLEDGER_BIN_DIR" && pwd)"
ML="$BIN_DIR/src/app/medledger"
WORK="$(mktemp -d "$WORK_PARENT/medledger-backup-bench-XXXXXX")"
source "$(dirname "$0")/demo_server.sh"
cleanup() {
  demo_server_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
demo_server_start "$ML" "$WORK" "$PORT"
fill() { "$BIN_DIR/bench/http_bench" 127.0.0.1 "$PORT" "$WORK/data/demo-credentials.txt" post 16 "$1" | tail -1; }
umask 077
head -c 32 /dev/urandom | base64 >"$WORK/backup.key"

now() { date +%s.%N; }
mib_s() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.1f", b / 1048576 / t }'; }
plain_bytes() { du -sb --exclude=state --exclude=idempotency "$WORK/data" | cut -f1; }

echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "fill: $(fill "$FILL")"
height=$("$ML" ledger info --data "$WORK/data" 2>/dev/null | sed -n 's/.*"height": \([0-9]*\).*/\1/p' || true)
bytes=$(plain_bytes)
echo "data directory: $(du -sh "$WORK/data" | cut -f1) ($(( bytes / 1048576 )) MiB backed up)"

t0=$(now); "$ML" backup --data "$WORK/data" --out "$WORK/backups" --key-file "$WORK/backup.key" 2>/dev/null; t1=$(now)
full_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
echo "full backup (server serving): ${full_s}s, $(mib_s "$bytes" "$full_s") MiB/s"

echo "more reports: $(fill 5)"
t0=$(now); "$ML" backup --data "$WORK/data" --out "$WORK/backups" --key-file "$WORK/backup.key" 2>/dev/null; t1=$(now)
echo "incremental backup: $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')s, $(du -sh "$WORK/backups/backup-000002" | cut -f1) written"

demo_server_stop
t0=$(now)
"$ML" restore --from "$WORK/backups" --key-file "$WORK/backup.key" --data "$WORK/restored" >"$WORK/restore.log" 2>&1
t1=$(now)
total_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')
restored=$(du -sb "$WORK/restored" --exclude=state | cut -f1)
copy_line=$(tr '\r' '\n' <"$WORK/restore.log" | grep '^restore:' | tail -1)
echo "restore (copy + replay + verify): ${total_s}s for $(( restored / 1048576 )) MiB; copy phase: ${copy_line}"
grep -E "^ledger OK|^report log OK" "$WORK/restore.log" | cut -c1-120
