#include "source_dir.h"

namespace medledger::testing {

const char* SourceDir() {
  return MEDLEDGER_SOURCE_ROOT;
}
const char* BuildDir() {
  return MEDLEDGER_BUILD_ROOT;
}

}  // namespace medledger::testing
