// MetadataStore: what it keeps for the filesystem beside the server's data:
// subdirectory counts (link counts) and folder change times.
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

  std::optional<int64_t> Changed(std::string_view dir, int64_t now) {
    return store_->DirChangedAtMs(kColl, dir, now);
  }
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

TEST_F(FsRecordsTest, OurChangesStampTheParentFolderWhileFresh) {
  store_->ApplyCreate(kColl, "/d/f", File("f"), 500);
  EXPECT_EQ(Changed("/d", 500), 500);
  EXPECT_EQ(Changed("/d", 500 + kTtl - 1), 500);
  EXPECT_EQ(Changed("/d", 500 + kTtl), std::nullopt);  // expired like any record
  EXPECT_EQ(Changed("/d", 500 - kTtl), std::nullopt);  // a clock far behind
  EXPECT_EQ(Changed("/d/f", 500), std::nullopt);
  EXPECT_EQ(store_->DirChangedAtMs(kOtherColl, "/d", 500), std::nullopt);

  store_->ApplyRemove(kColl, "/d/f", 700);
  EXPECT_EQ(Changed("/d", 700), 700);                  // the latest change
  store_->ApplyCreate(kColl, "/d/g", File("g"), 650);  // the clock went back a little
  EXPECT_EQ(Changed("/d", 700), 700);
  store_->ApplyCreate(kColl, "/d/h", File("h"), 700 + 5 * kTtl);  // long after: a new record
  EXPECT_EQ(Changed("/d", 700 + 5 * kTtl), 700 + 5 * kTtl);

  store_->ApplyCreate(kColl, "/top", Dir("top"), 800);
  EXPECT_EQ(Changed("/", 800), 800);
}

TEST_F(FsRecordsTest, RenameStampsBothParents) {
  store_->ApplyRename(kColl, "/a/f", "/b/g", 100);
  EXPECT_EQ(Changed("/a", 100), 100);
  EXPECT_EQ(Changed("/b", 100), 100);
  store_->ApplyRename(kColl, "/a/x", "/a/y", 200);
  EXPECT_EQ(Changed("/a", 200), 200);
  EXPECT_EQ(Changed("/b", 200), 100);
  // An invalid rename (into its own subtree) changes nothing.
  store_->ApplyRename(kColl, "/c/d", "/c/d/e", 300);
  EXPECT_EQ(Changed("/c", 300), std::nullopt);
}

TEST_F(FsRecordsTest, ServerDataAndInvalidationLeaveChangeTimesAlone) {
  store_->ApplyCreate(kColl, "/d/f", File("f"), 100);
  store_->PutEntry(kColl, "/e/f", File("f"), 100);  // what the server says is no change of ours
  store_->PutNegative(kColl, "/e/g", 100);
  EXPECT_EQ(Changed("/e", 100), std::nullopt);
  store_->PutListing(kColl, "/d", MakeListing(150, {File("f")}));
  store_->PutEntry(kColl, "/d", Dir("d"), 150);
  store_->Invalidate(kColl, "/d");
  store_->InvalidateSubtree(kColl, "/");
  EXPECT_EQ(Changed("/d", 150), 100);
}

TEST_F(FsRecordsTest, ChangeTimesFollowSubtreeRules) {
  store_->ApplyCreate(kColl, "/a/d/sub/x", File("x"), 100);
  store_->ApplyCreate(kColl, "/a/d/y", File("y"), 100);
  store_->ApplyCreate(kColl, "/a/dx/z", File("z"), 100);
  // A rename moves the records of the folder and below, with their times.
  store_->ApplyRename(kColl, "/a/d", "/b/d", 200);
  EXPECT_EQ(Changed("/b/d", 200), 100);
  EXPECT_EQ(Changed("/b/d/sub", 200), 100);
  EXPECT_EQ(Changed("/a/d", 200), std::nullopt);
  EXPECT_EQ(Changed("/a/d/sub", 200), std::nullopt);
  EXPECT_EQ(Changed("/a", 200), 200);
  EXPECT_EQ(Changed("/b", 200), 200);

  // Removing a folder forgets the records of it and below (not "/a/dx").
  store_->ApplyRemove(kColl, "/b/d", 300);
  EXPECT_EQ(Changed("/b/d", 300), std::nullopt);
  EXPECT_EQ(Changed("/b/d/sub", 300), std::nullopt);
  EXPECT_EQ(Changed("/b", 300), 300);
  EXPECT_EQ(Changed("/a/dx", 300), 100);
  store_->PutNegative(kColl, "/a/dx", 300);  // so does the server saying it is gone
  EXPECT_EQ(Changed("/a/dx", 300), std::nullopt);

  // A file where a folder was: nothing of the folder stays.
  store_->ApplyCreate(kColl, "/c/f/inner", File("inner"), 400);
  EXPECT_EQ(Changed("/c/f", 400), 400);
  store_->PutEntry(kColl, "/c/f", File("f"), 400);
  EXPECT_EQ(Changed("/c/f", 400), std::nullopt);
  EXPECT_EQ(store_->GetStats().dir_changes, 2u);  // "/a" and "/b"
}

}  // namespace
}  // namespace globusfs::cache
