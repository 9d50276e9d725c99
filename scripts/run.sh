#!/usr/bin/env bash
# Runs the product on the embedded default: builds (Release), builds the web app, then starts
# `medledger serve --demo`, which creates a demo organisation, users and patients on first run.
#
# Around it, the two independent parties a receipt relies on (docs/RECEIPTS.md), both local for the demo:
#   - a time-stamping authority (RFC 3161; tests/peers/tsa_server.mjs over `openssl ts`, keys in DATA-tsa/);
#   - a witness (`medledger witness`, key and state in DATA-witness/) that cosigns the report log's checkpoints.
# A real deployment points --tsa-url at its qualified TSA and lets other hospitals run the witnesses.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

BUILD=${MEDLEDGER_RUN_BUILD:-build/release}
DATA=${MEDLEDGER_DATA:-./medledger-demo}
LISTEN=${MEDLEDGER_LISTEN:-127.0.0.1:8080}
TSA_PORT=${MEDLEDGER_TSA_PORT:-8318}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMEDLEDGER_BUILD_TESTS=OFF -DMEDLEDGER_BUILD_BENCH=OFF
cmake --build "$BUILD" -j "$(nproc)" --target medledger
if [ -f web/package.json ]; then
  (cd web && npm run build)
fi
MEDLEDGER="$BUILD/src/app/medledger"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT INT TERM

node tests/peers/tsa_server.mjs --keep "$DATA-tsa" --port "$TSA_PORT" --name "medledger demo TSA" &
pids+=($!)
WITNESS_DIR="$DATA-witness"
mkdir -p "$WITNESS_DIR" && chmod 700 "$WITNESS_DIR"
if [ ! -f "$WITNESS_DIR/witness.key" ]; then
  "$MEDLEDGER" witness keygen --name "witness.demo.local/w1" --out "$WITNESS_DIR/witness.key" >"$WITNESS_DIR/witness.vkey"
fi
for _ in $(seq 50); do [ -f "$DATA-tsa/tsa.pem" ] && break; sleep 0.2; done

"$MEDLEDGER" serve --demo --data "$DATA" --listen "$LISTEN" --web web/dist \
  --tsa-url "http://127.0.0.1:$TSA_PORT/" --tsa-root "$DATA-tsa/root.pem" \
  --witness "$(cat "$WITNESS_DIR/witness.vkey")" --min-witnesses 1 "$@" &
server=$!
pids+=($server)
for _ in $(seq 100); do curl -fs "http://$LISTEN/healthz" >/dev/null 2>&1 && break; sleep 0.3; done
"$MEDLEDGER" witness --log "http://$LISTEN" --log-key "$(curl -fs "http://$LISTEN/log/vkey")" \
  --key "$WITNESS_DIR/witness.key" --state "$WITNESS_DIR/state" --interval-ms 2000 &
pids+=($!)
wait "$server"
