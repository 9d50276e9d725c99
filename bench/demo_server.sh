# Sourced by the bench/run_*_bench.sh scripts: starts `medledger serve --demo` on 127.0.0.1 and stops it.
#   demo_server_start MEDLEDGER WORK PORT   sets SERVER (the pid); the data directory is WORK/data
#   demo_server_stop                        kills it (safe to call twice, or when it never started)
# The caller removes WORK (some scripts keep it: see run_server_bench.sh, --keep).
SERVER=""
demo_server_start() {
  local medledger="$1" work="$2" port="$3"
  "$medledger" serve --data "$work/data" --demo --insecure-fast-passwords --log-level warn \
    --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
  SERVER=$!
  for _ in $(seq 1 200); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/healthz" && return 0
    kill -0 "$SERVER" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
    sleep 0.2
  done
  echo "medledger serve did not answer /healthz on port $port within 40 s" >&2
  exit 1
}
demo_server_stop() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  SERVER=""
}
