#include "identity/data_format.h"

#include <nlohmann/json.hpp>

#include "io/env.h"

namespace medledger::identity {

namespace fs = std::filesystem;

namespace {

// A FORMAT file is a few hundred bytes; anything far larger is not one.
constexpr size_t kMaxFormatFile = 64 * 1024;
constexpr size_t kMaxStores = 64;

Error Corrupt(const fs::path& file, const std::string& why) {
  return MakeError(ErrorKind::kCorruption, "format_corrupt",
                   file.string() + " is not a valid format file (" + why +
                       "); restore it from a backup, or remove it if the directory predates format versions");
}

std::string WrittenBy(const DataFormat& f) {
  return f.written_by.empty() ? "an unknown release" : f.written_by;
}

}  // namespace

const FormatSupport& ThisReleaseSupport() {
  static const FormatSupport kSupport = {
      {"ledger.blocks", {1, 1}}, {"ledger.state", {1, 1}}, {"content", {1, 1}},  {"keystore", {1, 1}},
      {"reportlog", {1, 1}},     {"identity", {1, 1}},     {"patients", {1, 1}},
  };
  return kSupport;
}

DataFormat CurrentDataFormat(const FormatSupport& support) {
  DataFormat f;
  for (const auto& [name, s] : support) f.formats[name] = s.current;
  f.written_by = kReleaseName;
  return f;
}

Result<std::optional<DataFormat>> ReadDataFormat(const fs::path& data_dir, io::Env* env) {
  const fs::path file = data_dir / kFormatFileName;
  auto text = io::ReadFile(env != nullptr ? *env : *io::Env::Default(), file, kMaxFormatFile);
  if (!text.ok()) {
    if (text.error().kind == ErrorKind::kNotFound) return std::optional<DataFormat>();
    if (text.error().code == "too_large") return Corrupt(file, "larger than any format file");
    return text.error();
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return Corrupt(file, "not a JSON object");
  auto formats = doc.find("formats");
  if (formats == doc.end() || !formats->is_object() || formats->empty()) {
    return Corrupt(file, "no \"formats\" object");
  }
  if (formats->size() > kMaxStores) return Corrupt(file, "too many stores");
  DataFormat out;
  for (const auto& [name, version] : formats->items()) {
    if (name.empty() || name.size() > 64) return Corrupt(file, "a store name is empty or too long");
    if (!version.is_number_integer() || version.get<int64_t>() < 1 || version.get<int64_t>() > 1'000'000) {
      return Corrupt(file, "store '" + name + "' has no positive integer version");
    }
    out.formats[name] = static_cast<int>(version.get<int64_t>());
  }
  if (auto by = doc.find("writtenBy"); by != doc.end()) {
    if (!by->is_string() || by->get_ref<const std::string&>().size() > 128) {
      return Corrupt(file, "\"writtenBy\" is not a short string");
    }
    out.written_by = by->get<std::string>();
  }
  return std::optional<DataFormat>(std::move(out));
}

Status WriteDataFormat(const fs::path& data_dir, const DataFormat& format, io::Env* env) {
  nlohmann::json formats = nlohmann::json::object();
  for (const auto& [name, version] : format.formats) formats[name] = version;
  nlohmann::json doc = {{"formats", formats}, {"writtenBy", format.written_by}};
  return io::WriteFileAtomic(env != nullptr ? *env : *io::Env::Default(), data_dir / kFormatFileName,
                             doc.dump(2) + "\n");
}

Result<FormatCheck> CheckDataFormat(const fs::path& data_dir, const FormatSupport& support, bool allow_upgradable,
                                    io::Env* env) {
  ML_ASSIGN_OR_RETURN(auto read, ReadDataFormat(data_dir, env));
  FormatCheck check;
  check.file_present = read.has_value();
  if (read) check.found = std::move(*read);
  // A store the file does not name predates it: version 1, as for a directory without the file.
  for (const auto& [name, s] : support) check.found.formats.try_emplace(name, 1);

  const std::string dir = data_dir.string();
  // Too new first: a newer release's directory must never be "upgraded" (downgraded) by this one.
  for (const auto& [name, version] : check.found.formats) {
    auto known = support.find(name);
    if (known == support.end()) {
      return MakeError(ErrorKind::kConflict, "format_too_new",
                       dir + " was written by " + WrittenBy(check.found) + ": it has a store '" + name +
                           "' (format version " + std::to_string(version) + ") that " + kReleaseName +
                           " does not know; run that release or a newer one");
    }
    if (version > known->second.current) {
      return MakeError(ErrorKind::kConflict, "format_too_new",
                       dir + " was written by " + WrittenBy(check.found) + ": store '" + name +
                           "' is at format version " + std::to_string(version) + ", " + kReleaseName +
                           " reads up to version " + std::to_string(known->second.current) +
                           "; run that release or a newer one");
    }
  }
  for (const auto& [name, s] : support) {
    const int version = check.found.formats[name];
    if (version < s.oldest_migratable) {
      return MakeError(ErrorKind::kConflict, "format_too_old",
                       dir + ": store '" + name + "' is at format version " + std::to_string(version) + ", " +
                           kReleaseName + " migrates from version " + std::to_string(s.oldest_migratable) +
                           " on; upgrade it with an intermediate release first");
    }
    if (version < s.current && !allow_upgradable) {
      return MakeError(ErrorKind::kConflict, "format_upgrade_required",
                       dir + ": store '" + name + "' is at format version " + std::to_string(version) + ", " +
                           kReleaseName + " uses version " + std::to_string(s.current) +
                           "; stop the server, back the directory up (medledger backup), then run "
                           "`medledger upgrade --data " +
                           dir + "`");
    }
  }
  return check;
}

}  // namespace medledger::identity
