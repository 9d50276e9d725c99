// Where the checkout and the build tree are, for tests that start peers from tests/peers, read docs/examples or
// build helper programs. The paths are compiled into one small object (source_dir.cpp, library
// medledger_test_paths) instead of being defined on every test's command line: a path on the command line makes
// each test object differ between two clones, so the compiler cache could never reuse one.
#pragma once

namespace medledger::testing {

const char* SourceDir();  // the checkout's root, absolute
const char* BuildDir();   // the CMake build tree, absolute

}  // namespace medledger::testing

// Spelled as the old compile definition, so `std::string(MEDLEDGER_SOURCE_DIR) + "/tests/peers"` reads as before.
#define MEDLEDGER_SOURCE_DIR (::medledger::testing::SourceDir())
#define MEDLEDGER_BUILD_DIR (::medledger::testing::BuildDir())
