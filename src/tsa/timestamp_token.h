// RFC 3161 time-stamp tokens (OpenSSL 3's TS API): building a request, taking the token out of a TSA's reply,
// and verifying a token offline against trusted TSA roots.
//
// Error codes (Error::code):
//   building:  "tsa_bad_digest" (not 32 bytes), "tsa_bad_request" (a request that is not DER TimeStampReq)
//   replies:   "tsa_response_malformed" (not a DER TimeStampResp, or no token where one is due),
//              "tsa_rejected" (status neither granted nor grantedWithMods; the message carries the TSA's status
//              text and failure info), "tsa_response_mismatch" (the token's imprint, imprint algorithm or nonce
//              differ from the request's)
//   verifying: "tsa_token_malformed" (not a DER ContentInfo holding a signed TSTInfo),
//              "tsa_no_trusted_roots" (the PEM holds no certificate), "tsa_unsupported_digest" (imprint not
//              SHA-256), "tsa_imprint_mismatch" (the token is over other data), "tsa_untrusted_signer" (no
//              signer certificate in the token, it does not chain to a trusted root at genTime, or it lacks the
//              critical timeStamping extended key usage), "tsa_signer_mismatch" (the ESSCertID/ESSCertIDv2 in
//              the signed attributes does not name the signer certificate), "tsa_bad_signature",
//              "tsa_token_invalid" (any other verification failure).
// Malformed input is ErrorKind::kInvalidArgument; a well-formed token that fails a check is kCorruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"
#include "common/time.h"

namespace medledger::tsa {

// Bounds on what the parsers accept; a TSA reply with a chain of a few certificates is a few kilobytes.
inline constexpr size_t kMaxResponseBytes = 64 * 1024;
inline constexpr size_t kMaxTokenBytes = 64 * 1024;

// A DER TimeStampReq: version 1, messageImprint = (SHA-256, `sha256_digest`), `nonce`, certReq = true (so the
// token carries the signer certificate and verifies offline).
Result<std::string> BuildRequest(std::string_view sha256_digest, uint64_t nonce);

// The DER TimeStampToken (a CMS ContentInfo) from a DER TimeStampResp, once the status is granted and the
// token's imprint and nonce equal those of `request_der`. The signature is not checked here: VerifyToken.
Result<std::string> TokenFromResponse(std::string_view response_der, std::string_view request_der);

struct VerifiedTime {
  Timestamp gen_time;          // TSTInfo.genTime, with its fraction of a second
  std::string serial_hex;      // TSTInfo.serialNumber, upper-case hex without leading zeros ("0" for zero)
  std::string policy_oid;      // TSTInfo.policy, dotted
  std::string tsa_name;        // TSTInfo.tsa when present ("DirName:O = ..., CN = ..."), else ""
  std::string signer_subject;  // the verified signer certificate's subject, one line ("/O=.../CN=...")
};

// Verifies `token_der` offline: its message imprint is SHA-256(`message`) (or `sha256_digest`), its signer
// certificate (carried in the token) chains to one of the certificates in `trusted_roots_pem` and has the
// critical timeStamping extended key usage, the signed ESSCertID(v2) names that certificate, and the CMS
// signature verifies. The chain is checked at the token's genTime, not now: a receipt must stay verifiable
// after the TSA certificate expires (RFC 3161 §4, archival use), and genTime is signed by that very key.
Result<VerifiedTime> VerifyToken(std::string_view token_der, std::string_view message,
                                 std::string_view trusted_roots_pem);
Result<VerifiedTime> VerifyTokenDigest(std::string_view token_der, std::string_view sha256_digest,
                                       std::string_view trusted_roots_pem);

}  // namespace medledger::tsa
