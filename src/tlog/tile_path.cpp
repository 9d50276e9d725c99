#include "tlog/tile_path.h"

#include <charconv>
#include <vector>

#include "common/encoding.h"

namespace medledger::tlog {
namespace {

Error Bad(const std::string& why) {
  return MakeError(ErrorKind::kInvalidArgument, "invalid_tile_path", why);
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// A decimal without leading zeros ("0" itself allowed), at most `max`.
bool ParseDecimal(std::string_view s, uint64_t max, uint64_t* out) {
  if (!AllDigits(s) || (s.size() > 1 && s[0] == '0') || s.size() > 20) return false;
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v > max) return false;
  *out = v;
  return true;
}

}  // namespace

std::string FormatTilePath(const TilePath& tile) {
  std::string out = tile.entries ? "tile/entries" : "tile/" + std::to_string(tile.level);
  std::vector<std::string> groups;
  uint64_t n = tile.index;
  do {
    std::string g = std::to_string(n % 1000);
    groups.push_back(std::string(3 - g.size(), '0') + g);
    n /= 1000;
  } while (n > 0);
  for (size_t i = groups.size(); i-- > 0;) {
    out += i == 0 ? "/" : "/x";
    out += groups[i];
  }
  if (tile.width < kTileWidth) out += ".p/" + std::to_string(tile.width);
  return out;
}

Result<TilePath> ParseTilePath(std::string_view path) {
  if (path.size() > 128) return Bad("tile path too long");
  std::vector<std::string_view> parts = SplitOn(path, '/');
  if (parts.size() < 3 || parts[0] != "tile") return Bad("a tile path is tile/<L>/<N>[.p/<W>]");
  TilePath tile;
  if (parts[1] == "entries") {
    tile.entries = true;
  } else {
    uint64_t level = 0;
    if (!ParseDecimal(parts[1], kMaxTileLevel, &level)) return Bad("the level is a decimal 0..63");
    tile.level = static_cast<int>(level);
  }
  size_t end = parts.size();
  // A partial tile ends in ".p/<W>": the last N group carries the ".p" suffix and W is the final element.
  if (end >= 4 && parts[end - 2].size() == 5 && parts[end - 2].substr(3) == ".p") {
    uint64_t width = 0;
    if (!ParseDecimal(parts[end - 1], kTileWidth - 1, &width) || width == 0) {
      return Bad("a partial tile's width is 1..255");
    }
    tile.width = width;
    parts[end - 2] = parts[end - 2].substr(0, 3);
    --end;
  }
  const size_t groups = end - 2;
  if (groups == 0 || groups > 7) return Bad("the index has 1 to 7 groups");
  uint64_t index = 0;
  for (size_t i = 0; i < groups; ++i) {
    std::string_view g = parts[2 + i];
    const bool last = i + 1 == groups;
    if (!last) {
      if (g.size() != 4 || g[0] != 'x') return Bad("every index group but the last is x<3 digits>");
      g.remove_prefix(1);
    }
    if (g.size() != 3 || !AllDigits(g)) return Bad("index groups are 3 digits");
    if (i == 0 && !last && g == "000") return Bad("the index has no leading zero groups");
    const uint64_t digits = static_cast<uint64_t>((g[0] - '0') * 100 + (g[1] - '0') * 10 + (g[2] - '0'));
    if (index > (UINT64_MAX - digits) / 1000) return Bad("the index overflows");
    index = index * 1000 + digits;
  }
  tile.index = index;
  return tile;
}

}  // namespace medledger::tlog
