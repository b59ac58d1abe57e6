// MetadataStore: what it keeps for the filesystem beside the server's data:
// subdirectory counts (link counts).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cache/metadata_store.h"
#include "store_test_util.h"

namespace globusfs::cache {
namespace {

using namespace globusfs::cache::testing;  // NOLINT: test helpers

class FsRecordsTest : public ::testing::Test {
 protected:
  void SetUp() override { store_ = OpenStore(Options(tmp_.path() / "meta", kTtl)); }

  std::optional<uint32_t> Subdirs(std::string_view dir, int64_t now = 0) {
    return store_->SubdirCount(kColl, dir, now);
  }

  static constexpr int64_t kTtl = 1000;
  TempDir tmp_;
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(FsRecordsTest, SubdirCountOfACachedListingAtAnyAge) {
  EXPECT_EQ(Subdirs("/d"), std::nullopt);
  store_->PutListing(kColl, "/d", MakeListing(0, {Dir("a"), File("b"), Dir("c")}));
  store_->PutListing(kColl, "/empty", MakeListing(0, {}));
  EXPECT_EQ(Subdirs("/d"), 2u);
  EXPECT_EQ(Subdirs("/d", 100 * kTtl), 2u);  // stale is fine
  EXPECT_EQ(Subdirs("/empty"), 0u);
  EXPECT_EQ(store_->SubdirCount(kOtherColl, "/d", 0), std::nullopt);
  store_->Invalidate(kColl, "/d");
  EXPECT_EQ(Subdirs("/d"), std::nullopt);
}

TEST_F(FsRecordsTest, SubdirCountFollowsCreateRemoveAndRename) {
  store_->PutListing(kColl, "/a", MakeListing(0, {Dir("x"), File("f")}));
  store_->PutListing(kColl, "/b", MakeListing(0, {Dir("y")}));

  store_->ApplyCreate(kColl, "/a/new", Dir("new"), 10);
  EXPECT_EQ(Subdirs("/a"), 2u);
  store_->ApplyCreate(kColl, "/a/file", File("file"), 10);
  EXPECT_EQ(Subdirs("/a"), 2u);
  store_->ApplyCreate(kColl, "/a/f", Dir("f"), 10);  // a folder in place of a file
  EXPECT_EQ(Subdirs("/a"), 3u);
  store_->PutEntry(kColl, "/a/f", File("f"), 10);  // and the server says a file again
  EXPECT_EQ(Subdirs("/a"), 2u);

  store_->ApplyRemove(kColl, "/a/new", 20);
  EXPECT_EQ(Subdirs("/a"), 1u);
  store_->PutNegative(kColl, "/a/x", 20);
  EXPECT_EQ(Subdirs("/a"), 0u);

  store_->ApplyCreate(kColl, "/a/m", Dir("m"), 30);
  store_->ApplyRename(kColl, "/a/m", "/a/n", 30);  // within one folder
  EXPECT_EQ(Subdirs("/a"), 1u);
  store_->ApplyRename(kColl, "/a/n", "/b/n", 30);  // across folders
  EXPECT_EQ(Subdirs("/a"), 0u);
  EXPECT_EQ(Subdirs("/b"), 2u);
  store_->ApplyRename(kColl, "/b/n", "/b/y", 30);  // replacing a folder
  EXPECT_EQ(Subdirs("/b"), 1u);
  // The moved folder's own listing moves with it.
  store_->PutListing(kColl, "/b/y", MakeListing(30, {Dir("inner")}));
  store_->ApplyRename(kColl, "/b/y", "/a/z", 30);
  EXPECT_EQ(Subdirs("/a/z"), 1u);
  EXPECT_EQ(Subdirs("/b/y"), std::nullopt);
}

}  // namespace
}  // namespace globusfs::cache
