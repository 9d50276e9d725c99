// Fabric's read-write set vocabulary: the versions a transaction read and the keys it wrote. The wire
// parser fills these from a transaction; the state database stores and checks them. Header-only, so the
// storage library can use the types without linking the wire format's protobuf code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace medledger::ledger::wire {

// Fabric's bound on a state key; a transaction writing a longer one is invalid (BAD_RWSET).
inline constexpr size_t kMaxKeySize = 4 * 1024;

// The height at which a key was last written, as Fabric's version: (block number, tx number).
struct Version {
  uint64_t block = 0;
  uint32_t tx = 0;
  friend bool operator==(const Version&, const Version&) = default;
};

struct KeyWrite {
  std::string ns;  // chaincode namespace, e.g. "records"
  std::string key;
  std::optional<std::string> value;  // nullopt: delete
};

// A range the transaction read, with the version of every key it saw.
struct RangeRead {
  std::string start;
  std::string end;
  bool exhausted = true;  // false: the query stopped at a page limit; revalidate only the keys it saw
  std::vector<std::pair<std::string, Version>> keys;
};

}  // namespace medledger::ledger::wire
