#!/usr/bin/env bash
# Verify throughput with 1 and 2 threads on a ledger of TX transactions (default 50,000): builds Release,
# makes the chain with ledger_bench (records contract, 256 in flight), then runs verify_bench on it.
#   bench/run_verify_bench.sh [TX] [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
TX=${1:-50000}
ROUNDS=${2:-3}
# Its own build directory: scripts/run.sh configures build/rel without the benchmarks.
BUILD=${MEDLEDGER_BENCH_BUILD:-build/bench}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEDLEDGER_BUILD_TESTS=OFF -DMEDLEDGER_BUILD_BENCH=ON >/dev/null
cmake --build "$BUILD" --target ledger_bench verify_bench
DIR=$(mktemp -d)/data
trap 'rm -rf "$(dirname "$DIR")"' EXIT
"$BUILD/bench/ledger_bench" --dir "$DIR" --tx "$TX" --levels 256 >/dev/null
"$BUILD/bench/verify_bench" "$DIR" --threads 1,2 --rounds "$ROUNDS"
