#!/usr/bin/env bash
# Brings up (and tears down) a one-orderer (etcdraft, TLS), one-peer Hyperledger Fabric 2.5 network on
# 127.0.0.1 from binaries it is given, with medledger's own configuration templates, the organisation made
# by `medledger init`, and the records chaincode running as a service (`medledger-chaincode`).
#
#   network.sh up WORKDIR     # WORKDIR must be absent or empty; prints nothing but progress on stderr
#   network.sh down WORKDIR   # stops every process `up` started (by the pids it recorded)
#
# Environment:
#   FABRIC_BIN         directory holding peer, orderer, configtxgen, osnadmin (required)
#   MEDLEDGER_BIN_DIR  build directory holding src/app/medledger and src/app/medledger-chaincode (required)
#   BASE_PORT          first of 7 consecutive ports on 127.0.0.1 (default 27050)
#
# After `up`, WORKDIR holds: org/ (the organisation: CA, wallet, users admin, doctor1, patient1, auditor1),
# fabric.json (the Gateway client's configuration), tls/ca.crt, network.env (ports, package ID), logs/*.log.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CMD="${1:-}"
W="${2:-}"
[[ -n "$CMD" && -n "$W" ]] || { echo "usage: $0 up|down WORKDIR" >&2; exit 2; }

log() { echo "[network.sh $(date -u +%H:%M:%S)] $*" >&2; }

down() {
  [[ -f "$W/pids" ]] || return 0
  # Children first (chaincode, peer, orderer in reverse start order); TERM, then KILL after a grace period.
  local pids
  pids="$(tac "$W/pids")"
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$W/pids"
  log "stopped"
}

if [[ "$CMD" == down ]]; then down; exit 0; fi
[[ "$CMD" == up ]] || { echo "usage: $0 up|down WORKDIR" >&2; exit 2; }

: "${FABRIC_BIN:?set FABRIC_BIN to the directory holding the Fabric peer, orderer, configtxgen, osnadmin}"
: "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR to the medledger build directory}"
# Seven consecutive free ports on 127.0.0.1 (BASE_PORT pins them): parallel runs and busy machines do not collide.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_base_port() {
  local base p ok
  for _ in $(seq 1 50); do
    base=$((20000 + RANDOM % 30000))
    ok=1
    for p in $(seq "$base" $((base + 6))); do port_open "$p" && { ok=0; break; }; done
    [[ $ok == 1 ]] && { echo "$base"; return 0; }
  done
  echo "no free port range found" >&2; return 1
}
BASE_PORT="${BASE_PORT:-$(pick_base_port)}"
ORDERER_PORT=$BASE_PORT
ORDERER_ADMIN_PORT=$((BASE_PORT + 1))
ORDERER_OPS_PORT=$((BASE_PORT + 2))
PEER_PORT=$((BASE_PORT + 3))
PEER_CC_PORT=$((BASE_PORT + 4))
PEER_OPS_PORT=$((BASE_PORT + 5))
CHAINCODE_PORT=$((BASE_PORT + 6))
MSPID=HospitalMSP
CHANNEL=medchannel
CC_NAME=records
ML="$MEDLEDGER_BIN_DIR/src/app/medledger"
MLCC="$MEDLEDGER_BIN_DIR/src/app/medledger-chaincode"
T=60  # seconds: bound on every CLI call

mkdir -p "$W"
W="$(cd "$W" && pwd)"
[[ -z "$(ls -A "$W")" ]] || { echo "$W is not empty" >&2; exit 2; }
mkdir -p "$W/logs" "$W/msp" "$W/tls" "$W/cfg/orderer" "$W/cfg/peer" "$W/orderer" "$W/peer"
: > "$W/pids"
# A failure half-way leaves no process behind.
trap 'rc=$?; if [[ $rc != 0 ]]; then log "failed (rc=$rc); logs in $W/logs"; down; fi' EXIT

wait_port() {  # host:port reachable within $2 seconds
  local port=$1 secs=$2
  for _ in $(seq 1 $((secs * 10))); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.1
  done
  log "port $port did not open"; return 1
}

start() {  # name, command...: background process, its output in logs/name.log, its pid recorded
  local name=$1; shift
  "$@" > "$W/logs/$name.log" 2>&1 &
  echo $! >> "$W/pids"
}

log "organisation"
"$ML" init --data "$W/org" --org Hospital > "$W/logs/init.log"
"$ML" user add --data "$W/org" --name doctor1 --role doctor >> "$W/logs/init.log"
"$ML" user add --data "$W/org" --name patient1 --role patient >> "$W/logs/init.log"
"$ML" user add --data "$W/org" --name auditor1 --role auditor >> "$W/logs/init.log"
for id in peer orderer admin; do
  "$ML" fabric msp --data "$W/org" --identity "$id" --out "$W/msp/$id" --ou-config > /dev/null
done

log "TLS (openssl, P-256)"
(
  cd "$W/tls"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
  openssl req -new -x509 -key ca.key -out ca.crt -days 30 -subj "/O=Hospital/CN=tlsca.hospital" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  for node in orderer peer chaincode; do
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$node.key" 2>/dev/null
    openssl req -new -key "$node.key" -out "$node.csr" -subj "/O=Hospital/CN=$node.hospital" 2>/dev/null
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:$node.hospital" \
      > "$node.ext"
    openssl x509 -req -in "$node.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile "$node.ext" \
      -out "$node.crt" 2>/dev/null
    chmod 600 "$node.key"
  done
)

# The channel's view of the organisation: CA, NodeOUs and the TLS CA (consenters and the peer's TLS
# connections to the orderer are checked against it). No keys.
mkdir -p "$W/msp/org/cacerts" "$W/msp/org/tlscacerts"
cp "$W/msp/admin/cacerts/ca.pem" "$W/msp/org/cacerts/"
cp "$W/msp/admin/config.yaml" "$W/msp/org/"
cp "$W/tls/ca.crt" "$W/msp/org/tlscacerts/ca.pem"
for id in peer orderer admin; do mkdir -p "$W/msp/$id/tlscacerts" && cp "$W/tls/ca.crt" "$W/msp/$id/tlscacerts/ca.pem"; done

render() {  # template -> output with the run's values
  sed -e "s|@MSPID@|$MSPID|g" -e "s|@MSPDIR@|$W/msp/org|g" -e "s|@ORDERER_PORT@|$ORDERER_PORT|g" \
      -e "s|@ORDERER_TLS_CERT@|$W/tls/orderer.crt|g" -e "s|@PEER_PORT@|$PEER_PORT|g" \
      -e "s|@PEER_CC_PORT@|$PEER_CC_PORT|g" -e "s|@PEER_OPS_PORT@|$PEER_OPS_PORT|g" \
      -e "s|@PEER_TLS_DIR@|$W/tls/peerdir|g" -e "s|@PEER_DATA@|$W/peer|g" -e "s|@PEER_MSP@|$W/msp/peer|g" \
      -e "s|@BUILDER_DIR@|$REPO/fabric/builders/ccaas|g" "$1" > "$2"
}
mkdir -p "$W/tls/peerdir"
cp "$W/tls/peer.crt" "$W/tls/peerdir/server.crt"; cp "$W/tls/peer.key" "$W/tls/peerdir/server.key"
cp "$W/tls/ca.crt" "$W/tls/peerdir/ca.crt"
render "$HERE/config/configtx.yaml.in" "$W/cfg/configtx.yaml"
render "$HERE/config/core.yaml.in" "$W/cfg/peer/core.yaml"
cp "$HERE/config/orderer.yaml" "$W/cfg/orderer/orderer.yaml"

log "genesis block"
timeout $T "$FABRIC_BIN/configtxgen" -configPath "$W/cfg" -profile MedChannel -channelID "$CHANNEL" \
  -outputBlock "$W/genesis.block" > "$W/logs/configtxgen.log" 2>&1

log "orderer on 127.0.0.1:$ORDERER_PORT (admin $ORDERER_ADMIN_PORT)"
start orderer env FABRIC_CFG_PATH="$W/cfg/orderer" \
  ORDERER_GENERAL_LISTENPORT=$ORDERER_PORT ORDERER_GENERAL_LOCALMSPID=$MSPID \
  ORDERER_GENERAL_LOCALMSPDIR="$W/msp/orderer" \
  ORDERER_GENERAL_TLS_PRIVATEKEY="$W/tls/orderer.key" ORDERER_GENERAL_TLS_CERTIFICATE="$W/tls/orderer.crt" \
  ORDERER_GENERAL_TLS_ROOTCAS="[$W/tls/ca.crt]" \
  ORDERER_FILELEDGER_LOCATION="$W/orderer/ledger" ORDERER_CONSENSUS_WALDIR="$W/orderer/wal" \
  ORDERER_CONSENSUS_SNAPDIR="$W/orderer/snap" \
  ORDERER_ADMIN_LISTENADDRESS=127.0.0.1:$ORDERER_ADMIN_PORT \
  ORDERER_OPERATIONS_LISTENADDRESS=127.0.0.1:$ORDERER_OPS_PORT \
  "$FABRIC_BIN/orderer"
wait_port $ORDERER_ADMIN_PORT 30
timeout $T "$FABRIC_BIN/osnadmin" channel join --channelID "$CHANNEL" --config-block "$W/genesis.block" \
  -o 127.0.0.1:$ORDERER_ADMIN_PORT > "$W/logs/osnadmin.log" 2>&1

log "peer on 127.0.0.1:$PEER_PORT"
start peer env FABRIC_CFG_PATH="$W/cfg/peer" "$FABRIC_BIN/peer" node start
wait_port $PEER_PORT 30

# The peer CLI acts as the organisation's admin.
export FABRIC_CFG_PATH="$W/cfg/peer" CORE_PEER_MSPCONFIGPATH="$W/msp/admin" CORE_PEER_LOCALMSPID=$MSPID \
  CORE_PEER_ADDRESS=127.0.0.1:$PEER_PORT CORE_PEER_TLS_ENABLED=true CORE_PEER_TLS_ROOTCERT_FILE="$W/tls/ca.crt"
ORDERER_ARGS=(-o 127.0.0.1:$ORDERER_PORT --tls --cafile "$W/tls/ca.crt")
for i in $(seq 1 20); do  # the orderer needs a moment to elect itself leader of the new channel
  if timeout $T "$FABRIC_BIN/peer" channel join -b "$W/genesis.block" >> "$W/logs/cli.log" 2>&1; then break; fi
  [[ $i == 20 ]] && { log "peer channel join failed"; exit 1; }
  sleep 1
done
log "peer joined $CHANNEL"

log "chaincode package and install"
# Mutual TLS between the peer and medledger-chaincode: the package tells the peer the chaincode server's CA and
# gives it a client certificate; the chaincode server requires one signed by that CA.
"$ML" fabric package --label records_1.0 --address 127.0.0.1:$CHAINCODE_PORT --out "$W/records.tar.gz" \
  --tls-root-cert "$W/tls/ca.crt" --client-cert "$W/tls/peer.crt" --client-key "$W/tls/peer.key" \
  >> "$W/logs/cli.log"
timeout $T "$FABRIC_BIN/peer" lifecycle chaincode install "$W/records.tar.gz" >> "$W/logs/cli.log" 2>&1
PACKAGE_ID="$(timeout $T "$FABRIC_BIN/peer" lifecycle chaincode calculatepackageid "$W/records.tar.gz")"
log "package id $PACKAGE_ID"

start chaincode env CHAINCODE_SERVER_ADDRESS=127.0.0.1:$CHAINCODE_PORT CHAINCODE_ID="$PACKAGE_ID" \
  CHAINCODE_TLS_CERT="$W/tls/chaincode.crt" CHAINCODE_TLS_KEY="$W/tls/chaincode.key" \
  CHAINCODE_CLIENT_CA_CERT="$W/tls/ca.crt" "$MLCC"
wait_port $CHAINCODE_PORT 30

log "approve and commit (single organisation, default endorsement policy)"
retry() {  # the single orderer may still be electing itself Raft leader ("no Raft leader"): bounded retries
  for i in $(seq 1 30); do
    if timeout $T "$@" >> "$W/logs/cli.log" 2>&1; then return 0; fi
    sleep 1
  done
  log "gave up: $*"; return 1
}
retry "$FABRIC_BIN/peer" lifecycle chaincode approveformyorg "${ORDERER_ARGS[@]}" --channelID "$CHANNEL" \
  --name $CC_NAME --version 1.0 --package-id "$PACKAGE_ID" --sequence 1 --waitForEvent
retry "$FABRIC_BIN/peer" lifecycle chaincode commit "${ORDERER_ARGS[@]}" --channelID "$CHANNEL" \
  --name $CC_NAME --version 1.0 --sequence 1 --peerAddresses 127.0.0.1:$PEER_PORT \
  --tlsRootCertFiles "$W/tls/ca.crt" --waitForEvent
timeout $T "$FABRIC_BIN/peer" lifecycle chaincode querycommitted --channelID "$CHANNEL" --name $CC_NAME \
  >> "$W/logs/cli.log" 2>&1

cat > "$W/fabric.json" <<EOF
{"peerEndpoint": "127.0.0.1:$PEER_PORT", "tlsRootCertFile": "tls/ca.crt", "serverNameOverride": "localhost",
 "mspId": "$MSPID", "channel": "$CHANNEL", "chaincode": "$CC_NAME",
 "timeouts": {"evaluateMs": 10000, "endorseMs": 30000, "submitMs": 10000, "commitMs": 60000}, "maxAttempts": 3}
EOF
cat > "$W/network.env" <<EOF
ORDERER_PORT=$ORDERER_PORT
PEER_PORT=$PEER_PORT
CHAINCODE_PORT=$CHAINCODE_PORT
PACKAGE_ID=$PACKAGE_ID
CHANNEL=$CHANNEL
EOF
log "up: $W"
