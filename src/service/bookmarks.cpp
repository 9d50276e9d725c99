#include "service/bookmarks.h"

#include "common/encoding.h"

namespace medledger::service {
namespace {

Error InvalidBookmark() {
  return MakeError(ErrorKind::kInvalidArgument, "invalid_bookmark",
                   "the bookmark was not issued by this server for this listing, caller and filters");
}

}  // namespace

Result<BookmarkSealer> BookmarkSealer::Create(const identity::MasterKey& master_key) {
  ML_ASSIGN_OR_RETURN(auto sealer, identity::SealedFiles::Create(master_key, "paging-bookmarks"));
  return BookmarkSealer(std::move(sealer));
}

Result<std::string> BookmarkSealer::Seal(std::string_view scope, std::string_view position) const {
  if (position.empty()) return std::string();
  ML_ASSIGN_OR_RETURN(auto sealed, sealer_.Seal(position, scope));
  return Base64UrlEncode(sealed);
}

Result<std::string> BookmarkSealer::Open(std::string_view scope, std::string_view bookmark) const {
  if (bookmark.empty()) return std::string();
  if (bookmark.size() > kMaxBookmarkChars) return InvalidBookmark();
  auto sealed = Base64UrlDecode(bookmark);
  if (!sealed.ok()) return InvalidBookmark();
  auto position = sealer_.Open(*sealed, scope);
  if (!position.ok() || position->empty()) return InvalidBookmark();
  return position;
}

}  // namespace medledger::service
