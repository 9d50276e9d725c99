// consortium.json: which hospitals are members, how to reach their servers, and which TLS CA vouches for each
// (docs/CONSORTIUM.md). A member is identified by the CA that issued its verified client certificate, never by
// anything in a request.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "crypto/x509.h"

namespace medledger::consortium {

inline constexpr size_t kMaxConfigBytes = 256 * 1024;
inline constexpr size_t kMaxMembers = 64;
inline constexpr size_t kMaxCaFileBytes = 256 * 1024;
inline constexpr size_t kMaxCasPerMember = 16;
inline constexpr size_t kMaxChainCertificates = 16;

struct Member {
  std::string msp_id;                        // an identifier, [A-Za-z0-9._:-]{1,128}
  std::string display_name;                  // "Hospital A"
  std::string tls_ca_file;                   // absolute (resolved against the file's folder)
  std::string url;                           // "https://host[:port]", no path: the member's server-to-server listener
  std::vector<crypto::Certificate> tls_cas;  // the CA certificates of tls_ca_file (LoadConsortiumConfig)
};

struct ConsortiumConfig {
  std::string self;             // this server's MSP ID; a member
  std::string listen;           // "host:port" of this server's server-to-server listener
  std::string tls_cert_file;    // absolute
  std::string tls_key_file;     // absolute
  int replication_factor = 1;   // 1..members.size()
  std::vector<Member> members;  // in the file's order (the replication order)

  const Member* Find(std::string_view msp_id) const;  // nullptr if not a member
  // Every member's TLS CA certificates as one PEM bundle, for http::ServerOptions::tls_client_ca_file of the
  // server-to-server listener (the caller writes it to a file).
  std::string ClientCaBundlePem() const;
};

// [A-Za-z0-9._:-]{1,128}: an MSP ID, a report ID, a key ID (the contract's identifier pattern).
bool IsIdentifier(std::string_view s);

// Parses and validates the document; relative paths are resolved against `base_dir`. CA files are not read.
// Every error is kInvalidArgument "consortium_config_invalid" with a message naming the field.
Result<ConsortiumConfig> ParseConsortiumConfig(std::string_view json_text, const std::string& base_dir);

// Reads `path`, parses it, checks that `self` equals `own_msp_id`, and loads each member's TLS CA PEM bundle
// (CA certificates only; one CA may not vouch for two members). "consortium_config_invalid", or
// "consortium_config_unreadable" (kIoError) when a file cannot be read.
Result<ConsortiumConfig> LoadConsortiumConfig(const std::string& path, std::string_view own_msp_id);

// The certificates of a PEM bundle, in order. "bad_certificate" for a block that does not parse, for text
// outside the blocks other than whitespace, or for more than `max_certificates`.
Result<std::vector<crypto::Certificate>> ParsePemBundle(std::string_view pem, size_t max_certificates);

// The member whose TLS CA issued a client certificate chain (leaf first, as the TLS handshake verified it,
// http::Request::peer_certificates_pem). The chain is checked again here, link by link up to the member's CA
// certificate, valid at `now`. "client_certificate_required" (kUnauthenticated) for an empty chain,
// "client_certificate_invalid" (kUnauthenticated) for one that does not parse or link,
// "not_a_member" (kPermissionDenied) when no member's CA is at its end.
Result<std::string> MemberForClientCertificate(const ConsortiumConfig& config, std::string_view chain_pem,
                                               std::chrono::system_clock::time_point now);

}  // namespace medledger::consortium
