// MetadataStore across reopen, corruption, crashes; size bound; threads;
// decode speed of big listings.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cache/lmdb.h"
#include "cache/metadata_store.h"
#include "store_test_util.h"

namespace globusfs::cache {
namespace {

using namespace globusfs::cache::testing;  // NOLINT: test helpers
using Lookup = MetadataStore::Lookup;

void Overwrite(const std::filesystem::path& file, char fill) {
  const auto size = std::filesystem::file_size(file);
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  const std::string junk(size, fill);
  f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
}

TEST(MetadataStorePersistenceTest, ReopenSeesEarlierRecords) {
  TempDir tmp;
  const auto options = Options(tmp.path() / "meta");
  {
    auto store = OpenStore(options);
    store->PutListing(kColl, "/d", MakeListing(100, {File("a", 1), File("b", 2)}));
    store->PutNegative(kColl, "/gone", 100);
  }
  EXPECT_FALSE(std::filesystem::exists(tmp.path() / "meta" / "open-session"));
  // A clean close followed by a reboot keeps the cache.
  auto reopen_options = options;
  reopen_options.boot_id = "boot-2";
  auto store = OpenStore(reopen_options);
  EXPECT_EQ(Names(store->GetListing(kColl, "/d", 200)), (std::vector<std::string>{"a", "b"}));
  FileEntry e;
  EXPECT_EQ(store->LookupEntry(kColl, "/gone", 200, &e), Lookup::kMissing);
  EXPECT_EQ(store->GetStats().listings, 1u);
}

TEST(MetadataStorePersistenceTest, ReopenKeepsVersionsTimesAndFolderChanges) {
  TempDir tmp;
  const auto options = Options(tmp.path() / "meta");
  ContentVersion version;
  version.id = 42;
  version.size = 7;
  version.settled = false;
  version.session = 3;
  const UserTimes times{-5'000'000'000, 1, 4'102'444'800'000, 999999999, 7, 1700000000};
  {
    auto store = OpenStore(options);
    store->PutVersion(kColl, "/d/f", version);
    store->PutTimes(kColl, "/d/f", times);
    store->PutListing(kColl, "/d", MakeListing(100, {File("f"), Dir("sub")}));
    store->ApplyCreate(kColl, "/d/g", File("g"), 100);
  }
  auto store = OpenStore(options);
  EXPECT_EQ(store->GetVersion(kColl, "/d/f"), version);
  EXPECT_EQ(store->GetTimes(kColl, "/d/f"), times);
  EXPECT_EQ(store->DirChangedAtMs(kColl, "/d", 200), 100);
  EXPECT_EQ(store->SubdirCount(kColl, "/d", 200), 1u);
  const auto stats = store->GetStats();
  EXPECT_EQ(stats.versions, 1u);
  EXPECT_EQ(stats.times, 1u);
  EXPECT_EQ(stats.dir_changes, 1u);
}

TEST(MetadataStorePersistenceTest, DurableStoreReopens) {
  TempDir tmp;
  auto options = Options(tmp.path() / "meta");
  options.durable = true;
  {
    auto store = OpenStore(options);
    EXPECT_FALSE(std::filesystem::exists(tmp.path() / "meta" / "open-session"));
    store->PutListing(kColl, "/d", MakeListing(100, {File("a")}));
  }
  auto store = OpenStore(options);
  EXPECT_TRUE(store->GetListing(kColl, "/d", 100).has_value());
}

TEST(MetadataStorePersistenceTest, CorruptFileIsWipedAndStoreWorks) {
  TempDir tmp;
  const auto options = Options(tmp.path() / "meta");
  {
    auto store = OpenStore(options);
    store->PutListing(kColl, "/d", MakeListing(100, {File("a")}));
  }
  Overwrite(tmp.path() / "meta" / "data.mdb", '\x5a');
  auto store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->GetListing(kColl, "/d", 100, true).has_value());
  store->PutListing(kColl, "/e", MakeListing(100, {File("b")}));
  EXPECT_TRUE(store->GetListing(kColl, "/e", 100).has_value());
}

TEST(MetadataStorePersistenceTest, OtherFormatVersionIsWiped) {
  TempDir tmp;
  const auto options = Options(tmp.path() / "meta");
  {
    auto store = OpenStore(options);
    store->PutListing(kColl, "/d", MakeListing(100, {File("a")}));
  }
  {
    EnvOptions env_options;
    env_options.max_dbs = 4;
    auto env = Env::Open(tmp.path() / "meta", env_options);
    env->Write([](Txn& txn) {
      Dbi meta = Dbi::Open(txn, "meta");
      meta.Put(txn, "format", "globusfs-metadata/0");
    });
  }
  auto store = OpenStore(options);
  EXPECT_FALSE(store->GetListing(kColl, "/d", 100, true).has_value());
  EXPECT_EQ(store->GetStats().bytes, 0u);
}

TEST(MetadataStorePersistenceTest, UnusableDirectoryReportsError) {
  TempDir tmp;
  std::ofstream(tmp.path() / "file") << "not a directory";
  std::string error;
  auto store = MetadataStore::Open(Options(tmp.path() / "file" / "meta"), &error);
  EXPECT_EQ(store, nullptr);
  EXPECT_FALSE(error.empty());
}

TEST(MetadataStorePersistenceTest, OneStorePerDirectoryAtATime) {
  TempDir tmp;
  const auto options = Options(tmp.path() / "meta");
  auto first = OpenStore(options);
  std::string error;
  EXPECT_EQ(MetadataStore::Open(options, &error), nullptr);
  EXPECT_NE(error.find("owner.lock"), std::string::npos) << error;
  first->PutListing(kColl, "/d", MakeListing(0, {}));  // the first is unharmed
  first.reset();
  auto second = OpenStore(options);
  EXPECT_TRUE(second->GetListing(kColl, "/d", 0).has_value());
}

// A store opened with durable=false that was not closed: after a process
// crash (same boot) its data is kept; after a system crash it is wiped.
TEST(MetadataStorePersistenceTest, UncleanShutdownWipesOnlyAfterReboot) {
  TempDir tmp;
  auto store = OpenStore(Options(tmp.path() / "live"));
  store->PutListing(kColl, "/d", MakeListing(100, {File("a")}));
  for (const char* copy : {"same-boot", "rebooted"}) {
    std::filesystem::create_directory(tmp.path() / copy);
    for (const char* file : {"data.mdb", "open-session"}) {
      std::filesystem::copy_file(tmp.path() / "live" / file, tmp.path() / copy / file);
    }
  }
  {
    auto same_boot = OpenStore(Options(tmp.path() / "same-boot"));
    EXPECT_TRUE(same_boot->GetListing(kColl, "/d", 100).has_value());
  }
  auto rebooted_options = Options(tmp.path() / "rebooted");
  rebooted_options.boot_id = "boot-2";
  auto rebooted = OpenStore(rebooted_options);
  EXPECT_FALSE(rebooted->GetListing(kColl, "/d", 100, true).has_value());
  EXPECT_EQ(rebooted->GetStats().listings, 0u);
}

std::string Dirname(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "/dir/%04d", i);
  return buf;
}

Listing TenEntries() {
  std::vector<FileEntry> entries;
  for (int i = 0; i < 10; ++i) entries.push_back(File("entry-" + std::to_string(i), 100));
  return MakeListing(0, entries);
}

TEST(MetadataStorePersistenceTest, EvictsLeastRecentlyPutUnderMaxBytes) {
  TempDir tmp;
  auto options = Options(tmp.path() / "meta");
  options.max_bytes = 64 * 1024;
  auto store = OpenStore(options);
  store->PutListing(kColl, Dirname(0), TenEntries());
  const uint64_t per_listing = store->GetStats().bytes;
  ASSERT_GT(per_listing, 0u);
  const int fit = static_cast<int>(options.max_bytes / per_listing);
  ASSERT_GT(fit, 10);
  for (int i = 1; i < fit; ++i) store->PutListing(kColl, Dirname(i), TenEntries());
  EXPECT_EQ(store->GetStats().listings, static_cast<uint64_t>(fit));

  store->PutListing(kColl, Dirname(0), TenEntries());  // now the most recent put
  for (int i = fit; i < fit + 3; ++i) store->PutListing(kColl, Dirname(i), TenEntries());
  const auto stats = store->GetStats();
  EXPECT_LE(stats.bytes, options.max_bytes);
  EXPECT_EQ(stats.listings, static_cast<uint64_t>(fit));
  EXPECT_TRUE(store->GetListing(kColl, Dirname(0), 0).has_value());
  for (int i = 1; i <= 3; ++i) EXPECT_FALSE(store->GetListing(kColl, Dirname(i), 0)) << i;
  for (int i = 4; i < fit + 3; ++i) EXPECT_TRUE(store->GetListing(kColl, Dirname(i), 0)) << i;

  // A listing bigger than the whole budget is not stored and evicts nothing.
  std::vector<FileEntry> big;
  for (int i = 0; i < 5000; ++i) big.push_back(File("big-" + std::to_string(i)));
  store->PutListing(kColl, "/big", MakeListing(0, big));
  EXPECT_FALSE(store->GetListing(kColl, "/big", 0).has_value());
  EXPECT_EQ(store->GetStats().listings, static_cast<uint64_t>(fit));

  // The bound holds across many more writes of every kind, and a reopen.
  for (int i = 0; i < 2000; ++i) {
    store->PutEntry(kColl, "/e/" + std::to_string(i), File("x", i), 0);
    store->PutNegative(kColl, "/n/" + std::to_string(i), 0);
  }
  EXPECT_LE(store->GetStats().bytes, options.max_bytes);
  store.reset();
  store = OpenStore(options);
  EXPECT_LE(store->GetStats().bytes, options.max_bytes);
  EXPECT_GT(store->GetStats().entries, 0u);

  // Versions and times count and are evicted like any record.
  const uint64_t before = store->GetStats().bytes;
  store->PutVersion(kColl, "/v/first", ContentVersion{1, 2, 3, true, 4});
  store->PutTimes(kColl, "/t/first", UserTimes{1, 0, 2, 0, 3, 4});
  EXPECT_GT(store->GetStats().bytes, before);
  for (int i = 0; i < 2000; ++i) {
    store->PutVersion(kColl, "/v/" + std::to_string(i), ContentVersion{uint64_t(i), 0, 0, true, 0});
    store->PutTimes(kColl, "/t/" + std::to_string(i), UserTimes{i, 0, i, 0, 0, 0});
  }
  const auto after = store->GetStats();
  EXPECT_LE(after.bytes, options.max_bytes);
  EXPECT_GT(after.versions, 0u);
  EXPECT_LT(after.versions, 2001u);
  EXPECT_EQ(store->GetVersion(kColl, "/v/first"), std::nullopt);
  EXPECT_EQ(store->GetTimes(kColl, "/t/first"), std::nullopt);
  EXPECT_TRUE(store->GetVersion(kColl, "/v/1999").has_value());
  EXPECT_TRUE(store->GetTimes(kColl, "/t/1999").has_value());
}

TEST(MetadataStorePersistenceTest, ConcurrentReadersAndWriters) {
  TempDir tmp;
  auto store = OpenStore(Options(tmp.path() / "meta", /*ttl_ms=*/1'000'000));
  store->PutListing(kColl, "/shared", MakeListing(0, {}));
  constexpr int kThreads = 8;
  constexpr int kIterations = 150;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string own = "/own" + std::to_string(t);
      for (int i = 0; i < kIterations; ++i) {
        const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        store->ApplyCreate(kColl, "/shared/" + name, File(name, i), i);
        store->PutListing(kColl, own, MakeListing(i, {File(name)}));
        FileEntry e;
        if (store->LookupEntry(kColl, "/shared/" + name, i, &e) != Lookup::kFound) ++failures;
        const auto listing = store->GetListing(kColl, own, i);
        if (!listing || listing->entries.size() != 1 || listing->entries[0].name != name) {
          ++failures;
        }
        if (!store->GetListing(kColl, "/shared", i)) ++failures;
        if (i % 10 == 0) store->InvalidateSubtree(kColl, own);
        if (i % 25 == 0) store->ApplyRename(kColl, "/shared/" + name, "/shared/r-" + name, i);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(failures.load(), 0);
  // No lost update: every create (renamed or not) is in the shared listing.
  const auto shared = store->GetListing(kColl, "/shared", 0);
  ASSERT_TRUE(shared.has_value());
  EXPECT_EQ(shared->entries.size(), static_cast<size_t>(kThreads * kIterations));
  EXPECT_EQ(store->GetStats().write_failures, 0u);
}

TEST(MetadataStorePersistenceTest, DecodeSpeedOfBigListings) {
  TempDir tmp;
  auto store = OpenStore(Options(tmp.path() / "meta"));
  for (int count : {10'000, 100'000}) {
    std::vector<FileEntry> entries;
    entries.reserve(count);
    for (int i = 0; i < count; ++i) {
      char name[40];
      std::snprintf(name, sizeof name, "sample_%07d_reads.fastq.gz", i);
      entries.push_back(File(name, 1000 + i));
    }
    const std::string dir = "/big" + std::to_string(count);
    const Listing listing = MakeListing(0, entries);
    auto start = std::chrono::steady_clock::now();
    store->PutListing(kColl, dir, listing);
    const auto put = std::chrono::steady_clock::now() - start;

    constexpr int kReps = 5;
    start = std::chrono::steady_clock::now();
    for (int r = 0; r < kReps; ++r) {
      const auto got = store->GetListing(kColl, dir, 0);
      ASSERT_TRUE(got.has_value());
      ASSERT_EQ(got->entries.size(), static_cast<size_t>(count));
    }
    const auto get = (std::chrono::steady_clock::now() - start) / kReps;

    constexpr int kLookups = 1000;
    start = std::chrono::steady_clock::now();
    for (int r = 0; r < kLookups; ++r) {
      FileEntry e;
      ASSERT_EQ(store->LookupEntry(kColl, dir + "/" + entries[(r * 7919) % count].name, 0, &e),
                Lookup::kFound);
    }
    const auto lookup = (std::chrono::steady_clock::now() - start) / kLookups;

    using std::chrono::duration;
    std::printf("[ timing ] %d entries: put %.2f ms, get+decode %.2f ms, lookup %.1f us\n", count,
                duration<double, std::milli>(put).count(),
                duration<double, std::milli>(get).count(),
                duration<double, std::micro>(lookup).count());
  }
}

}  // namespace
}  // namespace globusfs::cache
