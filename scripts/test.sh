#!/usr/bin/env bash
# Runs every test from nothing: installs dependencies, checks C++ formatting, builds (ASan+UBSan, -Werror),
# runs the web app's unit tests, the C++ unit and integration tests (ctest), then the browser end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each stage's wall time, so what CI spends where can be read off its log (docs/FUZZING.md "Cost in CI").
stage_start=$SECONDS
stage() {
  echo "test.sh: stage '$1' took $((SECONDS - stage_start)) s (total $SECONDS s)"
  stage_start=$SECONDS
}
scripts/setup.sh
stage setup
scripts/check_format.sh
stage format

# ccache, with the checkout as its base directory: paths inside the checkout hash the same wherever it is cloned,
# so a fresh clone recompiles only the sources that changed since any earlier build on this machine. The output
# is the compiler's own (ccache stores and replays it); MEDLEDGER_NO_CCACHE=1 builds without it.
launcher=()
if [ -z "${MEDLEDGER_NO_CCACHE:-}" ] && command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=1  # -g objects would otherwise hash the build directory
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
BUILD=${MEDLEDGER_TEST_BUILD:-build/test}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DMEDLEDGER_SANITIZE=ON -DMEDLEDGER_WERROR=ON "${launcher[@]}"
# docs/ARCHITECTURE.md's library diagram is the CMake graph, edge for edge.
python3 scripts/check_architecture.py "$BUILD"
cmake --build "$BUILD" -j "$(nproc)"
stage build

if [ -f web/package.json ]; then
  (cd web && npm run build && npm test)
  stage web
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$BUILD" --output-on-failure -j "$(nproc)" --timeout 900
stage ctest

# Fuzz smoke: the libFuzzer targets still build with clang (every library instrumented) and find nothing in
# a short run from their corpora. A smoke run, not a claim: docs/FUZZING.md has the long runs. A crash fails.
# MEDLEDGER_FUZZ_SECONDS=0 skips it.
fuzz_seconds=${MEDLEDGER_FUZZ_SECONDS:-20}
if [ "$fuzz_seconds" -gt 0 ]; then
  for target in $(scripts/fuzz.sh --list); do
    FUZZ_JOBS="$(nproc)" scripts/fuzz.sh "$target" "$fuzz_seconds"
  done
  stage fuzz
fi

# End-to-end: the web app in Debian's Chromium against the real `medledger serve` built above, then the SMART on
# FHIR standalone launch by the real `fhirclient` library (tests/peers) in the same browser.
if [ -f web/package.json ]; then
  MEDLEDGER_BIN="$(cd "$BUILD" && pwd)/src/app/medledger"
  (cd web && MEDLEDGER_BIN="$MEDLEDGER_BIN" npm run e2e && MEDLEDGER_BIN="$MEDLEDGER_BIN" npm run e2e:smart)
  stage e2e
fi
