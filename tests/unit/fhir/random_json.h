// Random JSON of every type, for the "no mapping throws" properties: objects draw their member names from
// `keys`, so each test aims the shapes at the members its mapping reads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <random>
#include <span>
#include <string>

namespace medledger::fhir::testing {

inline nlohmann::json RandomJson(std::mt19937_64& rng, int depth, std::span<const char* const> keys) {
  switch (rng() % (depth > 3 ? 6 : 8)) {
    case 0: return nullptr;
    case 1: return static_cast<bool>(rng() & 1);
    case 2: return static_cast<int64_t>(rng());
    case 3: return static_cast<double>(rng() % 1000) / 7.0;
    case 4: return "Patient/" + std::to_string(rng() % 100);
    case 5: return static_cast<uint64_t>(rng());
    case 6: {
      nlohmann::json a = nlohmann::json::array();
      for (int i = static_cast<int>(rng() % 4); i > 0; --i) a.push_back(RandomJson(rng, depth + 1, keys));
      return a;
    }
    default: {
      nlohmann::json o = nlohmann::json::object();
      for (int i = static_cast<int>(rng() % 5); i > 0; --i)
        o[keys[rng() % keys.size()]] = RandomJson(rng, depth + 1, keys);
      return o;
    }
  }
}

}  // namespace medledger::fhir::testing
