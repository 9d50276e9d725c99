#!/usr/bin/env bash
# Installs everything medledger needs on a fresh Debian 12 machine. Idempotent: re-running is cheap.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git clang-format
  python3  # scripts/check_architecture.py (the diagram against the CMake graph)
  ccache  # scripts/test.sh and scripts/fuzz.sh compile through it: a rebuild recompiles only what changed
  libssl-dev libboost1.81-dev protobuf-compiler libprotobuf-dev libgrpc++-dev protobuf-compiler-grpc
  librocksdb-dev nlohmann-json3-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libsodium-dev libcurl4-openssl-dev zlib1g-dev libre2-dev
  openssl  # the CLI: the test TSA (tests/peers/tsa_server.mjs) and the `openssl ts -verify` cross-checks
  clang-14 libclang-rt-14-dev llvm-14
  golang-go golang-golang-x-mod-dev
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
    # A linked node_modules (a git worktree sharing the main checkout's) belongs to that checkout: `npm ci`
    # would empty it through the link.
    if [ -L "$dir/node_modules" ]; then
      echo "setup: $dir/node_modules is a link; left alone"
      continue
    fi
    stamp="$dir/node_modules/.medledger-stamp"
    if [ ! -f "$stamp" ] || [ "$dir/package-lock.json" -nt "$stamp" ] || [ "$dir/package.json" -nt "$stamp" ]; then
      if [ "$dir" = web ]; then
        # The web lock file lists every platform's optional binaries (esbuild, rollup, tailwind oxide): it was
        # regenerated with `npm install --package-lock-only` and no node_modules, so `npm ci` installs exactly it.
        # Regenerate it the same way after changing package.json (an existing node_modules makes npm 11 drop
        # other platforms' entries, and `npm ci` then refuses the file).
        echo "setup: npm ci in $dir"
        (cd "$dir" && npm ci --no-audit --no-fund)
      else
        # tests/peers stays on `npm install` (which honours the lock): js-ipfs's optional electron-webrtc pulls
        # electron-eval, whose optional dependency is a GitHub tarball (`headless`) npm never records in a lock
        # file, so `npm ci` refuses it as out of sync.
        echo "setup: npm install in $dir"
        (cd "$dir" && npm install --no-audit --no-fund)
      fi
      touch "$stamp"
    fi
  fi
done
echo "setup: ok"
