#include "consortium/consortium_config.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <system_error>

#include "common/encoding.h"
#include "common/json_strict.h"

namespace medledger::consortium {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxDisplayNameBytes = 128;
constexpr size_t kMaxUrlBytes = 256;

Error Invalid(std::string why) {
  return MakeError(ErrorKind::kInvalidArgument, "consortium_config_invalid", "consortium.json: " + std::move(why));
}

bool HasControl(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

// Refuses any key outside `allowed` and any missing one: a misspelt field is an error, not a default.
Status ExactKeys(const json& obj, const std::set<std::string, std::less<>>& allowed, const std::string& where) {
  if (!obj.is_object()) return Invalid(where + " must be an object");
  for (const auto& [key, value] : obj.items()) {
    if (!allowed.count(key)) return Invalid("unknown field \"" + key.substr(0, 64) + "\" in " + where);
  }
  for (const auto& key : allowed) {
    if (!obj.contains(key)) return Invalid(where + " needs \"" + key + "\"");
  }
  return OkStatus();
}

Result<std::string> Text(const json& obj, const char* key, const std::string& where) {
  const json& v = obj.at(key);
  if (!v.is_string()) return Invalid(std::string("\"") + key + "\" in " + where + " must be a string");
  return v.get<std::string>();
}

Result<std::string> Path(const json& obj, const char* key, const std::string& where, const std::string& base_dir) {
  ML_ASSIGN_OR_RETURN(std::string p, Text(obj, key, where));
  if (p.empty() || p.size() > kMaxPathBytes || HasControl(p) || !IsValidUtf8(p)) {
    return Invalid(std::string("\"") + key + "\" in " + where + " must be a path of 1-4096 bytes");
  }
  fs::path path(p);
  if (path.is_relative()) path = fs::path(base_dir) / path;
  return path.lexically_normal().string();
}

bool IsPort(std::string_view s) {
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return !s.empty() && s.size() <= 5 && s[0] != '0' && ec == std::errc() && ptr == s.data() + s.size() && value >= 1 &&
         value <= 65535;
}

// "host", "host:port", "[v6]" or "[v6]:port"; the host a DNS name or an address, no user info.
bool IsAuthority(std::string_view s, bool port_required) {
  std::string_view host = s, port;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == s.npos || close < 3) return false;
    host = s.substr(1, close - 1);
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return false;
      port = rest.substr(1);
      if (!IsPort(port)) return false;
    } else if (port_required) {
      return false;
    }
    return host.find_first_not_of("0123456789abcdefABCDEF:.") == host.npos;
  }
  size_t colon = s.rfind(':');
  if (colon != s.npos) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (!IsPort(port)) return false;
  } else if (port_required) {
    return false;
  }
  if (host.empty() || host.size() > 253) return false;
  return host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == host.npos &&
         host.front() != '-' && host.front() != '.';
}

Result<std::string> ReadBounded(const std::string& path, size_t max_bytes) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) {
    return MakeError(ErrorKind::kIoError, "consortium_config_unreadable", "cannot read " + path + ": " + ec.message());
  }
  if (size > max_bytes) return Invalid(path + " is larger than " + std::to_string(max_bytes) + " bytes");
  std::ifstream in(path, std::ios::binary);
  std::string out(static_cast<size_t>(size), '\0');
  if (!in || !in.read(out.data(), static_cast<std::streamsize>(out.size()))) {
    return MakeError(ErrorKind::kIoError, "consortium_config_unreadable", "cannot read " + path);
  }
  return out;
}

}  // namespace

bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string ConsortiumConfig::ClientCaBundlePem() const {
  std::string out;
  for (const auto& m : members) {
    for (const auto& ca : m.tls_cas) out += ca.ToPem();
  }
  return out;
}

const Member* ConsortiumConfig::Find(std::string_view msp_id) const {
  for (const auto& m : members) {
    if (m.msp_id == msp_id) return &m;
  }
  return nullptr;
}

Result<ConsortiumConfig> ParseConsortiumConfig(std::string_view json_text, const std::string& base_dir) {
  if (json_text.size() > kMaxConfigBytes) return Invalid("the file is larger than 256 KiB");
  auto parsed = ParseStrictJson(json_text, StrictJsonOptions{4});
  if (!parsed.ok()) return Invalid(parsed.error().message);
  const json& doc = *parsed;
  ML_RETURN_IF_ERROR(
      ExactKeys(doc, {"self", "listen", "tlsCertFile", "tlsKeyFile", "replicationFactor", "members"}, "the document"));
  ConsortiumConfig out;
  ML_ASSIGN_OR_RETURN(out.self, Text(doc, "self", "the document"));
  if (!IsIdentifier(out.self)) return Invalid("\"self\" must be an MSP ID [A-Za-z0-9._:-]{1,128}");
  ML_ASSIGN_OR_RETURN(out.listen, Text(doc, "listen", "the document"));
  if (!IsAuthority(out.listen, /*port_required=*/true)) return Invalid("\"listen\" must be \"host:port\"");
  ML_ASSIGN_OR_RETURN(out.tls_cert_file, Path(doc, "tlsCertFile", "the document", base_dir));
  ML_ASSIGN_OR_RETURN(out.tls_key_file, Path(doc, "tlsKeyFile", "the document", base_dir));
  const json& members = doc.at("members");
  if (!members.is_array() || members.empty() || members.size() > kMaxMembers) {
    return Invalid("\"members\" must be an array of 1-64 members");
  }
  std::set<std::string> ids, urls;
  for (size_t i = 0; i < members.size(); ++i) {
    const std::string where = "members[" + std::to_string(i) + "]";
    ML_RETURN_IF_ERROR(ExactKeys(members[i], {"mspId", "displayName", "tlsCaFile", "url"}, where));
    Member m;
    ML_ASSIGN_OR_RETURN(m.msp_id, Text(members[i], "mspId", where));
    if (!IsIdentifier(m.msp_id)) return Invalid("\"mspId\" in " + where + " must be an MSP ID [A-Za-z0-9._:-]{1,128}");
    if (!ids.insert(m.msp_id).second) return Invalid(where + " repeats the MSP ID " + m.msp_id);
    ML_ASSIGN_OR_RETURN(m.display_name, Text(members[i], "displayName", where));
    if (m.display_name.empty() || m.display_name.size() > kMaxDisplayNameBytes || HasControl(m.display_name) ||
        !IsValidUtf8(m.display_name)) {
      return Invalid("\"displayName\" in " + where + " must be 1-128 bytes of UTF-8 text");
    }
    ML_ASSIGN_OR_RETURN(m.tls_ca_file, Path(members[i], "tlsCaFile", where, base_dir));
    ML_ASSIGN_OR_RETURN(m.url, Text(members[i], "url", where));
    constexpr std::string_view kScheme = "https://";
    if (m.url.size() > kMaxUrlBytes || m.url.compare(0, kScheme.size(), kScheme) != 0 ||
        !IsAuthority(std::string_view(m.url).substr(kScheme.size()), /*port_required=*/false)) {
      return Invalid("\"url\" in " + where + " must be \"https://host[:port]\" without a path");
    }
    if (!urls.insert(m.url).second) return Invalid(where + " repeats the URL " + m.url);
    out.members.push_back(std::move(m));
  }
  if (out.Find(out.self) == nullptr) return Invalid("\"self\" (" + out.self + ") is not one of the members");
  const json& rf = doc.at("replicationFactor");
  if (!rf.is_number_integer() || rf.get<int64_t>() < 1 || rf.get<int64_t>() > static_cast<int64_t>(members.size())) {
    return Invalid("\"replicationFactor\" must be an integer from 1 to the number of members");
  }
  out.replication_factor = static_cast<int>(rf.get<int64_t>());
  return out;
}

Result<std::vector<crypto::Certificate>> ParsePemBundle(std::string_view pem, size_t max_certificates) {
  constexpr std::string_view kBegin = "-----BEGIN CERTIFICATE-----";
  constexpr std::string_view kEnd = "-----END CERTIFICATE-----";
  auto bad = [](std::string why) { return MakeError(ErrorKind::kInvalidArgument, "bad_certificate", std::move(why)); };
  auto blank = [](std::string_view s) { return s.find_first_not_of(" \t\r\n") == s.npos; };
  std::vector<crypto::Certificate> out;
  size_t pos = 0;
  while (true) {
    size_t begin = pem.find(kBegin, pos);
    if (begin == pem.npos) {
      if (!blank(pem.substr(pos))) return bad("text after the last certificate");
      break;
    }
    if (!blank(pem.substr(pos, begin - pos))) return bad("text between certificates");
    size_t end = pem.find(kEnd, begin);
    if (end == pem.npos) return bad("a certificate block is not closed");
    end += kEnd.size();
    if (out.size() == max_certificates) return bad("more than " + std::to_string(max_certificates) + " certificates");
    ML_ASSIGN_OR_RETURN(crypto::Certificate cert, crypto::Certificate::FromPem(pem.substr(begin, end - begin)));
    out.push_back(std::move(cert));
    pos = end;
  }
  return out;
}

Result<ConsortiumConfig> LoadConsortiumConfig(const std::string& path, std::string_view own_msp_id) {
  ML_ASSIGN_OR_RETURN(std::string text, ReadBounded(path, kMaxConfigBytes));
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec) return MakeError(ErrorKind::kIoError, "consortium_config_unreadable", "cannot resolve " + path);
  ML_ASSIGN_OR_RETURN(ConsortiumConfig config, ParseConsortiumConfig(text, absolute.parent_path().string()));
  if (config.self != own_msp_id) {
    return Invalid("\"self\" is " + config.self + " but this server's organisation is " + std::string(own_msp_id));
  }
  std::set<std::string> seen_cas;  // DER of every CA: one CA vouching for two members would make them one
  for (auto& m : config.members) {
    ML_ASSIGN_OR_RETURN(std::string pem, ReadBounded(m.tls_ca_file, kMaxCaFileBytes));
    auto cas = ParsePemBundle(pem, kMaxCasPerMember);
    if (!cas.ok()) return Invalid("the TLS CA file of " + m.msp_id + ": " + cas.error().message);
    if (cas->empty()) return Invalid("the TLS CA file of " + m.msp_id + " holds no certificate");
    for (const auto& ca : *cas) {
      if (!ca.IsCa()) return Invalid("the TLS CA file of " + m.msp_id + " holds a certificate that is not a CA");
      if (!seen_cas.insert(ca.ToDer()).second) {
        return Invalid("the TLS CA of " + m.msp_id + " also vouches for another member");
      }
    }
    m.tls_cas = std::move(cas).value();
  }
  return config;
}

Result<std::string> MemberForClientCertificate(const ConsortiumConfig& config, std::string_view chain_pem,
                                               std::chrono::system_clock::time_point now) {
  auto invalid = [](std::string why) {
    return MakeError(ErrorKind::kUnauthenticated, "client_certificate_invalid", std::move(why));
  };
  if (chain_pem.empty()) {
    return MakeError(ErrorKind::kUnauthenticated, "client_certificate_required",
                     "this endpoint needs a client certificate of a consortium member (mutual TLS)");
  }
  auto chain = ParsePemBundle(chain_pem, kMaxChainCertificates);
  if (!chain.ok()) return invalid("the client certificate chain does not parse");
  if (chain->size() < 2) return invalid("the client certificate chain has no issuer");
  // Walk up from the leaf; the first certificate that is a member's CA names the member, and every link below
  // it must hold at `now`.
  for (size_t i = 1; i < chain->size(); ++i) {
    Status link = (*chain)[i - 1].VerifyIssuedBy((*chain)[i], now);
    if (!link.ok()) return invalid("the client certificate chain does not verify: " + link.error().message);
    for (const auto& m : config.members) {
      for (const auto& ca : m.tls_cas) {
        if (ca == (*chain)[i]) return m.msp_id;
      }
    }
  }
  return MakeError(ErrorKind::kPermissionDenied, "not_a_member",
                   "the client certificate was not issued by the TLS CA of any consortium member");
}

}  // namespace medledger::consortium
