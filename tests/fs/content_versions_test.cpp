// ContentVersions (fs/content_versions.h): which version of a file's
// contents is current, in memory and persisted in the metadata store.
#include "fs/content_versions.h"

#include <stdlib.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "tests/unit/cache/temp_dir.h"

namespace globusfs::fs {
namespace {

constexpr const char* kC = "cccccccc-0000-4000-8000-000000000003";

cache::FileEntry File(uint64_t size, int64_t mtime) {
  cache::FileEntry e;
  e.name = "f";
  e.size = size;
  e.mtime = mtime;
  return e;
}

using cache::testing::TempDir;

// Both modes obey the same rules.
class Versions : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam()) {
      std::string why;
      store_ = cache::MetadataStore::Open(cache::MetadataStoreOptions{dir_.path() / "metadata"}, &why);
      ASSERT_TRUE(store_) << why;
    }
    versions_ = std::make_unique<ContentVersions>(store_.get());
  }
  TempDir dir_;
  std::unique_ptr<cache::MetadataStore> store_;
  std::unique_ptr<ContentVersions> versions_;
};

TEST_P(Versions, TheSameListingReadsTheSameVersion) {
  uint64_t a = versions_->ForRead(kC, "/f", 8, 1000);
  EXPECT_NE(a, 0u);
  EXPECT_EQ(versions_->ForRead(kC, "/f", 8, 1000), a);
  EXPECT_NE(versions_->ForRead(kC, "/g", 8, 1000), a) << "another file";
}

TEST_P(Versions, ARemoteChangeOfSizeOrMtimeIsANewVersion) {
  uint64_t a = versions_->ForRead(kC, "/f", 8, 1000);
  uint64_t b = versions_->ForRead(kC, "/f", 9, 1000);
  EXPECT_NE(a, b);
  uint64_t c = versions_->ForRead(kC, "/f", 9, 1001);
  EXPECT_NE(b, c);
}

TEST_P(Versions, ALocalChangeIsANewVersionEvenAtTheSameSizeAndSecond) {
  // The editor's save: same size, same second.
  uint64_t before = versions_->ForRead(kC, "/f", 8, 1000);
  versions_->Changing(kC, "/f");
  uint64_t during = versions_->ForRead(kC, "/f", 8, 1000);
  EXPECT_NE(during, before) << "a reader during the upload must not reuse the old blocks";
  EXPECT_EQ(versions_->ForRead(kC, "/f", 8, 1000), during) << "readers during the upload share one id";
  uint64_t after = versions_->Changed(kC, "/f", File(8, 1000));
  EXPECT_NE(after, before);
  EXPECT_NE(after, during) << "what was fetched during the upload is never served after it";
  EXPECT_EQ(versions_->ForRead(kC, "/f", 8, 1000), after);
}

TEST_P(Versions, AFailedOrUnknownChangeTrustsNothing) {
  uint64_t before = versions_->ForRead(kC, "/f", 8, 1000);
  versions_->Changing(kC, "/f");
  EXPECT_EQ(versions_->Changed(kC, "/f", std::nullopt), 0u);
  EXPECT_NE(versions_->ForRead(kC, "/f", 8, 1000), before);
}

TEST_P(Versions, ForgetMakesTheNextReadANewVersion) {
  uint64_t before = versions_->ForRead(kC, "/d/f", 8, 1000);
  versions_->Forget(kC, "/d/f");
  EXPECT_NE(versions_->ForRead(kC, "/d/f", 8, 1000), before);
}

INSTANTIATE_TEST_SUITE_P(InMemoryAndStore, Versions, ::testing::Bool());

TEST(VersionsPersistence, AVersionSurvivesARemountButAnUnsettledOneDoesNot) {
  TempDir dir;
  cache::MetadataStoreOptions o{dir.path() / "metadata"};
  std::string why;
  uint64_t kept;
  {
    auto store = cache::MetadataStore::Open(o, &why);
    ASSERT_TRUE(store) << why;
    ContentVersions v(store.get());
    kept = v.ForRead(kC, "/kept", 8, 1000);
    (void)v.ForRead(kC, "/crashed", 8, 1000);
    v.Changing(kC, "/crashed");  // the daemon dies during this upload
  }
  auto store = cache::MetadataStore::Open(o, &why);
  ASSERT_TRUE(store) << why;
  ContentVersions v(store.get());
  EXPECT_EQ(v.ForRead(kC, "/kept", 8, 1000), kept) << "the block cache still hits after a remount";
  uint64_t next = v.ForRead(kC, "/crashed", 8, 1000);
  EXPECT_NE(next, 0u);
  EXPECT_EQ(v.ForRead(kC, "/crashed", 8, 1000), next) << "a new session settles on a fresh id";
}

TEST(VersionsPersistence, RenameAndRemoveInTheStoreForgetVersions) {
  TempDir dir;
  std::string why;
  auto store = cache::MetadataStore::Open(cache::MetadataStoreOptions{dir.path() / "metadata"}, &why);
  ASSERT_TRUE(store) << why;
  ContentVersions v(store.get());
  uint64_t to = v.ForRead(kC, "/to", 8, 1000);
  uint64_t from = v.ForRead(kC, "/from", 8, 1000);
  store->ApplyRename(kC, "/from", "/to", 5000);
  uint64_t now = v.ForRead(kC, "/to", 8, 1000);
  EXPECT_NE(now, to) << "renamed over: the old target's blocks must not be served";
  EXPECT_NE(now, from);
  store->ApplyRemove(kC, "/to", 5000);
  EXPECT_NE(v.ForRead(kC, "/to", 8, 1000), now);
}

}  // namespace
}  // namespace globusfs::fs
