// MetadataStore when writes fail: what it forgets, clears or disables, what
// on_error hears (and how often), and that it works again afterwards.
// Failures come from the write_fault_for_testing hook.
#include <gtest/gtest.h>
#include <lmdb.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cache/metadata_store.h"
#include "store_test_util.h"

namespace globusfs::cache {
namespace {

using namespace globusfs::cache::testing;  // NOLINT: test helpers
using Lookup = MetadataStore::Lookup;
using Strings = std::vector<std::string>;

// Shared with the store's hooks: faults to inject, messages heard, the clock.
struct Hooks {
  std::mutex mu;
  int faults_left = 0;  // the next this many write txns fail with `code`
  int code = ENOSPC;
  Strings messages;
  int64_t steady_ms = 0;
};

class MetadataStoreFailureTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open(uint64_t max_bytes = uint64_t{256} << 20) {
    auto options = Options(tmp_.path() / "meta", kTtl);
    options.max_bytes = max_bytes;
    std::shared_ptr<Hooks> hooks = hooks_;
    options.on_error = [hooks](const std::string& message) {
      std::lock_guard<std::mutex> lock(hooks->mu);
      hooks->messages.push_back(message);
    };
    options.steady_now_ms = [hooks] {
      std::lock_guard<std::mutex> lock(hooks->mu);
      return hooks->steady_ms;
    };
    options.write_fault_for_testing = [hooks] {
      std::lock_guard<std::mutex> lock(hooks->mu);
      if (hooks->faults_left == 0) return 0;
      if (hooks->faults_left > 0) --hooks->faults_left;  // < 0: fail forever
      return hooks->code;
    };
    store_.reset();
    store_ = OpenStore(options);
  }

  void FailNext(int count, int code = ENOSPC) {
    std::lock_guard<std::mutex> lock(hooks_->mu);
    hooks_->faults_left = count;
    hooks_->code = code;
  }
  Strings Messages() {
    std::lock_guard<std::mutex> lock(hooks_->mu);
    return hooks_->messages;
  }
  void AdvanceSteadyMs(int64_t ms) {
    std::lock_guard<std::mutex> lock(hooks_->mu);
    hooks_->steady_ms += ms;
  }

  Lookup Find(std::string_view path, int64_t now, FileEntry* out = nullptr) {
    FileEntry unused;
    return store_->LookupEntry(kColl, path, now, out != nullptr ? out : &unused);
  }
  bool Listed(std::string_view dir) {
    return store_->GetListing(kColl, dir, 0, /*allow_stale=*/true).has_value();
  }
  // A small cached tree: "/d" {f, sub}, "/d/sub" {x}, "/e" {g}, attributes.
  void Populate() {
    store_->PutListing(kColl, "/d", MakeListing(0, {File("f", 1), Dir("sub")}));
    store_->PutListing(kColl, "/d/sub", MakeListing(0, {File("x")}));
    store_->PutEntry(kColl, "/d/sub/x", File("x", 2), 0);
    store_->PutListing(kColl, "/e", MakeListing(0, {File("g")}));
  }
  // The store takes writes again and serves them.
  void ExpectWorks() {
    store_->PutListing(kColl, "/after", MakeListing(0, {File("ok")}));
    EXPECT_EQ(Names(store_->GetListing(kColl, "/after", 0)), (Strings{"ok"}));
    store_->ApplyCreate(kColl, "/after/new", File("new", 3), 0);
    EXPECT_EQ(Find("/after/new", 0), Lookup::kFound);
  }

  static constexpr int64_t kTtl = 10000;
  std::shared_ptr<Hooks> hooks_ = std::make_shared<Hooks>();
  TempDir tmp_;
  std::unique_ptr<MetadataStore> store_;
};

TEST_F(MetadataStoreFailureTest, FailedCreateForgetsWhatItWouldHaveChanged) {
  Populate();
  FailNext(1);
  store_->ApplyCreate(kColl, "/d/new", File("new", 5), 10);
  // The parent listing (which would have lacked "new") is forgotten rather
  // than answering "missing"; unrelated records stay.
  EXPECT_FALSE(Listed("/d"));
  EXPECT_EQ(Find("/d/new", 10), Lookup::kUnknown);
  EXPECT_TRUE(Listed("/d/sub"));  // a directory create touches only its path
  EXPECT_TRUE(Listed("/e"));
  EXPECT_EQ(store_->GetStats().write_failures, 1u);

  const Strings messages = Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("cannot write the metadata cache in " +
                             (tmp_.path() / "meta").string() + ": "),
            std::string::npos)
      << messages[0];
  EXPECT_NE(messages[0].find("No space left on device"), std::string::npos) << messages[0];
  EXPECT_NE(messages[0].find("forgot"), std::string::npos) << messages[0];
  ExpectWorks();
}

TEST_F(MetadataStoreFailureTest, FailedRemoveNeverLeavesTheRemovedEntryVisible) {
  Populate();
  FailNext(1);
  store_->ApplyRemove(kColl, "/d/sub", 10);
  EXPECT_FALSE(Listed("/d"));  // it still listed "sub"
  EXPECT_FALSE(Listed("/d/sub"));
  EXPECT_EQ(Find("/d/sub", 10), Lookup::kUnknown);
  EXPECT_EQ(Find("/d/sub/x", 10), Lookup::kUnknown);
  EXPECT_TRUE(Listed("/e"));
  ExpectWorks();
}

TEST_F(MetadataStoreFailureTest, FailedRenameForgetsBothSides) {
  Populate();
  store_->PutListing(kColl, "/e/sub", MakeListing(0, {File("old")}));
  FailNext(1);
  store_->ApplyRename(kColl, "/d/sub", "/e/sub", 10);
  for (const char* dir : {"/d", "/d/sub", "/e", "/e/sub"}) EXPECT_FALSE(Listed(dir)) << dir;
  EXPECT_EQ(Find("/d/sub/x", 10), Lookup::kUnknown);
  EXPECT_EQ(Find("/e/sub/old", 10), Lookup::kUnknown);
  ExpectWorks();
}

TEST_F(MetadataStoreFailureTest, FailedListingPutOrInvalidateForgetsThePath) {
  Populate();
  FailNext(1);
  store_->PutListing(kColl, "/d", MakeListing(5, {File("fresh")}));
  EXPECT_FALSE(Listed("/d"));  // not the older listing
  EXPECT_TRUE(Listed("/e"));

  FailNext(1);
  store_->InvalidateSubtree(kColl, "/d");
  EXPECT_FALSE(Listed("/d/sub"));
  EXPECT_EQ(Find("/d/sub/x", 0), Lookup::kUnknown);
  EXPECT_TRUE(Listed("/e"));
  EXPECT_EQ(store_->GetStats().write_failures, 2u);
  ExpectWorks();
}

TEST_F(MetadataStoreFailureTest, FailedVersionOrCreateNeverLeavesAnOldVersion) {
  store_->PutVersion(kColl, "/d/f", ContentVersion{1, 10, 0, true, 0});
  store_->PutTimes(kColl, "/d/f", UserTimes{1, 0, 2, 0, 10, 0});
  store_->PutVersion(kColl, "/d/g", ContentVersion{2, 10, 0, true, 0});
  FailNext(1);
  store_->PutVersion(kColl, "/d/f", ContentVersion{3, 20, 0, true, 0});
  EXPECT_EQ(store_->GetVersion(kColl, "/d/f"), std::nullopt);  // not id 1
  EXPECT_TRUE(store_->GetVersion(kColl, "/d/g").has_value());

  FailNext(1);
  store_->ApplyCreate(kColl, "/d/g", File("g"), 10);  // would have dropped the version
  EXPECT_EQ(store_->GetVersion(kColl, "/d/g"), std::nullopt);

  FailNext(1);
  store_->EraseTimes(kColl, "/d/f");
  EXPECT_EQ(store_->GetTimes(kColl, "/d/f"), std::nullopt);
  store_->PutVersion(kColl, "/d/f", ContentVersion{4, 20, 0, true, 0});
  EXPECT_EQ(store_->GetVersion(kColl, "/d/f"), (ContentVersion{4, 20, 0, true, 0}));
  ExpectWorks();
}

TEST_F(MetadataStoreFailureTest, WhenForgettingFailsTooTheCacheIsCleared) {
  Populate();
  FailNext(2);  // the write and the forgetting
  store_->ApplyCreate(kColl, "/d/new", File("new"), 10);
  EXPECT_EQ(store_->GetStats().listings, 0u);
  EXPECT_EQ(store_->GetStats().entries, 0u);
  EXPECT_EQ(store_->GetStats().bytes, 0u);
  const Strings messages = Messages();
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_NE(messages[0].find("cleared the cache"), std::string::npos) << messages[0];
  ExpectWorks();
}

TEST_F(MetadataStoreFailureTest, WhenClearingFailsReadsMissUntilAWriteRecovers) {
  Populate();
  FailNext(3);  // the write, the forgetting, the clearing
  store_->ApplyRemove(kColl, "/d/f", 10);
  EXPECT_FALSE(Listed("/e"));  // it is still in the file, but not served
  EXPECT_FALSE(Listed("/d"));
  EXPECT_EQ(Find("/d/f", 10), Lookup::kUnknown);
  EXPECT_EQ(Find("/d/sub/x", 10), Lookup::kUnknown);
  ASSERT_EQ(Messages().size(), 1u);
  EXPECT_NE(Messages()[0].find("every read is a miss"), std::string::npos) << Messages()[0];

  // A write while clearing still fails is dropped; the store stays off.
  FailNext(1);
  store_->PutListing(kColl, "/x", MakeListing(0, {}));
  EXPECT_FALSE(Listed("/x"));

  // The next write clears the store (so nothing stale comes back) and lands.
  store_->PutListing(kColl, "/y", MakeListing(0, {File("y")}));
  EXPECT_EQ(Names(store_->GetListing(kColl, "/y", 0)), (Strings{"y"}));
  EXPECT_FALSE(Listed("/e"));
  EXPECT_FALSE(Listed("/d"));
  EXPECT_EQ(store_->GetStats().listings, 1u);
  EXPECT_EQ(store_->GetStats().write_failures, 2u);
  ExpectWorks();
}

TEST_F(MetadataStoreFailureTest, FailedClearDisablesAndALaterClearRecovers) {
  Populate();
  FailNext(1);
  store_->Clear();
  EXPECT_FALSE(Listed("/e"));
  store_->Clear();
  EXPECT_FALSE(Listed("/e"));
  ExpectWorks();
}

TEST_F(MetadataStoreFailureTest, ReportsAreRateLimitedPerCause) {
  for (int i = 0; i < 3; ++i) {
    FailNext(1);
    store_->PutListing(kColl, "/d", MakeListing(0, {}));
  }
  EXPECT_EQ(Messages().size(), 1u);
  EXPECT_EQ(store_->GetStats().write_failures, 3u);

  FailNext(1, EIO);  // another cause is told at once
  store_->PutListing(kColl, "/d", MakeListing(0, {}));
  ASSERT_EQ(Messages().size(), 2u);
  EXPECT_NE(Messages()[1].find("Input/output error"), std::string::npos) << Messages()[1];

  AdvanceSteadyMs(59'999);
  FailNext(1);
  store_->PutListing(kColl, "/d", MakeListing(0, {}));
  EXPECT_EQ(Messages().size(), 2u);
  AdvanceSteadyMs(1);
  FailNext(1);
  store_->PutListing(kColl, "/d", MakeListing(0, {}));
  EXPECT_EQ(Messages().size(), 3u);
}

TEST_F(MetadataStoreFailureTest, FullMapIsReportedAndRecovered) {
  Open(/*max_bytes=*/1 << 20);  // a map of 8 MiB growing to at most 64 MiB
  Populate();
  FailNext(-1, MDB_MAP_FULL);  // every write txn, however far the map grows
  store_->ApplyCreate(kColl, "/e/h", File("h"), 10);
  EXPECT_FALSE(Listed("/e"));
  EXPECT_FALSE(Listed("/d"));  // reads miss: even clearing failed
  ASSERT_FALSE(Messages().empty());
  EXPECT_NE(Messages()[0].find("MDB_MAP_FULL"), std::string::npos) << Messages()[0];

  FailNext(0);
  ExpectWorks();
  EXPECT_FALSE(Listed("/d"));
}

}  // namespace
}  // namespace globusfs::cache
