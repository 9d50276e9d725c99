#include "chaincode/package.h"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

namespace medledger::chaincode {
namespace {

constexpr size_t kBlock = 512;

void WriteOctal(char* field, size_t width, uint64_t value) {
  // width includes the terminating NUL, as ustar expects.
  std::snprintf(field, width, "%0*llo", int(width - 1), static_cast<unsigned long long>(value));
}

bool ValidLabel(const std::string& label) {
  if (label.empty() || label.size() > 128) return false;
  for (char c : label) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '+' || c == '-')) return false;
  }
  return true;
}

}  // namespace

std::string Tar(const std::vector<TarEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    char header[kBlock] = {};
    std::memcpy(header, e.name.data(), std::min<size_t>(e.name.size(), 100));
    WriteOctal(header + 100, 8, 0644);
    WriteOctal(header + 108, 8, 0);
    WriteOctal(header + 116, 8, 0);
    WriteOctal(header + 124, 12, e.data.size());
    WriteOctal(header + 136, 12, 0);  // mtime 0: packages are reproducible byte for byte
    header[156] = '0';
    std::memcpy(header + 257, "ustar", 6);
    std::memcpy(header + 263, "00", 2);
    std::memset(header + 148, ' ', 8);
    unsigned sum = 0;
    for (unsigned char c : header) sum += c;
    std::snprintf(header + 148, 8, "%06o", sum);
    header[155] = ' ';
    out.append(header, kBlock);
    out += e.data;
    out.append((kBlock - e.data.size() % kBlock) % kBlock, '\0');
  }
  out.append(2 * kBlock, '\0');
  return out;
}

Result<std::vector<TarEntry>> Untar(std::string_view tar) {
  std::vector<TarEntry> out;
  size_t pos = 0;
  while (pos + kBlock <= tar.size()) {
    const char* h = tar.data() + pos;
    if (h[0] == '\0') break;  // end-of-archive marker
    unsigned stored = 0, sum = 0;
    if (std::sscanf(std::string(h + 148, 8).c_str(), "%o", &stored) != 1) {
      return MakeError(ErrorKind::kInvalidArgument, "bad_tar", "unreadable header checksum");
    }
    for (size_t i = 0; i < kBlock; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
    if (sum != stored) return MakeError(ErrorKind::kInvalidArgument, "bad_tar", "header checksum mismatch");
    unsigned long long size = 0;
    if (std::sscanf(std::string(h + 124, 12).c_str(), "%llo", &size) != 1) {
      return MakeError(ErrorKind::kInvalidArgument, "bad_tar", "unreadable entry size");
    }
    pos += kBlock;
    if (size > tar.size() - pos) return MakeError(ErrorKind::kInvalidArgument, "bad_tar", "entry overruns archive");
    out.push_back({std::string(h, strnlen(h, 100)), std::string(tar.substr(pos, size))});
    pos += (size + kBlock - 1) / kBlock * kBlock;
  }
  return out;
}

Result<std::string> Gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return MakeError(ErrorKind::kInternal, "gzip_failed", "deflateInit2 failed");
  }
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return MakeError(ErrorKind::kInternal, "gzip_failed", "deflate did not finish");
  return out;
}

Result<std::string> Gunzip(std::string_view data) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return MakeError(ErrorKind::kInternal, "gunzip_failed", "inflateInit2");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > (64u << 20)) rc = Z_MEM_ERROR;  // a package is tiny; refuse decompression bombs
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) return MakeError(ErrorKind::kInvalidArgument, "bad_gzip", "not a complete gzip stream");
  return out;
}

Result<std::string> BuildCcaasPackage(const PackageOptions& o) {
  if (!ValidLabel(o.label)) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_label", "label must match [A-Za-z0-9_.+-]{1,128}");
  }
  if (o.address.empty() || o.address.find(':') == std::string::npos) {
    return MakeError(ErrorKind::kInvalidArgument, "bad_address", "address must be host:port");
  }
  if (o.tls_required && o.root_cert.empty()) {
    return MakeError(ErrorKind::kInvalidArgument, "missing_root_cert", "TLS needs the chaincode server's root CA");
  }
  if (o.client_auth_required && (o.client_cert.empty() || o.client_key.empty())) {
    return MakeError(ErrorKind::kInvalidArgument, "missing_client_cert", "client auth needs a certificate and key");
  }
  nlohmann::ordered_json conn = {
      {"address", o.address}, {"dial_timeout", o.dial_timeout}, {"tls_required", o.tls_required}};
  if (o.tls_required) {
    conn["client_auth_required"] = o.client_auth_required;
    conn["root_cert"] = o.root_cert;
    if (o.client_auth_required) {
      conn["client_cert"] = o.client_cert;
      conn["client_key"] = o.client_key;
    }
  }
  ML_ASSIGN_OR_RETURN(std::string code, Gzip(Tar({{"connection.json", conn.dump(2) + "\n"}})));
  nlohmann::ordered_json metadata = {{"type", "ccaas"}, {"label", o.label}};
  return Gzip(Tar({{"metadata.json", metadata.dump() + "\n"}, {"code.tar.gz", code}}));
}

}  // namespace medledger::chaincode
