// MetadataStore: what it keeps for the filesystem beside the server's data:
// subdirectory counts (link counts), folder change times, content versions
// and user-set times.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "cache/metadata_store.h"
#include "store_test_util.h"

namespace globusfs::cache {
namespace {

using namespace globusfs::cache::testing;  // NOLINT: test helpers
using I64 = std::numeric_limits<int64_t>;

ContentVersion Version(uint64_t id) {
  ContentVersion v;
  v.id = id;
  v.size = 100 + id;
  v.mtime = 1700000000;
  return v;
}

UserTimes Times(int64_t mtime_s) {
  UserTimes t;
  t.atime_s = mtime_s + 1;
  t.atime_ns = 999999999;
  t.mtime_s = mtime_s;
  t.mtime_ns = 123456789;
  t.server_size = 10;
  t.server_mtime = 1700000000;
  return t;
}

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

TEST_F(FsRecordsTest, VersionsAndTimesRoundTripAndNeverExpire) {
  ContentVersion v;
  v.id = std::numeric_limits<uint64_t>::max();
  v.size = uint64_t{1} << 50;
  v.mtime = -86400;
  v.settled = false;
  v.session = 77;
  store_->PutVersion(kColl, "/f", v);
  EXPECT_EQ(store_->GetVersion(kColl, "/f"), v);
  EXPECT_EQ(store_->GetVersion(kOtherColl, "/f"), std::nullopt);
  EXPECT_EQ(store_->GetVersion(kColl, "/g"), std::nullopt);
  store_->PutVersion(kColl, "/f", Version(2));
  EXPECT_EQ(store_->GetVersion(kColl, "/f"), Version(2));
  store_->EraseVersion(kColl, "/f");
  EXPECT_EQ(store_->GetVersion(kColl, "/f"), std::nullopt);

  // Times before 1970, after 2038, and the extremes of 64 bits.
  for (const UserTimes& t : {Times(-1'000'000'000'000'000'000), Times(4'102'444'800'000'000'000),
                             UserTimes{I64::min(), 999999999, I64::max(), 0, ~uint64_t{0}, I64::min()}}) {
    store_->PutTimes(kColl, "/f", t);
    EXPECT_EQ(store_->GetTimes(kColl, "/f"), t);
  }
  store_->EraseTimes(kColl, "/f");
  EXPECT_EQ(store_->GetTimes(kColl, "/f"), std::nullopt);
  EXPECT_EQ(store_->GetTimes(kColl, "/none"), std::nullopt);
}

TEST_F(FsRecordsTest, ServerDataAndInvalidationKeepVersionsAndTimes) {
  store_->PutListing(kColl, "/d", MakeListing(0, {File("f", 1)}));
  store_->PutVersion(kColl, "/d/f", Version(1));
  store_->PutTimes(kColl, "/d/f", Times(5));
  // A refreshed listing (and its expiry), a stat, invalidations: the block
  // cache must still hit, and the filesystem compares server_size itself.
  store_->PutListing(kColl, "/d", MakeListing(50 * kTtl, {File("f", 2)}));
  store_->PutEntry(kColl, "/d/f", File("f", 3), 60 * kTtl);
  store_->Invalidate(kColl, "/d/f");
  store_->InvalidateSubtree(kColl, "/d");
  store_->ApplyCreate(kColl, "/d/other", File("other"), 0);
  EXPECT_EQ(store_->GetVersion(kColl, "/d/f"), Version(1));
  EXPECT_EQ(store_->GetTimes(kColl, "/d/f"), Times(5));
}

TEST_F(FsRecordsTest, RemoveAndNegativeForgetVersionsAndTimesOfTheSubtree) {
  for (const char* path : {"/a/d", "/a/d/f", "/a/d/sub/g", "/a/dx", "/b/f"}) {
    store_->PutVersion(kColl, path, Version(1));
    store_->PutTimes(kColl, path, Times(1));
  }
  store_->ApplyRemove(kColl, "/a/d", 10);
  for (const char* path : {"/a/d", "/a/d/f", "/a/d/sub/g"}) {
    EXPECT_EQ(store_->GetVersion(kColl, path), std::nullopt) << path;
    EXPECT_EQ(store_->GetTimes(kColl, path), std::nullopt) << path;
  }
  EXPECT_EQ(store_->GetVersion(kColl, "/a/dx"), Version(1));
  EXPECT_EQ(store_->GetTimes(kColl, "/a/dx"), Times(1));
  store_->PutNegative(kColl, "/b/f", 10);
  EXPECT_EQ(store_->GetVersion(kColl, "/b/f"), std::nullopt);
  EXPECT_EQ(store_->GetTimes(kColl, "/b/f"), std::nullopt);
}

TEST_F(FsRecordsTest, CreatingAFileForgetsTheOldOnesVersionAndTimes) {
  store_->PutVersion(kColl, "/f", Version(1));
  store_->PutTimes(kColl, "/f", Times(1));
  store_->PutVersion(kColl, "/d", Version(2));
  store_->PutTimes(kColl, "/d", Times(2));
  store_->ApplyCreate(kColl, "/f", File("f"), 10);
  EXPECT_EQ(store_->GetVersion(kColl, "/f"), std::nullopt);
  EXPECT_EQ(store_->GetTimes(kColl, "/f"), std::nullopt);
  store_->ApplyCreate(kColl, "/d", Dir("d"), 10);  // only a non-directory replaces content
  EXPECT_EQ(store_->GetVersion(kColl, "/d"), Version(2));
  EXPECT_EQ(store_->GetTimes(kColl, "/d"), Times(2));
}

TEST_F(FsRecordsTest, RenameDropsVersionsAndMovesTimes) {
  store_->PutListing(kColl, "/a", MakeListing(0, {File("f"), Dir("d")}));
  store_->PutVersion(kColl, "/a/f", Version(1));
  store_->PutTimes(kColl, "/a/f", Times(1));
  store_->PutVersion(kColl, "/b/g", Version(2));  // the target's own records
  store_->PutTimes(kColl, "/b/g", Times(2));
  store_->ApplyRename(kColl, "/a/f", "/b/g", 10);
  EXPECT_EQ(store_->GetVersion(kColl, "/a/f"), std::nullopt);
  EXPECT_EQ(store_->GetVersion(kColl, "/b/g"), std::nullopt);  // a renamed file: no version
  EXPECT_EQ(store_->GetTimes(kColl, "/a/f"), std::nullopt);
  EXPECT_EQ(store_->GetTimes(kColl, "/b/g"), Times(1));  // the times go with the file

  // A folder: the records below move (times) or go (versions); a target
  // without times of its own loses the old ones.
  store_->PutVersion(kColl, "/a/d/x", Version(3));
  store_->PutTimes(kColl, "/a/d/x", Times(3));
  store_->PutTimes(kColl, "/a/d", Times(4));
  store_->PutTimes(kColl, "/c/d/old", Times(5));
  store_->ApplyRename(kColl, "/a/d", "/c/d", 20);
  EXPECT_EQ(store_->GetTimes(kColl, "/c/d"), Times(4));
  EXPECT_EQ(store_->GetTimes(kColl, "/c/d/x"), Times(3));
  EXPECT_EQ(store_->GetTimes(kColl, "/c/d/old"), std::nullopt);
  EXPECT_EQ(store_->GetVersion(kColl, "/c/d/x"), std::nullopt);
  EXPECT_EQ(store_->GetVersion(kColl, "/a/d/x"), std::nullopt);
  EXPECT_EQ(store_->GetTimes(kColl, "/a/d/x"), std::nullopt);

  // Moving a file over one with times, from a source without: none remain.
  store_->PutTimes(kColl, "/c/t", Times(6));
  store_->ApplyRename(kColl, "/c/plain", "/c/t", 30);
  EXPECT_EQ(store_->GetTimes(kColl, "/c/t"), std::nullopt);
  const auto stats = store_->GetStats();
  EXPECT_EQ(stats.versions, 0u);
  EXPECT_EQ(stats.times, 3u);  // "/b/g", "/c/d", "/c/d/x"
}

}  // namespace
}  // namespace globusfs::cache
