# Every fuzz target and the libraries it links, "name:lib,lib". Read by fuzz/CMakeLists.txt (libFuzzer
# builds) and tests/unit/fuzz/CMakeLists.txt (the corpus replay in every build), so the two cannot drift.
set(MEDLEDGER_FUZZ_TARGETS
    "cid_fuzzer:medledger_content"
    "dagpb_fuzzer:medledger_content"
    "envelope_fuzzer:medledger_content"
    "keylog_fuzzer:medledger_content"
    "multipart_fuzzer:medledger_http"
    "jwt_fuzzer:medledger_auth"
    "http_request_fuzzer:medledger_http"
    "api_json_fuzzer:medledger_http,nlohmann_json::nlohmann_json"
    "x509_fuzzer:medledger_crypto"
    "tsa_token_fuzzer:medledger_tsa"
    "ledger_evidence_fuzzer:medledger_receipt"
    "fabric_block_fuzzer:medledger_ledger_embedded,medledger_reportlog"
    "chaincode_fuzzer:medledger_chaincode"
    "tlog_note_fuzzer:medledger_tlog"
    "receipt_fuzzer:medledger_verifier"
    "key_release_fuzzer:medledger_consortium"
    "fhir_fuzzer:medledger_fhir,nlohmann_json::nlohmann_json")
