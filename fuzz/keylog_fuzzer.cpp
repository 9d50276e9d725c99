// libFuzzer: the key log, as bytes and as a file. Every input is used twice:
// - the record decoder, record after record as a log is read: it must stop or fail, never crash, never read
//   past the input, and whatever decodes must encode back to the same bytes;
// - the same bytes as the log file a crash left behind: an owner's open (which cuts a torn tail or refuses a
//   damaged log), a reader's open, then scan, read, append, erase and rewrite, with the invariants that make
//   the keystore trustworthy (what scans reads back the same; an append survives a reopen; an erased record is
//   gone; a rewrite keeps exactly the live records).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "content/key_log.h"
#include "fuzz_check.h"

namespace {

using medledger::Status;
using medledger::content::DecodeKeyRecord;
using medledger::content::EncodeKeyRecord;
using medledger::content::KeyLog;
using medledger::content::KeyRecord;

bool Same(const KeyRecord& a, const KeyRecord& b) {
  return a.binding == b.binding && a.key_id == b.key_id && a.kek_id == b.kek_id && a.wrapped == b.wrapped;
}

void FuzzDecoder(std::string_view in) {
  while (!in.empty()) {
    size_t used = 0;
    auto record = DecodeKeyRecord(in, &used);
    FUZZ_CHECK(used != 0 && used <= in.size());
    if (record.ok()) FUZZ_CHECK(EncodeKeyRecord(*record) == in.substr(0, used));
    if (!record.ok() && record.error().code != "record_erased") break;
    in.remove_prefix(used);
  }
}

// One directory per fuzzing process, on tmpfs when there is one (the file work must not wear a disk), removed
// when the process exits.
class WorkDir {
 public:
  WorkDir() {
    std::filesystem::path base =
        std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
    dir_ = base / ("keylog_fuzzer." + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

const std::filesystem::path& WorkPath() {
  static const WorkDir dir;
  return dir.path();
}

struct Live {
  uint64_t offset;
  KeyRecord record;
};

std::vector<Live> ScanAll(const KeyLog& log) {
  std::vector<Live> out;
  Status s = log.Scan([&](uint64_t offset, const KeyRecord& r) {
    out.push_back({offset, r});
    return medledger::OkStatus();
  });
  FUZZ_CHECK(s.ok());  // the open accepted the log, so every record up to its end parses
  return out;
}

void FuzzFile(std::string_view bytes) {
  const std::filesystem::path file = WorkPath() / "keys.log";
  std::error_code ec;
  std::filesystem::remove(file, ec);
  {
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  // A reader must never change the file, whatever it holds.
  if (auto reader = KeyLog::Open(file, KeyLog::Mode::kReader); reader.ok()) {
    (void)(*reader)->Scan([](uint64_t, const KeyRecord&) { return medledger::OkStatus(); });
  }
  FUZZ_CHECK(std::filesystem::file_size(file) == bytes.size());

  std::vector<Live> seen_on_open;
  auto opened = KeyLog::Open(file, KeyLog::Mode::kOwner, [&](uint64_t offset, const KeyRecord& r) {
    seen_on_open.push_back({offset, r});
    return medledger::OkStatus();
  });
  if (!opened.ok()) {
    FUZZ_CHECK(opened.error().code == "keystore_corrupted" || opened.error().code == "io_error");
    return;
  }
  KeyLog& log = **opened;
  // The owner's open keeps a prefix of the bytes (a torn tail is cut, nothing else changes).
  const uint64_t kept = std::filesystem::file_size(file);
  FUZZ_CHECK(kept <= bytes.size());

  std::vector<Live> live = ScanAll(log);
  FUZZ_CHECK(live.size() == seen_on_open.size());
  for (size_t i = 0; i < live.size(); ++i) {
    FUZZ_CHECK(live[i].offset == seen_on_open[i].offset && Same(live[i].record, seen_on_open[i].record));
    auto again = log.ReadAt(live[i].offset);
    FUZZ_CHECK(again.ok() && Same(*again, live[i].record));
  }

  const KeyRecord fresh{std::string(32, '\x5a'), "key-fuzz", "kek-fuzz", std::string(40, '\x11')};
  auto appended = log.Append(fresh, /*sync=*/false);
  FUZZ_CHECK(appended.ok() && *appended == kept);
  auto back = log.ReadAt(*appended);
  FUZZ_CHECK(back.ok() && Same(*back, fresh));

  if (!live.empty()) {
    const uint64_t gone = live.front().offset;
    FUZZ_CHECK(log.Erase(std::span<const uint64_t>(&gone, 1)).ok());
    auto erased = log.ReadAt(gone);
    FUZZ_CHECK(!erased.ok() && erased.error().code == "key_destroyed");
    live.erase(live.begin());
  }
  live.push_back({*appended, fresh});

  std::vector<KeyRecord> keep;
  for (const auto& l : live) keep.push_back(l.record);
  auto offsets = log.Rewrite(keep);
  FUZZ_CHECK(offsets.ok() && offsets->size() == keep.size());
  std::vector<Live> after = ScanAll(log);
  FUZZ_CHECK(after.size() == keep.size());
  for (size_t i = 0; i < keep.size(); ++i) {
    FUZZ_CHECK(after[i].offset == (*offsets)[i] && Same(after[i].record, keep[i]));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  FuzzDecoder(in);
  FuzzFile(in);
  return 0;
}
