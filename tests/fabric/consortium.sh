#!/usr/bin/env bash
# Brings up (and tears down) a consortium of N hospitals on one Hyperledger Fabric 2.5 channel on 127.0.0.1,
# without Docker, from binaries it is given (docs/CONSORTIUM.md, "Bringing up two hospitals"):
#   - per organisation (HospitalA, HospitalB, ...; MSP IDs HospitalAMSP, ...): `medledger init --org`, users
#     doctor1, patient1, auditor1, MSP folders from `medledger fabric msp`, its own P-256 TLS CA (openssl) listed
#     in its channel MSP, one peer, its own `medledger-chaincode` (chaincode as a service) and package;
#   - 3 etcdraft orderers with TLS, spread round-robin over the organisations (orderer1 -> A, orderer2 -> B,
#     orderer3 -> C or A); every organisation is an orderer organisation and an application organisation;
#   - channel `medchannel` from a configtxgen genesis block, joined on the 3 orderers with osnadmin;
#   - gossip across organisations (external endpoints, anchor peers in the genesis block), so that the Gateway of
#     any peer finds the other organisations' peers (discovery) and collects their endorsements;
#   - the records chaincode approved by EVERY organisation and committed with all peers. Its endorsement policy
#     is the channel default `/Channel/Application/Endorsement` = `MAJORITY Endorsement` (2 hospitals: both;
#     3: any two): no hospital writes alone. The contract adds key-level policies on top (docs/CONSORTIUM.md).
#
#   consortium.sh up WORKDIR               # WORKDIR absent or empty; progress on stderr
#   consortium.sh down WORKDIR             # stops every process `up` (and start-orderer) started, by recorded pid
#   consortium.sh stop-orderer WORKDIR N   # kill -9 orderer N (1..3)
#   consortium.sh start-orderer WORKDIR N  # restart orderer N with the same configuration and data
#   consortium.sh raft-leader WORKDIR      # prints the number of the orderer leading medchannel's Raft (metrics)
#   consortium.sh serve WORKDIR            # after up: each hospital's js-ipfs node (peered) and `medledger serve
#                                          # --ledger fabric --content kubo --consortium`; ports in network.env
#
# Environment:
#   FABRIC_BIN         directory holding peer, orderer, configtxgen, osnadmin (required for up)
#   MEDLEDGER_BIN_DIR  build directory holding src/app/medledger and src/app/medledger-chaincode (required for up)
#   ORGS               number of organisations, 1..9 (default 2)
#   BASE_PORT          first of 9 + 5*ORGS consecutive ports on 127.0.0.1 (default: a free range picked at random)
#
# After `up`, WORKDIR holds per organisation <Org>/: org/ (the medledger data directory: CA, wallet, users admin,
# doctor1, patient1, auditor1), msp/, tls/ (ca.crt, ca.key and the certificates of its peer, chaincode server,
# orderers and `server`, the medledger server's consortium listener), fabric.json (its own peer as Gateway),
# consortium.json (docs/CONSORTIUM.md); and network.env (ports, package IDs, directories), tlsca-bundle.pem (every
# organisation's TLS CA), logs/*.log, run/ (orderer launchers and pids).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
CMD="${1:-}"
W="${2:-}"
usage() { echo "usage: $0 up|down|serve|raft-leader WORKDIR | stop-orderer|start-orderer WORKDIR N" >&2; exit 2; }
[[ -n "$CMD" && -n "$W" ]] || usage
LOG_NAME=consortium.sh
# shellcheck source=tests/fabric/lib.sh
source "$HERE/lib.sh"
CHANNEL=medchannel
CC_NAME=records
N_ORDERERS=3
T=60  # seconds: bound on every CLI call

orderer_number() {  # validates argument $1 as an orderer number
  [[ "$1" =~ ^[1-9]$ && "$1" -le $N_ORDERERS ]] || { echo "orderer number must be 1..$N_ORDERERS" >&2; exit 2; }
}

launch_orderer() {  # k: runs run/orderer<k>.sh in the background, records its pid (appends to its log)
  local k=$1
  "$W/run/orderer$k.sh" >> "$W/logs/orderer$k.log" 2>&1 &
  echo $! > "$W/run/orderer$k.pid"
  echo $! >> "$W/pids"
}

case "$CMD" in
  down) stop_recorded; exit 0 ;;
  stop-orderer)
    orderer_number "${3:-}"
    pid="$(cat "$W/run/orderer$3.pid")"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    log "orderer$3 killed (pid $pid)"; exit 0 ;;
  start-orderer)
    orderer_number "${3:-}"
    W="$(cd "$W" && pwd)"
    # shellcheck disable=SC1091
    source "$W/network.env"
    port_var="ORDERER$3_PORT"
    port_open "${!port_var}" && { echo "orderer$3 is running" >&2; exit 1; }
    launch_orderer "$3"
    admin_var="ORDERER$3_ADMIN_PORT"
    wait_port "${!admin_var}" 30
    log "orderer$3 restarted"; exit 0 ;;
  raft-leader)
    # shellcheck disable=SC1091
    source "$W/network.env"
    for k in $(seq 1 $N_ORDERERS); do
      ops_var="ORDERER${k}_OPS_PORT"
      metrics="$(curl -sf --max-time 2 "http://127.0.0.1:${!ops_var}/metrics" || true)"
      if grep -q "^consensus_etcdraft_is_leader{channel=\"$CHANNEL\"} 1" <<< "$metrics"; then echo "$k"; exit 0; fi
    done
    echo "no orderer reports itself leader of $CHANNEL" >&2; exit 1 ;;
  serve)
    # Each hospital's content node (js-ipfs from tests/peers, swarms peered) and `medledger serve` on its
    # organisation, peer and consortium file. Stopped by `down` with the rest.
    : "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR to the medledger build directory}"
    W="$(cd "$W" && pwd)"
    # shellcheck disable=SC1091
    source "$W/network.env"
    JSIPFS="$REPO/tests/peers/node_modules/.bin/jsipfs"
    [[ -x "$JSIPFS" ]] || { echo "$JSIPFS is missing: run scripts/setup.sh" >&2; exit 2; }
    trap 'rc=$?; if [[ $rc != 0 ]]; then log "serve failed (rc=$rc); logs in $W/logs"; fi' EXIT
    base=$(pick_base_port $((5 * ORGS)))
    for n in $(seq 1 "$ORGS"); do
      name_var="ORG${n}_NAME"; dir_var="ORG${n}_DIR"; org="${!name_var}"; dir="${!dir_var}"
      p=$((base + 5 * (n - 1)))
      IPFS_PATH="$dir/ipfs" "$JSIPFS" init -p server,test > "$W/logs/ipfs-init-$org.log" 2>&1
      # Every address on 127.0.0.1 and the range picked above; no bootstrap peers: the nodes know only each other.
      node -e '
        const fs = require("fs"); const [file, api, gw, swarm, rpc] = process.argv.slice(1);
        const c = JSON.parse(fs.readFileSync(file));
        c.Addresses.API = `/ip4/127.0.0.1/tcp/${api}`; c.Addresses.Gateway = `/ip4/127.0.0.1/tcp/${gw}`;
        c.Addresses.Swarm = [`/ip4/127.0.0.1/tcp/${swarm}`]; c.Addresses.RPC = `/ip4/127.0.0.1/tcp/${rpc}`;
        c.Addresses.Delegates = []; c.Bootstrap = [];
        fs.writeFileSync(file, JSON.stringify(c, null, 2));
        console.log(c.Identity.PeerID);' "$dir/ipfs/config" "$p" $((p + 1)) $((p + 2)) $((p + 3)) \
        > "$dir/ipfs/peer-id"
      start "ipfs-$org" env IPFS_PATH="$dir/ipfs" "$JSIPFS" daemon --enable-preload=false
      echo "ORG${n}_IPFS_API=http://127.0.0.1:$p" >> "$W/network.env"
      echo "ORG${n}_IPFS_SWARM=/ip4/127.0.0.1/tcp/$((p + 2))/p2p/$(cat "$dir/ipfs/peer-id")" >> "$W/network.env"
      echo "ORG${n}_HTTP_PORT=$((p + 4))" >> "$W/network.env"
    done
    # shellcheck disable=SC1091
    source "$W/network.env"
    for n in $(seq 1 "$ORGS"); do wait_port $((base + 5 * (n - 1))) 90; done
    for n in $(seq 1 "$ORGS"); do
      for m in $(seq 1 "$ORGS"); do
        [[ $n == "$m" ]] && continue
        api_var="ORG${n}_IPFS_API"; swarm_var="ORG${m}_IPFS_SWARM"
        curl -sf -X POST --max-time 20 "${!api_var}/api/v0/swarm/connect?arg=${!swarm_var}" > /dev/null ||
          log "the IPFS nodes $n and $m did not peer (reads fall back to the trustless gateways)"
      done
    done
    WEB_ARGS=()
    [[ -f "$REPO/web/dist/index.html" ]] && WEB_ARGS=(--web "$REPO/web/dist")
    for n in $(seq 1 "$ORGS"); do
      name_var="ORG${n}_NAME"; dir_var="ORG${n}_DIR"; api_var="ORG${n}_IPFS_API"; http_var="ORG${n}_HTTP_PORT"
      start "server-${!name_var}" "$MEDLEDGER_BIN_DIR/src/app/medledger" serve --data "${!dir_var}/org" \
        --listen "127.0.0.1:${!http_var}" --ledger fabric --fabric-config "${!dir_var}/fabric.json" \
        --content kubo --ipfs-url "${!api_var}" --consortium "${!dir_var}/consortium.json" "${WEB_ARGS[@]}"
    done
    for n in $(seq 1 "$ORGS"); do
      name_var="ORG${n}_NAME"; http_var="ORG${n}_HTTP_PORT"
      wait_port "${!http_var}" 60
      log "${!name_var}: http://127.0.0.1:${!http_var}"
    done
    exit 0 ;;
  up) ;;
  *) usage ;;
esac

: "${FABRIC_BIN:?set FABRIC_BIN to the directory holding the Fabric peer, orderer, configtxgen, osnadmin}"
: "${MEDLEDGER_BIN_DIR:?set MEDLEDGER_BIN_DIR to the medledger build directory}"
ORGS="${ORGS:-2}"
[[ "$ORGS" =~ ^[1-9]$ ]] || { echo "ORGS must be 1..9" >&2; exit 2; }
ML="$MEDLEDGER_BIN_DIR/src/app/medledger"
MLCC="$MEDLEDGER_BIN_DIR/src/app/medledger-chaincode"

# Ports: orderer k (1..3) has BASE+3(k-1) + {listen, admin, operations}; organisation i (0-based) has
# BASE+9+5i + {peer, peer chaincode listener, peer operations, medledger-chaincode, consortium listener}.
BASE_PORT="${BASE_PORT:-$(pick_base_port $((3 * N_ORDERERS + 5 * ORGS)))}"
LETTERS=ABCDEFGHI
declare -a ORG MSP D PEER_PORT PEER_CC_PORT PEER_OPS_PORT CC_PORT PEER_LISTEN_PORT PKG
for i in $(seq 0 $((ORGS - 1))); do
  letter="${LETTERS:i:1}"
  ORG[i]="Hospital$letter"
  MSP[i]="Hospital${letter}MSP"
  D[i]="$W/${ORG[i]}"
  base=$((BASE_PORT + 3 * N_ORDERERS + 5 * i))
  PEER_PORT[i]=$base
  PEER_CC_PORT[i]=$((base + 1))
  PEER_OPS_PORT[i]=$((base + 2))
  CC_PORT[i]=$((base + 3))
  PEER_LISTEN_PORT[i]=$((base + 4))  # the medledger server's consortium listener (consortium.json)
done
orderer_org() { echo $((($1 - 1) % ORGS)); }  # orderer k -> organisation index, round-robin
orderer_port() { echo $((BASE_PORT + 3 * ($1 - 1))); }

mkdir -p "$W"
W="$(cd "$W" && pwd)"
[[ -z "$(ls -A "$W")" ]] || { echo "$W is not empty" >&2; exit 2; }
for i in $(seq 0 $((ORGS - 1))); do D[i]="$W/${ORG[i]}"; done
mkdir -p "$W/logs" "$W/run" "$W/cfg"
: > "$W/pids"
# A failure half-way leaves no process behind.
trap 'rc=$?; if [[ $rc != 0 ]]; then log "failed (rc=$rc); logs in $W/logs"; stop_recorded; fi' EXIT

wait_all() {  # waits for every pid given; fails if any failed
  local pid rc=0
  for pid in "$@"; do wait "$pid" || rc=1; done
  return $rc
}

log "$ORGS organisations, ports $BASE_PORT.."
jobs_=()
for i in $(seq 0 $((ORGS - 1))); do
  (
    mkdir -p "${D[i]}/tls" "${D[i]}/msp" "${D[i]}/peer" "${D[i]}/cfg"
    make_org "${D[i]}/org" "${ORG[i]}" "${D[i]}/msp" "$W/logs/init-${ORG[i]}.log"
    make_tls_ca "${D[i]}/tls" "${ORG[i]}"
    for node in peer chaincode server; do issue_tls_cert "${D[i]}/tls" "$node" "${ORG[i]}"; done
    for k in $(seq 1 $N_ORDERERS); do
      [[ $(orderer_org "$k") == "$i" ]] && issue_tls_cert "${D[i]}/tls" "orderer$k" "${ORG[i]}"
    done
    make_channel_msp "${D[i]}/msp" "${D[i]}/tls/ca.crt"
    make_peer_tls_dir "${D[i]}/tls/peerdir" "${D[i]}/tls/peer" "${D[i]}/tls/ca.crt"
  ) &
  jobs_+=($!)
done
wait_all "${jobs_[@]}"
for i in $(seq 0 $((ORGS - 1))); do cat "${D[i]}/tls/ca.crt"; done > "$W/tlsca-bundle.pem"
ALL_TLS_CAS="$(for i in $(seq 0 $((ORGS - 1))); do printf '%s,' "${D[i]}/tls/ca.crt"; done)"
ALL_TLS_CAS="[${ALL_TLS_CAS%,}]"

log "channel configuration and genesis block"
{
  cat "$HERE/config/configtx-defaults.yaml"
  echo "Organizations:"
  for i in $(seq 0 $((ORGS - 1))); do
    m="${MSP[i]}"
    cat <<EOF
  - &${ORG[i]}
    Name: $m
    ID: $m
    MSPDir: ${D[i]}/msp/org
    Policies:
      Readers: {Type: Signature, Rule: "OR('$m.member')"}
      Writers: {Type: Signature, Rule: "OR('$m.member')"}
      Admins: {Type: Signature, Rule: "OR('$m.admin')"}
      Endorsement: {Type: Signature, Rule: "OR('$m.peer')"}
    # Peers of the other organisations learn this organisation's peer from here (gossip, discovery).
    AnchorPeers:
      - {Host: 127.0.0.1, Port: ${PEER_PORT[i]}}
EOF
    # Organisations past the third run no orderer: they have no endpoints to list.
    [[ $i -lt $N_ORDERERS ]] && echo "    OrdererEndpoints:"
    for k in $(seq 1 $N_ORDERERS); do
      [[ $(orderer_org "$k") == "$i" ]] && echo "      - 127.0.0.1:$(orderer_port "$k")"
    done
  done
  cat <<EOF

Profiles:
  MedConsortium:
    <<: *ChannelDefaults
    Orderer:
      <<: *OrdererDefaults
      EtcdRaft:
        # Shorter ticks than Fabric's 500 ms: a lost leader is replaced in about 2 s, not 5.
        Options: {TickInterval: 200ms, ElectionTick: 10, HeartbeatTick: 1, MaxInflightBlocks: 5,
                  SnapshotIntervalSize: 16 MB}
        Consenters:
EOF
  for k in $(seq 1 $N_ORDERERS); do
    crt="${D[$(orderer_org "$k")]}/tls/orderer$k.crt"
    echo "          - {Host: 127.0.0.1, Port: $(orderer_port "$k"), ClientTLSCert: $crt, ServerTLSCert: $crt}"
  done
  echo "      Organizations:"
  for i in $(seq 0 $((ORGS - 1))); do echo "        - *${ORG[i]}"; done
  echo "    Application:"
  echo "      <<: *ApplicationDefaults"
  echo "      Organizations:"
  for i in $(seq 0 $((ORGS - 1))); do echo "        - *${ORG[i]}"; done
} > "$W/cfg/configtx.yaml"
timeout $T "$FABRIC_BIN/configtxgen" -configPath "$W/cfg" -profile MedConsortium -channelID "$CHANNEL" \
  -outputBlock "$W/genesis.block" > "$W/logs/configtxgen.log" 2>&1

log "orderers"
cp "$HERE/config/orderer.yaml" "$W/cfg/orderer.yaml"
for k in $(seq 1 $N_ORDERERS); do
  i=$(orderer_org "$k")
  port=$(orderer_port "$k")
  tls="${D[i]}/tls/orderer$k"
  mkdir -p "$W/orderer$k"
  # A launcher, so that start-orderer restarts it exactly as `up` did (same identity, TLS, data).
  cat > "$W/run/orderer$k.sh" <<EOF
#!/usr/bin/env bash
exec env FABRIC_CFG_PATH="$W/cfg" ORDERER_GENERAL_LISTENPORT=$port ORDERER_GENERAL_LOCALMSPID=${MSP[i]} \\
  ORDERER_GENERAL_LOCALMSPDIR="${D[i]}/msp/orderer" \\
  ORDERER_GENERAL_TLS_PRIVATEKEY="$tls.key" ORDERER_GENERAL_TLS_CERTIFICATE="$tls.crt" \\
  ORDERER_GENERAL_TLS_ROOTCAS="$ALL_TLS_CAS" \\
  ORDERER_GENERAL_CLUSTER_CLIENTCERTIFICATE="$tls.crt" ORDERER_GENERAL_CLUSTER_CLIENTPRIVATEKEY="$tls.key" \\
  ORDERER_GENERAL_CLUSTER_ROOTCAS="$ALL_TLS_CAS" \\
  ORDERER_FILELEDGER_LOCATION="$W/orderer$k/ledger" ORDERER_CONSENSUS_WALDIR="$W/orderer$k/wal" \\
  ORDERER_CONSENSUS_SNAPDIR="$W/orderer$k/snap" \\
  ORDERER_ADMIN_LISTENADDRESS=127.0.0.1:$((port + 1)) \\
  ORDERER_OPERATIONS_LISTENADDRESS=127.0.0.1:$((port + 2)) ORDERER_METRICS_PROVIDER=prometheus \\
  "$FABRIC_BIN/orderer"
EOF
  chmod +x "$W/run/orderer$k.sh"
  : > "$W/logs/orderer$k.log"
  launch_orderer "$k"
done

log "peers"
for i in $(seq 0 $((ORGS - 1))); do
  MSPID="${MSP[i]}" PEER_PORT="${PEER_PORT[i]}" PEER_CC_PORT="${PEER_CC_PORT[i]}" \
    PEER_OPS_PORT="${PEER_OPS_PORT[i]}" PEER_TLS_DIR="${D[i]}/tls/peerdir" PEER_DATA="${D[i]}/peer" \
    PEER_MSP="${D[i]}/msp/peer" render "$HERE/config/core.yaml.in" "${D[i]}/cfg/core.yaml"
  # One peer per organisation: it leads its organisation (pulls blocks from the orderers) and bootstraps gossip
  # from itself; the other organisations' peers come from the anchor peers of the channel configuration. Its
  # first dial of an anchor peer may come before it trusts the channel's TLS CAs and fail: it redials after
  # reconnectInterval (Fabric's 25 s would be most of `up`). State and membership are published every second.
  start "peer-${ORG[i]}" env FABRIC_CFG_PATH="${D[i]}/cfg" CORE_PEER_ID="peer0.${ORG[i],,}" \
    CORE_PEER_GOSSIP_EXTERNALENDPOINT=127.0.0.1:"${PEER_PORT[i]}" CORE_PEER_GOSSIP_BOOTSTRAP=127.0.0.1:"${PEER_PORT[i]}" \
    CORE_PEER_GOSSIP_PUBLISHSTATEINFOINTERVAL=1s CORE_PEER_GOSSIP_REQUESTSTATEINFOINTERVAL=1s \
    CORE_PEER_GOSSIP_MEMBERSHIPTRACKERINTERVAL=1s CORE_PEER_GOSSIP_RECONNECTINTERVAL=1s \
    "$FABRIC_BIN/peer" node start
done

for k in $(seq 1 $N_ORDERERS); do wait_port $(($(orderer_port "$k") + 1)) 30; done
jobs_=()
for k in $(seq 1 $N_ORDERERS); do
  timeout $T "$FABRIC_BIN/osnadmin" channel join --channelID "$CHANNEL" --config-block "$W/genesis.block" \
    -o 127.0.0.1:$(($(orderer_port "$k") + 1)) > "$W/logs/osnadmin$k.log" 2>&1 &
  jobs_+=($!)
done
wait_all "${jobs_[@]}"
log "orderers joined $CHANNEL"

peer_env() {  # i: the peer CLI acting as organisation i's admin against its own peer, as array PENV
  PENV=(env FABRIC_CFG_PATH="${D[$1]}/cfg" CORE_PEER_MSPCONFIGPATH="${D[$1]}/msp/admin"
    CORE_PEER_LOCALMSPID="${MSP[$1]}" CORE_PEER_ADDRESS=127.0.0.1:"${PEER_PORT[$1]}" CORE_PEER_TLS_ENABLED=true
    CORE_PEER_TLS_ROOTCERT_FILE="${D[$1]}/tls/ca.crt" "$FABRIC_BIN/peer")
}
ORDERER_ARGS=(-o 127.0.0.1:"$(orderer_port 1)" --tls --cafile "$W/tlsca-bundle.pem")

log "peers join, chaincode packages and installs"
jobs_=()
for i in $(seq 0 $((ORGS - 1))); do
  (
    peer_env "$i"
    CLI_LOG="$W/logs/cli-${ORG[i]}.log"
    wait_port "${PEER_PORT[i]}" 30
    retry "${PENV[@]}" channel join -b "$W/genesis.block"
    # Mutual TLS between the peer and its organisation's medledger-chaincode. The address differs per
    # organisation, so the package and its ID do too.
    "$ML" fabric package --label records_1.0 --address 127.0.0.1:"${CC_PORT[i]}" --out "${D[i]}/records.tar.gz" \
      --tls-root-cert "${D[i]}/tls/ca.crt" --client-cert "${D[i]}/tls/peer.crt" \
      --client-key "${D[i]}/tls/peer.key" >> "$CLI_LOG"
    retry "${PENV[@]}" lifecycle chaincode install "${D[i]}/records.tar.gz"
    timeout $T "${PENV[@]}" lifecycle chaincode calculatepackageid "${D[i]}/records.tar.gz" > "${D[i]}/package-id"
  ) &
  jobs_+=($!)
done
wait_all "${jobs_[@]}"
for i in $(seq 0 $((ORGS - 1))); do
  PKG[i]="$(cat "${D[i]}/package-id")"
  start "chaincode-${ORG[i]}" env CHAINCODE_SERVER_ADDRESS=127.0.0.1:"${CC_PORT[i]}" CHAINCODE_ID="${PKG[i]}" \
    CHAINCODE_TLS_CERT="${D[i]}/tls/chaincode.crt" CHAINCODE_TLS_KEY="${D[i]}/tls/chaincode.key" \
    CHAINCODE_CLIENT_CA_CERT="${D[i]}/tls/ca.crt" "$MLCC"
done

log "approve (every organisation) and commit (all peers; endorsement: channel default MAJORITY Endorsement)"
jobs_=()
for i in $(seq 0 $((ORGS - 1))); do
  (
    peer_env "$i"
    CLI_LOG="$W/logs/cli-${ORG[i]}.log"
    wait_port "${CC_PORT[i]}" 30
    retry "${PENV[@]}" lifecycle chaincode approveformyorg "${ORDERER_ARGS[@]}" --channelID "$CHANNEL" \
      --name $CC_NAME --version 1.0 --package-id "${PKG[i]}" --sequence 1 --waitForEvent
  ) &
  jobs_+=($!)
done
wait_all "${jobs_[@]}"
PEER_ARGS=()
for i in $(seq 0 $((ORGS - 1))); do
  PEER_ARGS+=(--peerAddresses 127.0.0.1:"${PEER_PORT[i]}" --tlsRootCertFiles "${D[i]}/tls/ca.crt")
done
peer_env 0
# Until every peer has every approval, the commit's simulation disagrees between peers: retried.
retry "${PENV[@]}" lifecycle chaincode commit "${ORDERER_ARGS[@]}" --channelID "$CHANNEL" --name $CC_NAME \
  --version 1.0 --sequence 1 "${PEER_ARGS[@]}" --waitForEvent

# Each organisation's Gateway needs the other peers in its channel membership, with the chaincode, to plan an
# endorsement across organisations. A peer that has the definition and its package logs it and pushes its state
# (with the chaincode) to the channel at once; the peers log the channel membership they see.
wait_log() {  # file, extended regex, what: within 30 s
  for n in $(seq 1 300); do
    grep -Eq "$2" "$1" && return 0
    sleep 0.1
  done
  log "never seen: $3"; return 1
}
log "waiting for every peer to run the chaincode and to see every other peer"
for i in $(seq 0 $((ORGS - 1))); do
  wait_log "$W/logs/peer-${ORG[i]}.log" "now available on channel $CHANNEL for chaincode definition $CC_NAME:" \
    "the chaincode on the peer of ${ORG[i]}"
done
for i in $(seq 0 $((ORGS - 1))); do
  for j in $(seq 0 $((ORGS - 1))); do
    [[ $i == "$j" ]] && continue
    wait_log "$W/logs/peer-${ORG[i]}.log" "Membership view has changed.*127\.0\.0\.1:${PEER_PORT[j]}" \
      "the peer of ${ORG[j]} by the peer of ${ORG[i]}"
  done
done

log "client configuration"
for i in $(seq 0 $((ORGS - 1))); do
  cat > "${D[i]}/fabric.json" <<EOF
{"peerEndpoint": "127.0.0.1:${PEER_PORT[i]}", "tlsRootCertFile": "tls/ca.crt", "serverNameOverride": "localhost",
 "mspId": "${MSP[i]}", "channel": "$CHANNEL", "chaincode": "$CC_NAME",
 "timeouts": {"evaluateMs": 10000, "endorseMs": 30000, "submitMs": 10000, "commitMs": 60000}, "maxAttempts": 3}
EOF
  {
    echo "{\"self\": \"${MSP[i]}\","
    echo " \"listen\": \"127.0.0.1:${PEER_LISTEN_PORT[i]}\","
    echo " \"tlsCertFile\": \"tls/server.crt\", \"tlsKeyFile\": \"tls/server.key\","
    echo " \"replicationFactor\": $((ORGS < 2 ? ORGS : 2)),"
    echo " \"members\": ["
    for j in $(seq 0 $((ORGS - 1))); do
      sep=","; [[ $j == $((ORGS - 1)) ]] && sep="]}"
      echo "   {\"mspId\": \"${MSP[j]}\", \"displayName\": \"Hospital ${ORG[j]#Hospital}\"," \
        "\"tlsCaFile\": \"../${ORG[j]}/tls/ca.crt\","
      echo "    \"url\": \"https://127.0.0.1:${PEER_LISTEN_PORT[j]}\"}$sep"
    done
  } > "${D[i]}/consortium.json"
done
{
  echo "CHANNEL=$CHANNEL"
  echo "ORGS=$ORGS"
  echo "ORDERERS=$N_ORDERERS"
  echo "TLS_CA_BUNDLE=$W/tlsca-bundle.pem"
  for k in $(seq 1 $N_ORDERERS); do
    port=$(orderer_port "$k")
    echo "ORDERER${k}_ORG=${ORG[$(orderer_org "$k")]}"
    echo "ORDERER${k}_PORT=$port"
    echo "ORDERER${k}_ADMIN_PORT=$((port + 1))"
    echo "ORDERER${k}_OPS_PORT=$((port + 2))"
    echo "ORDERER${k}_PID_FILE=$W/run/orderer$k.pid"
  done
  for i in $(seq 0 $((ORGS - 1))); do
    n=$((i + 1))
    echo "ORG${n}_NAME=${ORG[i]}"
    echo "ORG${n}_MSPID=${MSP[i]}"
    echo "ORG${n}_DIR=${D[i]}"
    echo "ORG${n}_DATA=${D[i]}/org"
    echo "ORG${n}_PEER_PORT=${PEER_PORT[i]}"
    echo "ORG${n}_PEER_OPS_PORT=${PEER_OPS_PORT[i]}"
    echo "ORG${n}_CHAINCODE_PORT=${CC_PORT[i]}"
    echo "ORG${n}_CONSORTIUM_PORT=${PEER_LISTEN_PORT[i]}"
    echo "ORG${n}_PACKAGE_ID=${PKG[i]}"
  done
} > "$W/network.env"
log "up: $W"
