#!/usr/bin/env bash
# The content benchmark side by side: the same add and seal+add workloads into medledger's embedded store and
# into a js-ipfs daemon (tests/peers, a Kubo-RPC-compatible node) through medledger's KuboStore client. The
# daemon is initialised in a temporary repository, offline (no bootstrap peers, loopback addresses on free
# ports), and stopped and removed at the end.
#
#   MEDLEDGER_BIN_DIR=build/rel bench/run_content_side_by_side.sh [--quick]
# MEDLEDGER_BIN_DIR must hold bench/content_bench (a Release build); scripts/setup.sh installs tests/peers.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
: "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR to a build directory with bench/content_bench}"
BENCH="$(cd "$MEDLEDGER_BIN_DIR" && pwd)/bench/content_bench"
JSIPFS="$REPO/tests/peers/node_modules/.bin/jsipfs"
[ -x "$JSIPFS" ] || { echo "missing $JSIPFS: run scripts/setup.sh" >&2; exit 1; }
WORK="$(mktemp -d /tmp/medledger-content-bench-XXXXXX)"
export IPFS_PATH="$WORK/repo"
DAEMON=""
cleanup() {
  if [ -n "$DAEMON" ]; then kill "$DAEMON" 2>/dev/null || true; wait "$DAEMON" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
echo "== js-ipfs: init in $IPFS_PATH"
"$JSIPFS" init -p server,test >"$WORK/init.log" 2>&1
API=$(free_port)
node -e '
  const fs = require("fs");
  const [file, api, gw, swarm, rpc] = process.argv.slice(1);
  const c = JSON.parse(fs.readFileSync(file, "utf8"));
  c.Addresses.API = `/ip4/127.0.0.1/tcp/${api}`;
  c.Addresses.Gateway = `/ip4/127.0.0.1/tcp/${gw}`;
  c.Addresses.Swarm = [`/ip4/127.0.0.1/tcp/${swarm}`];
  c.Addresses.RPC = `/ip4/127.0.0.1/tcp/${rpc}`;
  c.Addresses.Delegates = [];
  c.Bootstrap = [];
  fs.writeFileSync(file, JSON.stringify(c, null, 2));
' "$IPFS_PATH/config" "$API" "$(free_port)" "$(free_port)" "$(free_port)"
"$JSIPFS" daemon --enable-preload=false >"$WORK/daemon.log" 2>&1 &
DAEMON=$!
URL="http://127.0.0.1:$API"
for _ in $(seq 1 180); do
  if curl -sf -X POST "$URL/api/v0/version" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$DAEMON" 2>/dev/null; then cat "$WORK/daemon.log" >&2; exit 1; fi
  sleep 0.5
done
curl -sf -X POST "$URL/api/v0/version" >/dev/null || { echo "js-ipfs did not come up" >&2; cat "$WORK/daemon.log" >&2; exit 1; }
echo "== js-ipfs $(curl -s -X POST "$URL/api/v0/version" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).Version))') at $URL"

echo "== medledger embedded store, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BENCH" --dir "$WORK/embedded" "$@"
echo "== js-ipfs through KuboStore (the client also computes each CID locally to check the node's), load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BENCH" --kubo "$URL" --kubo-only "$@"
