// Opaque paging bookmarks. A listing's resume position (a raw ledger key, or a patient ID) is meaningful to the
// server only: it is sealed with AES-256-GCM under a key derived from the master key, and the AAD binds it to
// one scope (the listing, the caller and the listing's filters). A client can neither read the position nor
// replay a bookmark against another listing, another user or other filters: Open refuses with
// `invalid_bookmark`.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "identity/master_key.h"
#include "identity/sealed_file.h"

namespace medledger::service {

// Longest bookmark text a client may send; a sealed ledger key is far shorter.
inline constexpr size_t kMaxBookmarkChars = 2048;

class BookmarkSealer {
 public:
  static Result<BookmarkSealer> Create(const identity::MasterKey& master_key);

  // "" stays "" (no further page).
  Result<std::string> Seal(std::string_view scope, std::string_view position) const;
  // "" opens to "" (the first page). Anything not sealed by this server for `scope` is `invalid_bookmark`.
  Result<std::string> Open(std::string_view scope, std::string_view bookmark) const;

 private:
  explicit BookmarkSealer(identity::SealedFiles sealer) : sealer_(std::move(sealer)) {}
  identity::SealedFiles sealer_;
};

}  // namespace medledger::service
