// C2SP tlog-tiles paths: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>], with N written in 3-digit groups
// ("x" before every group but the last: 1234067 -> x001/x234/067). Parsing is strict: exactly one spelling
// is accepted for each tile, so caches and signatures over URLs never see two names for one resource.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::tlog {

inline constexpr int kTileHeight = 8;
inline constexpr uint64_t kTileWidth = 256;  // 2^kTileHeight hashes (or entries) in a full tile
inline constexpr int kMaxTileLevel = 63;

struct TilePath {
  bool entries = false;         // tile/entries/... (leaf data) rather than tile/<L>/... (hashes)
  int level = 0;                // 0..63; 0 for entries
  uint64_t index = 0;           // N
  uint64_t width = kTileWidth;  // 1..256; below 256 it is a partial tile (.p/<W>)

  friend bool operator==(const TilePath&, const TilePath&) = default;
};

// "tile/0/x001/x234/067.p/8" (no leading slash). Requires a valid TilePath (level, width in range).
std::string FormatTilePath(const TilePath& tile);
// Inverse of FormatTilePath; "invalid_tile_path" for anything it would not produce.
Result<TilePath> ParseTilePath(std::string_view path);

}  // namespace medledger::tlog
