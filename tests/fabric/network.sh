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

LOG_NAME=network.sh
# shellcheck source=tests/fabric/lib.sh
source "$HERE/lib.sh"

if [[ "$CMD" == down ]]; then stop_recorded; exit 0; fi
[[ "$CMD" == up ]] || { echo "usage: $0 up|down WORKDIR" >&2; exit 2; }

: "${FABRIC_BIN:?set FABRIC_BIN to the directory holding the Fabric peer, orderer, configtxgen, osnadmin}"
: "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR to the medledger build directory}"
# Seven consecutive free ports on 127.0.0.1 (BASE_PORT pins them).
BASE_PORT="${BASE_PORT:-$(pick_base_port 7)}"
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
trap 'rc=$?; if [[ $rc != 0 ]]; then log "failed (rc=$rc); logs in $W/logs"; stop_recorded; fi' EXIT

log "organisation"
: > "$W/logs/init.log"
make_org "$W/org" Hospital "$W/msp" "$W/logs/init.log"

log "TLS (openssl, P-256)"
make_tls_ca "$W/tls" Hospital
for node in orderer peer chaincode; do issue_tls_cert "$W/tls" "$node" Hospital; done

# One organisation is the orderer organisation and the application organisation.
make_channel_msp "$W/msp" "$W/tls/ca.crt"
make_peer_tls_dir "$W/tls/peerdir" "$W/tls/peer" "$W/tls/ca.crt"
MSPDIR="$W/msp/org" ORDERER_TLS_CERT="$W/tls/orderer.crt" PEER_TLS_DIR="$W/tls/peerdir" PEER_DATA="$W/peer"
PEER_MSP="$W/msp/peer"
render "$HERE/config/configtx.yaml.in" "$W/cfg/configtx-org.yaml"
cat "$HERE/config/configtx-defaults.yaml" "$W/cfg/configtx-org.yaml" > "$W/cfg/configtx.yaml"
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
# The single orderer may still be electing itself Raft leader ("no Raft leader"): retry bounds the wait.
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
