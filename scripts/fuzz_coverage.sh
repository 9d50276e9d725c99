#!/usr/bin/env bash
# Source-based coverage of each fuzz target's parser, from its corpus:
#   scripts/fuzz_coverage.sh [TARGET...]        (default: every target)
# Builds the corpus replay programs (fuzz/replay_main.cpp, the same harnesses as the fuzzers) with clang's
# -fprofile-instr-generate -fcoverage-mapping in build/fuzz-cov, replays the checked-in corpus
# fuzz/corpus/TARGET and the one a fuzzing run left in build/fuzz/corpus/TARGET, merges the profile
# with llvm-profdata-14 and prints llvm-cov-14's line and branch coverage of the target's own parser files:
# whole files, then (P-) without the functions in them that parse nothing (EXCLUDE below).
# Full reports: build/fuzz-cov/report/TARGET.txt (per file) and TARGET.html/ (annotated source).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${FUZZ_COV_BUILD:-build/fuzz-cov}
PROFDATA=${LLVM_PROFDATA:-llvm-profdata-14}
COV=${LLVM_COV:-llvm-cov-14}

# Each target's parser: the files whose coverage the target answers for.
declare -A SOURCES=(
  [cid_fuzzer]="src/content/cid.cpp src/content/multibase.cpp src/content/varint.cpp"
  [dagpb_fuzzer]="src/content/dag_pb.cpp"
  [envelope_fuzzer]="src/content/envelope.cpp"
  [keylog_fuzzer]="src/content/key_log.cpp"
  [multipart_fuzzer]="src/http/multipart.cpp"
  [jwt_fuzzer]="src/auth/jwt.cpp"
  [http_request_fuzzer]="src/http/router.cpp src/http/message.cpp"
  [api_json_fuzzer]="src/http/handler_util.cpp src/fhir/resources.cpp src/service/report_validation.cpp"
  [x509_fuzzer]="src/crypto/x509.cpp"
  [tsa_token_fuzzer]="src/tsa/timestamp_token.cpp"
  [ledger_evidence_fuzzer]="src/receipt/ledger_evidence.cpp"
  [fabric_block_fuzzer]="src/ledger/embedded/block_codec.cpp src/ledger/embedded/validator.cpp src/ledger/embedded/membership.cpp"
  [chaincode_fuzzer]="src/chaincode/handler.cpp src/chaincode/peer_stub.cpp"
  [tlog_note_fuzzer]="src/tlog/note.cpp src/tlog/checkpoint.cpp src/tlog/tile_path.cpp src/tlog/cosignature.cpp"
  [key_release_fuzzer]="src/consortium/key_release.cpp"
  [fhir_fuzzer]="src/fhir/search_params.cpp src/fhir/resources.cpp"
  [receipt_fuzzer]="src/verifier/receipt_verifier.cpp src/reportlog/leaf.cpp src/reportlog/block_leaves.cpp src/reportlog/wire.cpp"
)
# Functions in those files that parse nothing (they build output for others to parse); the table's PARSER
# columns leave them out. Each is explained in docs/FUZZING.md ("Parser coverage from the corpus").
declare -A EXCLUDE=(
  [jwt_fuzzer]="JwtSigner|PublicJwkJson"
  [http_request_fuzzer]="Response::|JsonResponse|NoContent"
  [ledger_evidence_fuzzer]="LedgerEvidenceToJson|SplitSignaturesMetadata"
  [fabric_block_fuzzer]="EncodeBlock|StateDbView"
  [receipt_fuzzer]="EventsFromBlock|TrustFromJson|TrustUnusable|LoadTrust"
)
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=($(scripts/fuzz.sh --list))

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O0" \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_CXX_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
    -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" -DMEDLEDGER_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
fi
ninja -C "$BUILD" -j "${FUZZ_JOBS:-2}" $(printf '%s_replay ' "${targets[@]}") >/dev/null

mkdir -p "$BUILD/report"
printf '%-22s %8s %8s %8s %8s %8s   %s\n' TARGET INPUTS LINES BRANCHES P-LINES P-BRANCH FILES
for t in "${targets[@]}"; do
  # The checked-in seeds and what a fuzzing run added to its working copy (when there was a run).
  corpus=(fuzz/corpus/$t)
  [ -d "build/fuzz/corpus/$t" ] && corpus+=("build/fuzz/corpus/$t")
  bin="$BUILD/tests/unit/fuzz/${t}_replay"
  rm -f "$BUILD/report/$t".*.profraw
  LLVM_PROFILE_FILE="$BUILD/report/$t.%p.profraw" MEDLEDGER_REPLAY_NO_MUTATE=1 "$bin" "${corpus[@]}" >/dev/null 2>&1
  "$PROFDATA" merge -sparse "$BUILD/report/$t".*.profraw -o "$BUILD/report/$t.profdata"
  # llvm-cov's own source filter does not match the build's relative paths (ccache base_dir), so
  # parser_coverage.py picks the target's files out of the whole profile.
  "$COV" report "$bin" -instr-profile="$BUILD/report/$t.profdata" >"$BUILD/report/$t.txt"
  "$COV" show "$bin" -instr-profile="$BUILD/report/$t.profdata" -format=html -show-branches=count \
    -output-dir="$BUILD/report/$t.html" >/dev/null
  read -r lines branches parser_lines parser_branches < <(python3 fuzz/tools/parser_coverage.py "$bin" \
    "$BUILD/report/$t.profdata" "${SOURCES[$t]}" "${EXCLUDE[$t]:-}")
  printf '%-22s %8s %8s %8s %8s %8s   %s\n' "$t" "$(find "${corpus[@]}" -type f -printf '%f\n' | sort -u | wc -l)" \
    "$lines" "$branches" "$parser_lines" "$parser_branches" "${SOURCES[$t]}"
done
