#!/usr/bin/env bash
# Runs the product on the embedded default: builds (Release), builds the web app, then starts
# `medledger serve --demo`, which creates a demo organisation, users and patients on first run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

BUILD=${MEDLEDGER_RUN_BUILD:-build/release}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEDLEDGER_BUILD_TESTS=OFF -DMEDLEDGER_BUILD_BENCH=OFF
cmake --build "$BUILD" -j "$(nproc)" --target medledger
if [ -f web/package.json ]; then
  (cd web && npm run build)
fi
exec "$BUILD/src/app/medledger" serve --demo --data "${MEDLEDGER_DATA:-./medledger-demo}" \
  --listen "${MEDLEDGER_LISTEN:-127.0.0.1:8080}" --web web/dist "$@"
