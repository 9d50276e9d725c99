// Paging bookmarks are opaque and bound to their scope (issue 15 item 5): the position cannot be read from the
// bookmark, and a bookmark opens only for the scope (listing, caller, filters) and the key it was sealed with.
#include "service/bookmarks.h"

#include <gtest/gtest.h>

#include "common/encoding.h"

namespace medledger::service {
namespace {

BookmarkSealer Sealer(char fill) {
  return BookmarkSealer::Create(identity::MasterKey::FromBytes(std::string(32, fill))).value();
}

TEST(BookmarkSealerTest, RoundTripsAndRevealsNothing) {
  const BookmarkSealer sealer = Sealer('k');
  const std::string position = HexEncode(std::string("\0patientreport\0ref\0report-0042\0", 31));
  auto sealed = sealer.Seal("[\"reports\",\"dr.grey\",\"ref\"]", position);
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(sealed->find(position), std::string::npos);
  EXPECT_EQ(sealed->find("report-0042"), std::string::npos);
  auto raw = Base64UrlDecode(*sealed);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->find("report-0042"), std::string::npos);
  EXPECT_EQ(sealer.Open("[\"reports\",\"dr.grey\",\"ref\"]", *sealed).value(), position);
  // Two seals of one position differ (fresh nonce), so equal positions cannot be linked.
  EXPECT_NE(sealer.Seal("s", position).value(), sealer.Seal("s", position).value());
  // The first and the last page.
  EXPECT_EQ(sealer.Seal("s", "").value(), "");
  EXPECT_EQ(sealer.Open("s", "").value(), "");
}

TEST(BookmarkSealerTest, RefusesAnyOtherScopeKeyOrText) {
  const BookmarkSealer sealer = Sealer('k');
  const std::string sealed = sealer.Seal("[\"access-log\",\"alice\",\"p1\"]", "00aa").value();
  for (const char* scope : {"[\"access-log\",\"audrey\",\"p1\"]", "[\"access-log\",\"alice\",\"p2\"]",
                            "[\"patient-reports\",\"alice\",\"p1\"]", ""}) {
    auto r = sealer.Open(scope, sealed);
    ASSERT_FALSE(r.ok()) << scope;
    EXPECT_EQ(r.error().code, "invalid_bookmark");
  }
  EXPECT_EQ(Sealer('x').Open("[\"access-log\",\"alice\",\"p1\"]", sealed).error().code, "invalid_bookmark");
  std::string tampered = sealed;
  tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
  for (const std::string& text :
       {tampered, std::string("00aa"), std::string("not base64!"), std::string(3000, 'A'), sealed.substr(0, 10)}) {
    auto r = sealer.Open("[\"access-log\",\"alice\",\"p1\"]", text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.error().code, "invalid_bookmark");
  }
}

}  // namespace
}  // namespace medledger::service
