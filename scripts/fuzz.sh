#!/usr/bin/env bash
# Builds and runs one libFuzzer target the right way, so nobody has to remember the flags:
#   scripts/fuzz.sh TARGET [SECONDS]     (default 60 s; scripts/fuzz.sh --list shows the targets)
# Configures build/fuzz with clang and -DMEDLEDGER_FUZZ=ON (every library instrumented, see docs/FUZZING.md;
# no -Werror: the gcc build enforces warnings, and a clang-only diagnostic must not hide a fuzz run),
# builds TARGET, runs it on a working copy of fuzz/corpus/TARGET (build/fuzz/corpus/TARGET, so new inputs do
# not land in git) with fuzz/dict/TARGET.dict, and ends with the executions and edges of the run.
# Crashes are written to build/fuzz/artifacts/TARGET/ and fail the script.
# Env: FUZZ_BUILD (build dir), FUZZ_JOBS (ninja -j, default 2), FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${FUZZ_BUILD:-build/fuzz}
if [ "${1:-}" = "--list" ]; then
  sed -n 's/^ *"\([a-z0-9_]*_fuzzer\):.*/\1/p' fuzz/targets.cmake
  exit 0
fi
TARGET=${1:?usage: scripts/fuzz.sh TARGET [SECONDS] (--list for the targets)}
SECONDS_TO_RUN=${2:-60}
grep -q "\"$TARGET:" fuzz/targets.cmake || { echo "fuzz.sh: unknown target $TARGET" >&2; exit 2; }

CC=${CC:-clang-14}
CXX=${CXX:-clang++-14}
command -v "$CXX" >/dev/null || { echo "fuzz.sh: $CXX not found (scripts/setup.sh installs clang)" >&2; exit 2; }
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1  # as in scripts/test.sh: hits across clones in any directory
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
    -DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" -DMEDLEDGER_FUZZ=ON \
    -DMEDLEDGER_BUILD_TESTS=OFF -DMEDLEDGER_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
fi
ninja -C "$BUILD" -j "${FUZZ_JOBS:-2}" "$TARGET" >/dev/null

corpus="$BUILD/corpus/$TARGET"
artifacts="$BUILD/artifacts/$TARGET"
mkdir -p "$corpus" "$artifacts"
cp -n fuzz/corpus/"$TARGET"/* "$corpus"/ 2>/dev/null || true
dict=()
[ -f "fuzz/dict/$TARGET.dict" ] && dict=(-dict="fuzz/dict/$TARGET.dict")
log="$BUILD/$TARGET.log"

# detect_leaks: the targets hold static fixtures on purpose; leaks per input would still show as growth.
set +e
ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:symbolize=1} \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$BUILD/fuzz/$TARGET" "$corpus" "${dict[@]}" -max_total_time="$SECONDS_TO_RUN" -timeout=10 -rss_limit_mb=2048 \
  -max_len=16384 -print_final_stats=1 -artifact_prefix="$artifacts/" ${FUZZ_ARGS:-} >"$log" 2>&1
status=$?
set -e
last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
runs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
echo "$TARGET: ${SECONDS_TO_RUN}s, executions ${runs:-?}, last status: ${last:-none}"
if [ "$status" -ne 0 ]; then
  echo "$TARGET: FAILED (exit $status); log $log, inputs in $artifacts" >&2
  grep -E "ERROR|SUMMARY|==ERROR|runtime error|deadly signal" "$log" | head -5 >&2 || true
  exit 1
fi
