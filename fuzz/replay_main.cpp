// Replays fuzz inputs without libFuzzer, so every build (gcc, ASan+UBSan) runs each target's checked-in
// corpus deterministically: `<target>_replay DIR_OR_FILE...`. Each input goes through the target, and, for
// the structure-aware targets, so do 8 seeded mutations of it by the target's own custom mutator (with the
// byte-level fallback an identity here), which keeps the mutators themselves tested.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);
extern "C" __attribute__((weak)) size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                                                unsigned int seed);

// libFuzzer's byte mutator, which the protobuf mutator falls back on; without libFuzzer it changes nothing.
extern "C" size_t LLVMFuzzerMutate(uint8_t* /*data*/, size_t size, size_t /*max_size*/) {
  return size;
}

namespace {

void RunOne(const std::string& bytes, bool mutate) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!mutate || LLVMFuzzerCustomMutator == nullptr) return;
  for (unsigned seed = 1; seed <= 8; ++seed) {
    std::vector<uint8_t> buf(bytes.begin(), bytes.end());
    buf.resize(bytes.size() * 2 + 4096);
    size_t n = LLVMFuzzerCustomMutator(buf.data(), bytes.size(), buf.size(), seed);
    LLVMFuzzerTestOneInput(buf.data(), std::min(n, buf.size()));
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::filesystem::path> files;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p = argv[i];
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::directory_iterator(p)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
    } else {
      files.push_back(p);
    }
  }
  std::sort(files.begin(), files.end());
  // The coverage script measures what the corpus itself reaches, without the extra mutations.
  const char* no_mutate = std::getenv("MEDLEDGER_REPLAY_NO_MUTATE");
  const bool mutate = no_mutate == nullptr || std::string(no_mutate) != "1";
  if (files.empty()) {
    std::fprintf(stderr, "no inputs\n");
    return 1;  // an empty corpus is a mistake, not a pass
  }
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    RunOne(bytes, mutate);
  }
  std::printf("replayed %zu inputs\n", files.size());
  return 0;
}
