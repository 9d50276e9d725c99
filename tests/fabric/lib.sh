# shellcheck shell=bash
# Shell functions shared by network.sh (one organisation) and consortium.sh (N organisations): sourced, not run.
# The caller sets W (the work directory, absolute) and LOG_NAME (the prefix of progress lines on stderr).

log() { echo "[$LOG_NAME $(date -u +%H:%M:%S)] $*" >&2; }

# Stops every process recorded in $W/pids: children first (reverse start order), TERM, then KILL after a grace
# period of 5 s.
stop_recorded() {
  [[ -f "$W/pids" ]] || return 0
  local pids pid alive
  pids="$(tac "$W/pids")"
  for pid in $pids; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive == 0 ]] && break
    sleep 0.1
  done
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  rm -f "$W/pids"
  log "stopped"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The first of $1 consecutive ports on 127.0.0.1 none of which is in use: parallel runs and busy machines do not
# collide. The range ends below the kernel's ephemeral ports (ip_local_port_range): a port the script picks must not
# be taken meanwhile as the source port of some outgoing connection (seen: a chaincode server's bind failing with
# EADDRINUSE while the network came up).
pick_base_port() {
  local count=$1 base p ok low=32768
  [[ -r /proc/sys/net/ipv4/ip_local_port_range ]] && read -r low _ < /proc/sys/net/ipv4/ip_local_port_range
  local span=$((low - count - 10000))
  ((span > 0)) || { echo "no port range below the ephemeral ports ($low)" >&2; return 1; }
  for _ in $(seq 1 50); do
    base=$((10000 + RANDOM % span))
    ok=1
    for p in $(seq "$base" $((base + count - 1))); do port_open "$p" && { ok=0; break; }; done
    [[ $ok == 1 ]] && { echo "$base"; return 0; }
  done
  echo "no free range of $count ports found" >&2; return 1
}

wait_port() {  # port reachable on 127.0.0.1 within $2 seconds
  local port=$1 secs=$2
  for _ in $(seq 1 $((secs * 10))); do
    port_open "$port" && return 0
    sleep 0.1
  done
  log "port $port did not open"; return 1
}

start() {  # name, command...: background process, its output in logs/name.log, its pid recorded
  local name=$1; shift
  "$@" > "$W/logs/$name.log" 2>&1 &
  echo $! >> "$W/pids"
}

# A P-256 TLS CA in directory $1 (ca.key, ca.crt) for organisation $2.
make_tls_ca() {
  local dir=$1 org=$2
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/ca.key" 2>/dev/null
  openssl req -new -x509 -key "$dir/ca.key" -out "$dir/ca.crt" -days 30 -subj "/O=$org/CN=tlsca.${org,,}" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  chmod 600 "$dir/ca.key"
}

# A TLS certificate $2.crt/$2.key in directory $1 issued by its ca.crt for organisation $3: serverAuth and
# clientAuth (nodes dial each other with it), SAN 127.0.0.1, localhost and <name>.<org>.
issue_tls_cert() {
  local dir=$1 node=$2 org=$3
  local host="$node.${org,,}"
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/$node.key" 2>/dev/null
  openssl req -new -key "$dir/$node.key" -out "$dir/$node.csr" -subj "/O=$org/CN=$host" 2>/dev/null
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
    "extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:$host" \
    > "$dir/$node.ext"
  openssl x509 -req -in "$dir/$node.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
    -extfile "$dir/$node.ext" -out "$dir/$node.crt" 2>/dev/null
  chmod 600 "$dir/$node.key"
}

# An organisation from `medledger init --org $2` in data directory $1 with users doctor1, patient1, auditor1, and
# its MSP folders (peer, orderer, admin with NodeOUs) under $3; init's output is appended to log file $4.
make_org() {
  local data=$1 org=$2 msp=$3 out=$4 id
  {
    "$ML" init --data "$data" --org "$org"
    "$ML" user add --data "$data" --name doctor1 --role doctor
    "$ML" user add --data "$data" --name patient1 --role patient
    "$ML" user add --data "$data" --name auditor1 --role auditor
  } >> "$out"
  for id in peer orderer admin; do
    "$ML" fabric msp --data "$data" --identity "$id" --out "$msp/$id" --ou-config > /dev/null
  done
}

# The channel's view of an organisation in $1/org (CA, NodeOUs, TLS CA $2: consenters and TLS connections between
# nodes are checked against it; no keys), and the TLS CA in the local MSPs of its nodes and admin.
make_channel_msp() {
  local msp=$1 tls_ca=$2 id
  mkdir -p "$msp/org/cacerts" "$msp/org/tlscacerts"
  cp "$msp/admin/cacerts/ca.pem" "$msp/org/cacerts/"
  cp "$msp/admin/config.yaml" "$msp/org/"
  cp "$tls_ca" "$msp/org/tlscacerts/ca.pem"
  for id in peer orderer admin; do mkdir -p "$msp/$id/tlscacerts" && cp "$tls_ca" "$msp/$id/tlscacerts/ca.pem"; done
}

# The peer's TLS directory $1 (server.crt, server.key, ca.crt) from certificate $2.crt/.key and CA $3.
make_peer_tls_dir() {
  mkdir -p "$1"
  cp "$2.crt" "$1/server.crt"; cp "$2.key" "$1/server.key"; cp "$3" "$1/ca.crt"
}

# Runs "$@" (a CLI call bounded by $T seconds) up to $RETRIES times, one second apart, its output appended to
# $CLI_LOG (default logs/cli.log): the orderers may still be electing a Raft leader, a peer may not have a block
# yet.
retry() {
  for _ in $(seq 1 "${RETRIES:-30}"); do
    if timeout "$T" "$@" >> "${CLI_LOG:-$W/logs/cli.log}" 2>&1; then return 0; fi
    sleep 1
  done
  log "gave up: $*"; return 1
}

# Template $1 -> file $2 with the @NAME@ placeholders of tests/fabric/config/ replaced by the variables of the
# same name (MSPID, MSPDIR, ORDERER_PORT, ORDERER_TLS_CERT, PEER_PORT, PEER_CC_PORT, PEER_OPS_PORT, PEER_TLS_DIR,
# PEER_DATA, PEER_MSP; unset ones stay empty).
render() {
  sed -e "s|@MSPID@|${MSPID:-}|g" -e "s|@MSPDIR@|${MSPDIR:-}|g" -e "s|@ORDERER_PORT@|${ORDERER_PORT:-}|g" \
      -e "s|@ORDERER_TLS_CERT@|${ORDERER_TLS_CERT:-}|g" -e "s|@PEER_PORT@|${PEER_PORT:-}|g" \
      -e "s|@PEER_CC_PORT@|${PEER_CC_PORT:-}|g" -e "s|@PEER_OPS_PORT@|${PEER_OPS_PORT:-}|g" \
      -e "s|@PEER_TLS_DIR@|${PEER_TLS_DIR:-}|g" -e "s|@PEER_DATA@|${PEER_DATA:-}|g" -e "s|@PEER_MSP@|${PEER_MSP:-}|g" \
      -e "s|@BUILDER_DIR@|$REPO/fabric/builders/ccaas|g" "$1" > "$2"
}
