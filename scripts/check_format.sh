#!/usr/bin/env bash
# Fails when a tracked C++ file differs from what clang-format (Debian 12's, version 14, with .clang-format)
# makes of it, and names the files. Fix with: git ls-files '*.cpp' '*.h' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
count=$(git ls-files '*.cpp' '*.h' | wc -l)
# Any failure of the run counts, not only the files it names: a missing clang-format must not pass.
status=0
report=$(git ls-files -z '*.cpp' '*.h' | xargs -0 -P "$(nproc)" -n 32 clang-format --dry-run --Werror 2>&1) ||
  status=$?
if [ "$status" -ne 0 ]; then
  bad=$(grep -oE '^[^:]+\.(cpp|h):[0-9]+:[0-9]+: (error|warning)' <<<"$report" | cut -d: -f1 | sort -u || true)
  echo "check_format: these files are not clang-format clean (or clang-format failed):" >&2
  sed 's/^/  /' <<<"${bad:-$report}" >&2
  echo "fix with: git ls-files '*.cpp' '*.h' | xargs clang-format -i" >&2
  exit 1
fi
echo "check_format: $count C++ files clang-format clean"
