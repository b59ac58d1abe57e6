// MetadataStore: listings, TTL, lookups, our own changes (Apply*), subtree
// invalidation. Persistence, eviction and concurrency are in
// metadata_store_persistence_test.cpp.
#include "cache/metadata_store.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "store_test_util.h"

namespace globusfs::cache {
namespace {

using namespace globusfs::cache::testing;  // NOLINT: test helpers
using Lookup = MetadataStore::Lookup;
using Strings = std::vector<std::string>;

class MetadataStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(Options(tmp_.path() / "meta", kTtl)); }

  Lookup Find(std::string_view path, int64_t now, FileEntry* out = nullptr) {
    FileEntry unused;
    return store_->LookupEntry(kColl, path, now, out != nullptr ? out : &unused);
  }

  static constexpr int64_t kTtl = 1000;
  TempDir tmp_;
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(MetadataStoreTest, ListingRoundTripWithOddNames) {
  FileEntry link = File("link");
  link.type = EntryType::kSymlink;
  link.link_target = "/elsewhere/x y";
  FileEntry broken = File("broken");
  broken.type = EntryType::kInvalidSymlink;
  FileEntry negative_mtime = File("old", 12);
  negative_mtime.mtime = -86400;
  const Listing listing =
      MakeListing(500, {File(" leading space"), File("%41%2F not decoded"), File("100%"),
                        File("a\nnew\nline"), File(std::string(255, 'n'), uint64_t{1} << 40),
                        broken, File("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e.txt"), link,
                        negative_mtime, Dir("sub dir")});
  Listing sorted = listing;
  std::sort(sorted.entries.begin(), sorted.entries.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.name < b.name; });

  store_->PutListing(kColl, "/dir with space/\xc3\xbc", listing);
  EXPECT_EQ(store_->GetListing(kColl, "/dir with space/\xc3\xbc", 600), sorted);
  EXPECT_EQ(store_->GetListing(kOtherColl, "/dir with space/\xc3\xbc", 600), std::nullopt);

  for (const FileEntry& e : sorted.entries) {
    FileEntry found;
    ASSERT_EQ(Find("/dir with space/\xc3\xbc/" + e.name, 600, &found), Lookup::kFound) << e.name;
    EXPECT_EQ(found, e);
  }
}

TEST_F(MetadataStoreTest, EmptyListingIsAHitAndRootWorks) {
  store_->PutListing(kColl, "/", MakeListing(0, {}));
  const auto got = store_->GetListing(kColl, "/", 10);
  ASSERT_TRUE(got.has_value());
  EXPECT_TRUE(got->entries.empty());
  EXPECT_EQ(Find("/anything", 10), Lookup::kMissing);
}

TEST_F(MetadataStoreTest, UnsortedListingIsStoredSortedWithoutDuplicates) {
  store_->PutListing(kColl, "/d",
                     MakeListing(0, {File("c"), File("a", 1), File("b"), File("a", 2)}));
  const auto got = store_->GetListing(kColl, "/d", 0);
  EXPECT_EQ(Names(got), (Strings{"a", "b", "c"}));
  EXPECT_EQ(got->entries[0].size, 1u);  // the first of two duplicates wins
}

TEST_F(MetadataStoreTest, TtlExpiryAndAllowStale) {
  store_->PutListing(kColl, "/d", MakeListing(10000, {File("f")}));
  EXPECT_TRUE(store_->GetListing(kColl, "/d", 10000 + kTtl - 1).has_value());
  EXPECT_FALSE(store_->GetListing(kColl, "/d", 10000 + kTtl).has_value());
  const auto stale = store_->GetListing(kColl, "/d", 10000 + 50 * kTtl, /*allow_stale=*/true);
  ASSERT_TRUE(stale.has_value());
  EXPECT_EQ(stale->fetched_at_ms, 10000);
  // A clock that went back a long way does not make old data fresh forever.
  EXPECT_TRUE(store_->GetListing(kColl, "/d", 10000 - kTtl + 1).has_value());
  EXPECT_FALSE(store_->GetListing(kColl, "/d", 10000 - kTtl).has_value());
  EXPECT_FALSE(store_->GetListing(kColl, "/absent", 0, true).has_value());
}

TEST_F(MetadataStoreTest, LookupFromParentListing) {
  store_->PutListing(kColl, "/d", MakeListing(0, {File("f", 7), Dir("sub")}));
  FileEntry e;
  EXPECT_EQ(Find("/d/f", 10, &e), Lookup::kFound);
  EXPECT_EQ(e, File("f", 7));
  EXPECT_EQ(Find("/d/sub", 10, &e), Lookup::kFound);
  EXPECT_EQ(e.type, EntryType::kDir);
  EXPECT_EQ(Find("/d/nope", 10), Lookup::kMissing);   // the listing is complete
  EXPECT_EQ(Find("/d/f", kTtl), Lookup::kUnknown);    // expired
  EXPECT_EQ(Find("/d/sub/x", 10), Lookup::kUnknown);  // "/d/sub" not listed
}

TEST_F(MetadataStoreTest, LookupFromAttributeAndNegativeRecords) {
  store_->PutEntry(kColl, "/p/file", File("ignored-name", 3), 100);
  FileEntry e;
  ASSERT_EQ(Find("/p/file", 100, &e), Lookup::kFound);
  EXPECT_EQ(e.name, "file");  // the name is the path's last component
  EXPECT_EQ(e.size, 3u);
  EXPECT_EQ(Find("/p/file", 100 + kTtl), Lookup::kUnknown);

  store_->PutNegative(kColl, "/p/gone", 200);
  EXPECT_EQ(Find("/p/gone", 200), Lookup::kMissing);
  EXPECT_EQ(Find("/p/gone", 200 + kTtl), Lookup::kUnknown);
  EXPECT_EQ(Find("/p/never", 200), Lookup::kUnknown);

  // A stat after a negative replaces it, and vice versa.
  store_->PutEntry(kColl, "/p/gone", File("gone"), 300);
  EXPECT_EQ(Find("/p/gone", 300), Lookup::kFound);
  store_->PutNegative(kColl, "/p/file", 300);
  EXPECT_EQ(Find("/p/file", 300), Lookup::kMissing);

  // The root has no parent: only its own record answers.
  EXPECT_EQ(Find("/", 300), Lookup::kUnknown);
  store_->PutEntry(kColl, "/", Dir(""), 300);
  EXPECT_EQ(Find("/", 300, &e), Lookup::kFound);
  EXPECT_EQ(e.type, EntryType::kDir);
}

TEST_F(MetadataStoreTest, FreshParentListingWinsOverOwnRecord) {
  store_->PutNegative(kColl, "/d/f", 0);
  store_->PutListing(kColl, "/d", MakeListing(5, {File("f")}));
  EXPECT_EQ(Find("/d/f", 10), Lookup::kFound);
  // PutListing also drops a negative record of the listed directory itself.
  store_->PutNegative(kColl, "/e", 0);
  store_->PutListing(kColl, "/e", MakeListing(5, {}));
  EXPECT_EQ(Find("/e", 10), Lookup::kUnknown);
}

TEST_F(MetadataStoreTest, PutEntryAndPutNegativeKeepParentListingInStep) {
  store_->PutListing(kColl, "/d", MakeListing(0, {File("a", 1), File("b", 1)}));
  store_->PutEntry(kColl, "/d/a", File("a", 99), 500);
  store_->PutEntry(kColl, "/d/c", File("c", 5), 500);
  store_->PutNegative(kColl, "/d/b", 500);
  const auto got = store_->GetListing(kColl, "/d", 500);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->fetched_at_ms, 0);  // patched in place: no fresher than before
  EXPECT_EQ(Names(got), (Strings{"a", "c"}));
  EXPECT_EQ(got->entries[0].size, 99u);
}

TEST_F(MetadataStoreTest, ApplyCreateAddsReplacesAndDropsNegative) {
  store_->PutListing(kColl, "/d", MakeListing(100, {File("a", 1), File("z", 1)}));
  store_->PutNegative(kColl, "/d/m", 150);
  EXPECT_EQ(Find("/d/m", 150), Lookup::kMissing);

  store_->ApplyCreate(kColl, "/d/m", File("m", 4), 200);
  store_->ApplyCreate(kColl, "/d/a", File("a", 2), 200);
  const auto got = store_->GetListing(kColl, "/d", 200);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->fetched_at_ms, 100);
  EXPECT_EQ(Names(got), (Strings{"a", "m", "z"}));
  EXPECT_EQ(got->entries[0].size, 2u);
  FileEntry e;
  EXPECT_EQ(Find("/d/m", 200, &e), Lookup::kFound);
  EXPECT_EQ(e.size, 4u);

  // Without a cached parent listing the attribute record answers.
  store_->ApplyCreate(kColl, "/unlisted/new", File("new", 8), 200);
  EXPECT_EQ(Find("/unlisted/new", 200, &e), Lookup::kFound);
  EXPECT_EQ(e.size, 8u);
  EXPECT_FALSE(store_->GetListing(kColl, "/unlisted", 200, true).has_value());

  // A stale parent listing is patched too (allow_stale readers see it).
  store_->ApplyCreate(kColl, "/d/late", File("late"), 100 + 10 * kTtl);
  EXPECT_EQ(Names(store_->GetListing(kColl, "/d", 0, true)), (Strings{"a", "late", "m", "z"}));
}

TEST_F(MetadataStoreTest, ApplyRemoveForgetsSubtreeAndRecordsMissing) {
  store_->PutListing(kColl, "/a", MakeListing(0, {Dir("d"), Dir("dx"), File("f")}));
  store_->PutListing(kColl, "/a/d", MakeListing(0, {Dir("sub")}));
  store_->PutListing(kColl, "/a/d/sub", MakeListing(0, {File("y")}));
  store_->PutEntry(kColl, "/a/d/sub/y", File("y"), 0);
  store_->PutListing(kColl, "/a/dx", MakeListing(0, {File("z")}));

  store_->ApplyRemove(kColl, "/a/d", 10);
  EXPECT_EQ(Names(store_->GetListing(kColl, "/a", 10)), (Strings{"dx", "f"}));
  EXPECT_FALSE(store_->GetListing(kColl, "/a/d", 10, true).has_value());
  EXPECT_FALSE(store_->GetListing(kColl, "/a/d/sub", 10, true).has_value());
  EXPECT_EQ(Find("/a/d/sub/y", 10), Lookup::kUnknown);
  EXPECT_EQ(Find("/a/d", 10), Lookup::kMissing);
  EXPECT_EQ(Names(store_->GetListing(kColl, "/a/dx", 10)), (Strings{"z"}));
  // Once the parent listing expires, the negative record still answers.
  EXPECT_EQ(Find("/a/d", 10 + kTtl - 1), Lookup::kMissing);
}

TEST_F(MetadataStoreTest, PutEntryOfNonDirectoryDropsListingsBelow) {
  store_->PutListing(kColl, "/x", MakeListing(0, {File("y")}));
  store_->PutListing(kColl, "/x/y", MakeListing(0, {}));
  store_->PutEntry(kColl, "/x", File("x"), 5);
  EXPECT_FALSE(store_->GetListing(kColl, "/x", 5, true).has_value());
  EXPECT_FALSE(store_->GetListing(kColl, "/x/y", 5, true).has_value());
}

class RenameTest : public MetadataStoreTest {
 protected:
  void SetUp() override {
    MetadataStoreTest::SetUp();
    store_->PutListing(kColl, "/a", MakeListing(100, {Dir("d"), Dir("dx"), File("f", 5)}));
    store_->PutListing(kColl, "/a/d", MakeListing(100, {Dir("sub"), File("x")}));
    store_->PutListing(kColl, "/a/d/sub", MakeListing(100, {File("y")}));
    store_->PutNegative(kColl, "/a/d/sub/nope", 100);
    store_->PutListing(kColl, "/a/dx", MakeListing(100, {File("z")}));
    store_->PutListing(kColl, "/b", MakeListing(200, {File("old", 1), File("target", 1)}));
  }
};

TEST_F(RenameTest, FileWithinOneDirectory) {
  store_->ApplyRename(kColl, "/a/f", "/a/g", 300);
  const auto a = store_->GetListing(kColl, "/a", 300);
  EXPECT_EQ(Names(a), (Strings{"d", "dx", "g"}));
  EXPECT_EQ(a->fetched_at_ms, 100);
  FileEntry e;
  EXPECT_EQ(Find("/a/g", 300, &e), Lookup::kFound);
  EXPECT_EQ(e.size, 5u);
  EXPECT_EQ(Find("/a/f", 300), Lookup::kMissing);
  EXPECT_EQ(Find("/a/f", 100 + kTtl + 1), Lookup::kMissing);  // negative outlives the listing
}

TEST_F(RenameTest, FileReplacingAnExistingTarget) {
  store_->ApplyRename(kColl, "/a/f", "/b/target", 300);
  EXPECT_EQ(Names(store_->GetListing(kColl, "/a", 300)), (Strings{"d", "dx"}));
  const auto b = store_->GetListing(kColl, "/b", 300);
  EXPECT_EQ(Names(b), (Strings{"old", "target"}));
  EXPECT_EQ(b->entries[1].size, 5u);  // the source's attributes
  EXPECT_EQ(b->fetched_at_ms, 200);
}

TEST_F(RenameTest, DirectoryMovesItsSubtreeListings) {
  store_->ApplyRename(kColl, "/a/d", "/b/d", 300);
  EXPECT_EQ(Names(store_->GetListing(kColl, "/a", 300)), (Strings{"dx", "f"}));
  EXPECT_EQ(Names(store_->GetListing(kColl, "/b", 300)), (Strings{"d", "old", "target"}));
  const auto moved = store_->GetListing(kColl, "/b/d", 300);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->fetched_at_ms, 100);  // moved, not refreshed
  EXPECT_EQ(Names(moved), (Strings{"sub", "x"}));
  EXPECT_EQ(Names(store_->GetListing(kColl, "/b/d/sub", 300)), (Strings{"y"}));
  EXPECT_EQ(Find("/b/d/sub/nope", 300), Lookup::kMissing);
  EXPECT_FALSE(store_->GetListing(kColl, "/a/d", 300, true).has_value());
  EXPECT_FALSE(store_->GetListing(kColl, "/a/d/sub", 300, true).has_value());
  EXPECT_EQ(Find("/a/d", 300), Lookup::kMissing);
  EXPECT_EQ(Find("/a/d/sub/nope", 300), Lookup::kUnknown);
  // "/a/dx" shares a prefix with "/a/d" but is not under it.
  EXPECT_EQ(Names(store_->GetListing(kColl, "/a/dx", 300)), (Strings{"z"}));
  FileEntry e;
  EXPECT_EQ(Find("/b/d", 300, &e), Lookup::kFound);
  EXPECT_EQ(e.type, EntryType::kDir);
}

TEST_F(RenameTest, DirectoryReplacingADirectoryForgetsTheOldTree) {
  store_->PutListing(kColl, "/b", MakeListing(200, {Dir("e")}));
  store_->PutListing(kColl, "/b/e", MakeListing(200, {Dir("deeper")}));
  store_->PutListing(kColl, "/b/e/deeper", MakeListing(200, {File("q")}));
  store_->ApplyRename(kColl, "/a/d", "/b/e", 300);
  EXPECT_EQ(Names(store_->GetListing(kColl, "/b/e", 300)), (Strings{"sub", "x"}));
  EXPECT_FALSE(store_->GetListing(kColl, "/b/e/deeper", 300, true).has_value());
  EXPECT_EQ(Names(store_->GetListing(kColl, "/b/e/sub", 300)), (Strings{"y"}));
  EXPECT_EQ(Names(store_->GetListing(kColl, "/b", 300)), (Strings{"e"}));
}

TEST_F(RenameTest, UnknownSourceForgetsTargetParentListing) {
  store_->ApplyRename(kColl, "/c/f", "/b/g", 300);
  EXPECT_FALSE(store_->GetListing(kColl, "/b", 300, true).has_value());
  EXPECT_EQ(Find("/c/f", 300), Lookup::kMissing);
  EXPECT_EQ(Find("/b/g", 300), Lookup::kUnknown);
}

TEST_F(RenameTest, StaleSourceCountsAsUnknown) {
  const int64_t later = 100 + kTtl + 50;  // "/a" is stale, "/b" still fresh
  store_->ApplyRename(kColl, "/a/f", "/b/g", later);
  EXPECT_FALSE(store_->GetListing(kColl, "/b", later, true).has_value());
  EXPECT_EQ(Names(store_->GetListing(kColl, "/a", later, true)), (Strings{"d", "dx"}));
}

TEST_F(RenameTest, IntoItsOwnSubtreeOnlyForgets) {
  store_->ApplyRename(kColl, "/a/d", "/a/d/sub/d", 300);
  EXPECT_FALSE(store_->GetListing(kColl, "/a", 300, true).has_value());
  EXPECT_FALSE(store_->GetListing(kColl, "/a/d", 300, true).has_value());
  EXPECT_TRUE(store_->GetListing(kColl, "/a/dx", 300).has_value());
}

TEST_F(RenameTest, InvalidateSubtreeIsPrefixSafe) {
  store_->PutListing(kColl, "/a/d-x", MakeListing(100, {}));
  store_->PutEntry(kColl, "/a/dx/z", File("z"), 100);
  store_->InvalidateSubtree(kColl, "/a/d");
  EXPECT_FALSE(store_->GetListing(kColl, "/a/d", 150, true).has_value());
  EXPECT_FALSE(store_->GetListing(kColl, "/a/d/sub", 150, true).has_value());
  EXPECT_EQ(Find("/a/d/sub/nope", 150), Lookup::kUnknown);
  EXPECT_TRUE(store_->GetListing(kColl, "/a/dx", 150).has_value());
  EXPECT_TRUE(store_->GetListing(kColl, "/a/d-x", 150).has_value());
  EXPECT_TRUE(store_->GetListing(kColl, "/a", 150).has_value());  // the parent stays
  store_->Invalidate(kColl, "/a/dx/z");
  store_->Invalidate(kColl, "/a/dx");
  EXPECT_FALSE(store_->GetListing(kColl, "/a/dx", 150, true).has_value());
}

TEST_F(RenameTest, InvalidateSubtreeOfRootKeepsOtherCollections) {
  store_->PutListing(kOtherColl, "/a", MakeListing(100, {File("other")}));
  store_->InvalidateSubtree(kColl, "/");
  EXPECT_EQ(store_->GetStats().listings, 1u);
  EXPECT_TRUE(store_->GetListing(kOtherColl, "/a", 150).has_value());
}

TEST_F(RenameTest, StatsAndClear) {
  auto stats = store_->GetStats();
  EXPECT_EQ(stats.listings, 5u);
  EXPECT_EQ(stats.entries, 1u);  // the negative record
  EXPECT_GT(stats.bytes, 0u);
  EXPECT_EQ(stats.write_failures, 0u);
  store_->Clear();
  stats = store_->GetStats();
  EXPECT_EQ(stats.listings, 0u);
  EXPECT_EQ(stats.entries, 0u);
  EXPECT_EQ(stats.bytes, 0u);
  store_->PutListing(kColl, "/a", MakeListing(100, {}));
  EXPECT_TRUE(store_->GetListing(kColl, "/a", 100).has_value());
}

}  // namespace
}  // namespace globusfs::cache
