#!/usr/bin/env bash
# Seeds for fuzz/corpus/tsa_token_fuzzer from a real TSA (tests/peers/tsa_server.mjs, `openssl ts -reply`):
# replies (granted and rejected), request/reply pairs, tokens, and tokens with their root and digest.
# Usage: fuzz/tools/make_tsa_corpus.sh [OUT_DIR]   (default fuzz/corpus/tsa_token_fuzzer; needs node, openssl, curl)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${1:-$root/fuzz/corpus/tsa_token_fuzzer}"
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"; kill $(jobs -p) 2>/dev/null || true' EXIT

start() {  # start NAME ARGS...: runs a TSA whose stdin stays open until this script exits
  local name=$1; shift
  mkfifo "$work/$name.in"
  node "$root/tests/peers/tsa_server.mjs" "$@" <"$work/$name.in" >"$work/$name.json" &
  exec {fd}>"$work/$name.in"
  for _ in $(seq 100); do [ -s "$work/$name.json" ] && break; sleep 0.1; done
}
field() { node -e "console.log(JSON.parse(require('fs').readFileSync('$1','utf8'))['$2'])"; }
be16() { python3 -c "import sys; n=int(sys.argv[1]); sys.stdout.buffer.write(bytes([n>>8, n&255]))" "$1"; }

start good
start strict --digests sha512
for i in 1 2; do
  printf 'checkpoint %s\n' "$i" >"$work/data$i"
  openssl ts -query -data "$work/data$i" -sha256 -cert -out "$work/q$i" 2>/dev/null
  curl -sf -H 'Content-Type: application/timestamp-query' --data-binary @"$work/q$i" "$(field "$work/good.json" url)" -o "$work/r$i"
  openssl ts -reply -in "$work/r$i" -token_out -out "$work/t$i" 2>/dev/null
  rootpem="$(field "$work/good.json" rootPem)"
  { printf '\0'; cat "$work/r$i"; } >"$out/reply_$i"
  { printf '\1'; be16 "$(stat -c %s "$work/q$i")"; cat "$work/q$i" "$work/r$i"; } >"$out/pair_$i"
  { printf '\2'; cat "$work/t$i"; } >"$out/token_$i"
  { printf '\3'; be16 "$(stat -c %s "$rootpem")"; cat "$rootpem"; openssl dgst -sha256 -binary "$work/data$i"; cat "$work/t$i"; } >"$out/full_$i"
done
curl -sf -H 'Content-Type: application/timestamp-query' --data-binary @"$work/q1" "$(field "$work/strict.json" url)" -o "$work/rejected"
{ printf '\0'; cat "$work/rejected"; } >"$out/rejected"
{ printf '\1'; be16 "$(stat -c %s "$work/q1")"; cat "$work/q1" "$work/rejected"; } >"$out/pair_rejected"
ls -l "$out"
