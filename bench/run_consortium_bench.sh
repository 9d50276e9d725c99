#!/usr/bin/env bash
# The consortium benchmark (issue 17; results in docs/BENCHMARKS.md, "Consortium"), in one run on one machine:
#   1. CreateReport submissions/s and p50/p99 through medledger's Gateway client (bench/fabric_bench, the same
#      program and levels for both) on the ONE-organisation network (tests/fabric/network.sh: one etcdraft
#      orderer, one peer) and then on the TWO-hospital consortium (tests/fabric/consortium.sh ORGS=2: 3 etcdraft
#      orderers, 2 peers, MAJORITY endorsement = both hospitals, plus the contract's key-level policy), as
#      HospitalA's doctor1 through HospitalA's peer;
#   2. on the same consortium: two js-ipfs content nodes (swarms peered on 127.0.0.1), the two hospitals'
#      `medledger serve --ledger fabric --content kubo --consortium`, and bench/consortium_read_bench.mjs, which
#      measures GET /api/v1/reports/{id} by B's doctor (a cross-hospital read) beside A's own doctor reading the
#      same reports on A's server (the local read), at concurrency 1 and 4.
# Each network is stopped before the next starts; everything this script started is stopped on exit.
#
#   FABRIC_BIN=/path/to/fabric/bin MEDLEDGER_BIN_DIR=build/rel bench/run_consortium_bench.sh \
#       [--tx 128] [--levels 1,16,64] [--reports 10] [--reads 40] [--read-levels 1,4]
# MEDLEDGER_BIN_DIR must hold bench/fabric_bench and src/app/{medledger,medledger-chaincode} (a Release build);
# tests/peers/node_modules (js-ipfs), Node 20, jq and curl are needed for part 2.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
: "${FABRIC_BIN:?set FABRIC_BIN}" "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR}"
MEDLEDGER_BIN_DIR="$(cd "$MEDLEDGER_BIN_DIR" && pwd)"
export FABRIC_BIN MEDLEDGER_BIN_DIR
ML="$MEDLEDGER_BIN_DIR/src/app/medledger"
JSIPFS="$REPO/tests/peers/node_modules/.bin/jsipfs"

TX=128 LEVELS=1,16,64 REPORTS=10 READS=40 READ_LEVELS=1,4
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || { echo "$1 needs a value" >&2; exit 2; }
  case "$1" in
    --tx) TX=$2 ;;
    --levels) LEVELS=$2 ;;
    --reports) REPORTS=$2 ;;
    --reads) READS=$2 ;;
    --read-levels) READ_LEVELS=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done
for f in "$ML" "$MEDLEDGER_BIN_DIR/src/app/medledger-chaincode" "$MEDLEDGER_BIN_DIR/bench/fabric_bench" "$JSIPFS"; do
  [[ -x "$f" ]] || { echo "missing $f" >&2; exit 2; }
done

WORK="$(mktemp -d /tmp/medledger-consortium-bench-XXXXXX)"
ONE="$WORK/one"
CONS="$WORK/consortium"
PIDS=()  # servers and content nodes, stopped in reverse order

stop_pid() {  # pid: SIGTERM, then SIGKILL after 15 s
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for i in $(seq 150); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local i
  for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do stop_pid "${PIDS[i]}"; done
  "$REPO/tests/fabric/consortium.sh" down "$CONS" >/dev/null 2>&1 || true
  "$REPO/tests/fabric/network.sh" down "$ONE" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# A js-ipfs node in $1 (repo, log), every address on 127.0.0.1, no bootstrap peers, as tests/integration/ipfs_node.cpp
# starts it. Sets NODE_API (RPC URL) and NODE_SWARM (multiaddress with peer ID).
start_ipfs() {
  local dir=$1 api swarm
  mkdir -p "$dir"
  IPFS_PATH="$dir/repo" "$JSIPFS" init -p server,test >> "$dir/node.log" 2>&1
  api=$(free_port) swarm=$(free_port)
  jq --arg api "/ip4/127.0.0.1/tcp/$api" --arg gw "/ip4/127.0.0.1/tcp/$(free_port)" \
     --arg swarm "/ip4/127.0.0.1/tcp/$swarm" --arg rpc "/ip4/127.0.0.1/tcp/$(free_port)" \
     '.Addresses.API=$api | .Addresses.Gateway=$gw | .Addresses.Swarm=[$swarm] | .Addresses.RPC=$rpc
      | .Addresses.Delegates=[] | .Bootstrap=[]' "$dir/repo/config" > "$dir/config.new"
  mv "$dir/config.new" "$dir/repo/config"
  IPFS_PATH="$dir/repo" "$JSIPFS" daemon --enable-preload=false >> "$dir/node.log" 2>&1 &
  PIDS+=($!)
  NODE_API="http://127.0.0.1:$api"
  NODE_SWARM="/ip4/127.0.0.1/tcp/$swarm/p2p/$(jq -r .Identity.PeerID "$dir/repo/config")"
  local i
  for i in $(seq 360); do
    curl -sf -X POST "$NODE_API/api/v0/id" >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  echo "js-ipfs in $dir did not come up:" >&2; tail -20 "$dir/node.log" >&2; exit 1
}

# `medledger serve` for hospital $1 (A or B) with content node $2; sets SERVER_URL.
start_server() {
  local h=$1 ipfs=$2 out="$WORK/server-$1.log" i port
  "$ML" serve --data "$CONS/Hospital$h/org" --listen 127.0.0.1:0 --log-level warn --ledger fabric \
    --fabric-config "$CONS/Hospital$h/fabric.json" --content kubo --ipfs-url "$ipfs" \
    --consortium "$CONS/Hospital$h/consortium.json" > "$out" 2>&1 &
  PIDS+=($!)
  for i in $(seq 900); do
    port=$(sed -n 's/.*medledger serving on http:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/p' "$out" | head -1)
    [[ -n "$port" ]] && { SERVER_URL="http://127.0.0.1:$port"; return 0; }
    kill -0 "${PIDS[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "Hospital$h's server did not start:" >&2; cat "$out" >&2; exit 1
}

echo "== machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
echo "== 1a. CreateReport, ONE organisation (network.sh: 1 orderer, 1 peer), load $(load)"
"$REPO/tests/fabric/network.sh" up "$ONE"
"$MEDLEDGER_BIN_DIR/bench/fabric_bench" --net "$ONE" --tx "$TX" --levels "$LEVELS"
"$REPO/tests/fabric/network.sh" down "$ONE"

echo "== 1b. CreateReport, TWO hospitals (consortium.sh: 3 orderers, 2 peers, MAJORITY), HospitalA's doctor1, load $(load)"
ORGS=2 "$REPO/tests/fabric/consortium.sh" up "$CONS"
# The consortium's organisation directory has the layout fabric_bench expects of --net (org/, fabric.json).
"$MEDLEDGER_BIN_DIR/bench/fabric_bench" --net "$CONS/HospitalA" --tx "$TX" --levels "$LEVELS"

echo "== 2. GET /api/v1/reports/{id}: cross-hospital against local, load $(load)"
start_ipfs "$WORK/ipfs-a"
IPFS_A="$NODE_API" SWARM_A="$NODE_SWARM"
start_ipfs "$WORK/ipfs-b"
IPFS_B="$NODE_API"
curl -sf -X POST "$IPFS_B/api/v0/swarm/connect?arg=$SWARM_A" >/dev/null || { echo "the two IPFS nodes could not peer" >&2; exit 1; }
PW="$WORK/users.pw"
(umask 077; node -e 'console.log("Bench-" + require("crypto").randomBytes(12).toString("base64url") + "!1")' > "$PW")
for u in a.admin:admin a.doc:doctor a.pat:patient; do
  "$ML" user add --data "$CONS/HospitalA/org" --name "${u%%:*}" --role "${u#*:}" --password-file "$PW" >/dev/null
done
for u in b.admin:admin b.doc:doctor; do
  "$ML" user add --data "$CONS/HospitalB/org" --name "${u%%:*}" --role "${u#*:}" --password-file "$PW" >/dev/null
done
start_server A "$IPFS_A"
URL_A="$SERVER_URL"
start_server B "$IPFS_B"
URL_B="$SERVER_URL"
node "$REPO/bench/consortium_read_bench.mjs" --a "$URL_A" --b "$URL_B" --b-ipfs "$IPFS_B" --password-file "$PW" \
  --reports "$REPORTS" --reads "$READS" --levels "$READ_LEVELS"
echo "== done, load $(load)"
