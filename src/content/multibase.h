// Multibase text encodings used by CIDs: base32 lower without padding (prefix "b", the CIDv1 default) and
// base58btc (prefix "z"; also the bare encoding of CIDv0).
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace medledger::content {

std::string Base32LowerEncode(std::string_view bytes);  // RFC 4648 alphabet, lower case, no padding
// Accepts lower or upper case (not mixed), no padding. "multibase_invalid" on bad input.
Result<std::string> Base32Decode(std::string_view text);

std::string Base58BtcEncode(std::string_view bytes);
Result<std::string> Base58BtcDecode(std::string_view text);

// Decodes "<prefix><payload>" for the prefixes b, B (base32), z (base58btc) and f (base16 lower).
// "multibase_unsupported" for other prefixes.
Result<std::string> MultibaseDecode(std::string_view text);

}  // namespace medledger::content
