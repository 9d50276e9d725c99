#!/usr/bin/env bash
# The Fabric benchmark side by side: medledger's C++ Gateway client (bench/fabric_bench) and Fabric's official
# Node client (bench/fabric_bench_node.mjs) submit the same CreateReport workload to one network brought up by
# tests/fabric/network.sh, which this script also stops.
#
#   FABRIC_BIN=/path/to/fabric/bin MEDLEDGER_BIN_DIR=build/release bench/run_fabric_side_by_side.sh [--tx N]
# MEDLEDGER_BIN_DIR must hold bench/fabric_bench and src/app/{medledger,medledger-chaincode} (a Release build).
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
: "${FABRIC_BIN:?set FABRIC_BIN}" "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR}"
MEDLEDGER_BIN_DIR="$(cd "$MEDLEDGER_BIN_DIR" && pwd)"
export FABRIC_BIN MEDLEDGER_BIN_DIR
WORK="$(mktemp -d /tmp/medledger-fabric-bench-XXXXXX)"
NET="$WORK/net"
trap '"$REPO/tests/fabric/network.sh" down "$NET" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
"$REPO/tests/fabric/network.sh" up "$NET"
"$MEDLEDGER_BIN_DIR/src/app/medledger" fabric msp --data "$NET/org" --identity doctor1 --out "$NET/msp/doctor1" >/dev/null
echo "== C++ (medledger GatewayLedger), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$MEDLEDGER_BIN_DIR/bench/fabric_bench" --net "$NET" "$@"
echo "== Node (@hyperledger/fabric-gateway), load $(cut -d' ' -f1-3 /proc/loadavg)"
node "$REPO/bench/fabric_bench_node.mjs" --net "$NET" "$@"
