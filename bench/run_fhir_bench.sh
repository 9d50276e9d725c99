#!/usr/bin/env bash
# The FHIR benchmark (docs/BENCHMARKS.md, "FHIR"): starts `medledger serve --demo` on the embedded default, then
# runs bench/fhir_bench.mjs: one patient with 1,000 reports, FHIR search p50/p99 (first and deep page) and
# patient-level $export throughput.
#
#   MEDLEDGER_BIN_DIR=build/rel bench/run_fhir_bench.sh [--reports N] [--searches N] [--exports N] [--work DIR]
#                                                      [--port P]
#
# MEDLEDGER_BIN_DIR holds src/app/medledger (a Release build: scripts/run.sh makes build/rel).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK_PARENT="${TMPDIR:-/tmp}"
PORT=18556
BENCH_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --reports|--searches|--exports) BENCH_ARGS+=("$1" "$2"); shift 2 ;;
    --work) WORK_PARENT="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
: "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR to a build directory with src/app/medledger}"
BIN="$(cd "$MEDLEDGER_BIN_DIR" && pwd)/src/app/medledger"
WORK="$(mktemp -d "$WORK_PARENT/medledger-fhir-bench-XXXXXX")"
source bench/demo_server.sh
cleanup() {
  demo_server_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
demo_server_start "$BIN" "$WORK" "$PORT"
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
node bench/fhir_bench.mjs --base "http://127.0.0.1:$PORT" --credentials "$WORK/data/demo-credentials.txt" \
  "${BENCH_ARGS[@]}"
