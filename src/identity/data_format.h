// DIR/FORMAT: the format version of every store of a data directory, and the check every open of a data
// directory makes against the versions this release reads and writes (docs/OPERATIONS.md, "Upgrades").
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "io/env.h"

namespace medledger::identity {

// The release named in a FORMAT file this build writes, and in its refusals.
inline constexpr const char* kReleaseName = "medledger 0.1.0";
inline constexpr const char* kFormatFileName = "FORMAT";

// What a release knows of one store: the version it writes, and the oldest it can migrate from.
struct StoreSupport {
  int current = 1;
  int oldest_migratable = 1;
};
using FormatSupport = std::map<std::string, StoreSupport>;

// This release: every store at version 1 (the first versioned format, identical on disk to round 2's).
const FormatSupport& ThisReleaseSupport();

struct DataFormat {
  std::map<std::string, int> formats;  // store name -> version
  std::string written_by;              // the release that last wrote the file ("" when unknown)
};

// The versions `support` writes, stamped with this release's name.
DataFormat CurrentDataFormat(const FormatSupport& support = ThisReleaseSupport());

// DIR/FORMAT; nullopt when the file is absent (a data directory from before format versions). A file that
// is not `{"formats": {name: positive int, ...}, "writtenBy"?: string}` is "format_corrupt".
// Read and written through `env` (null: io::Env::Default()).
Result<std::optional<DataFormat>> ReadDataFormat(const std::filesystem::path& data_dir, io::Env* env = nullptr);

// Replaces DIR/FORMAT atomically (temp, fsync, rename, directory fsync).
Status WriteDataFormat(const std::filesystem::path& data_dir, const DataFormat& format, io::Env* env = nullptr);

// How a data directory's stores compare with what a release supports, when it may be opened at all.
struct FormatCheck {
  bool file_present = false;  // false: pre-versioning, read as version 1 of every store
  DataFormat found;           // with absent stores filled in as version 1
};

// Never writes. Refusals, each naming the store and the versions:
//   "format_too_new" (kConflict): a store at a version above `current`, or a store
//       this release does not know; names the release that wrote the file;
//   "format_upgrade_required" (kConflict): a store below `current` but migratable; names
//       `medledger upgrade --data DIR`;
//   "format_too_old" (kConflict): a store below `oldest_migratable`;
//   "format_corrupt" (kCorruption): from ReadDataFormat.
// `allow_upgradable` lets `medledger upgrade` itself through the second refusal.
Result<FormatCheck> CheckDataFormat(const std::filesystem::path& data_dir,
                                    const FormatSupport& support = ThisReleaseSupport(), bool allow_upgradable = false,
                                    io::Env* env = nullptr);

}  // namespace medledger::identity
