#!/usr/bin/env bash
# Installs everything medledger needs on a fresh Debian 12 machine. Idempotent: re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang-format
  libssl-dev libboost1.81-dev protobuf-compiler libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc
  librocksdb-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsodium-dev libcurl4-openssl-dev zlib1g-dev libre2-dev
  clang-14 libclang-rt-14-dev llvm-14
  chromium
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js: keep whatever the machine has (Node 20 from NodeSource here); Debian's packages only when absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm projects: the web app and the real peers the integration tests start (IPFS node, OIDC provider).
for dir in web tests/peers; do
  if [ -f "$dir/package.json" ]; then
    stamp="$dir/node_modules/.medledger-stamp"
    if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ] || [ "$dir/package.json" -nt "$stamp" ]; then
      echo "setup: npm install in $dir"
      # `npm install` honours package-lock.json; `npm ci` is not used because npm 11 leaves other platforms'
      # optional packages (esbuild, rollup, tailwind oxide) out of the lock file and then refuses it.
      (cd "$dir" && npm install --no-audit --no-fund)
      touch "$stamp"
    fi
  fi
done
echo "setup: ok"
