// BlockCache: round trips, versions (size, mtime, content version), the
// index format, corruption, LRU eviction, invalidation, reopen and crash
// recovery, threads, throughput; CRC-32C.
#include "cache/block_cache.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cache/crc32c.h"
#include "cache/file_util.h"
#include "cache/lmdb.h"
#include "temp_dir.h"

namespace globusfs::cache {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

constexpr char kColl[] = "6fa2b9d4-1f0e-4c8a-9d3b-2f5e8a7c1b90";
constexpr uint64_t kMiB = uint64_t{1} << 20;

BlockKey Key(std::string path, uint64_t index = 0, uint64_t size = 10 * kMiB,
             int64_t mtime = 1700000000) {
  return BlockKey{kColl, std::move(path), size, mtime, index};
}

// Deterministic bytes for (seed, length).
std::string Bytes(uint64_t seed, size_t length) {
  std::string s(length, '\0');
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < length; i += 8) {
    const uint64_t v = rng();
    for (size_t k = 0; k < 8 && i + k < length; ++k) s[i + k] = static_cast<char>(v >> (8 * k));
  }
  return s;
}

BlockCacheOptions Options(const fs::path& dir, uint64_t max_bytes = 64 * kMiB) {
  BlockCacheOptions o;
  o.dir = dir;
  o.max_bytes = max_bytes;
  o.boot_id = "boot-1";
  return o;
}

std::unique_ptr<BlockCache> OpenCache(const BlockCacheOptions& options) {
  std::string error;
  auto cache = BlockCache::Open(options, &error);
  EXPECT_NE(cache, nullptr) << error;
  return cache;
}

// Every block file under dir/blocks (not temp files).
std::vector<fs::path> BlockFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir / "blocks")) {
    if (e.is_regular_file() && e.path().parent_path() != dir / "blocks") files.push_back(e.path());
  }
  return files;
}

TEST(BlockCacheTest, RoundTripFullShortAndEmptyBlocks) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path() / "blocks-cache"));
  ASSERT_NE(cache, nullptr);
  EXPECT_EQ(cache->block_size(), 1u << 20);
  EXPECT_EQ(fs::status(tmp.path() / "blocks-cache").permissions() & fs::perms::all,
            fs::perms::owner_all);
  const std::string full = Bytes(1, kMiB);
  const std::string tail = Bytes(2, 1000);
  cache->Put(Key("/a b/ünï.bin", 0), full);
  cache->Put(Key("/a b/ünï.bin", 9), tail);
  cache->Put(Key("/empty", 0, 0), "");

  std::string got = "stale";
  ASSERT_TRUE(cache->Get(Key("/a b/ünï.bin", 0), &got));
  EXPECT_EQ(got, full);
  ASSERT_TRUE(cache->Get(Key("/a b/ünï.bin", 9), &got));
  EXPECT_EQ(got, tail);
  ASSERT_TRUE(cache->Get(Key("/empty", 0, 0), &got));
  EXPECT_EQ(got, "");
  EXPECT_FALSE(cache->Get(Key("/a b/ünï.bin", 1), &got));
  EXPECT_EQ(got, "");

  const BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.blocks, 3u);
  EXPECT_EQ(s.bytes, kMiB + 4096 + 4096);  // short blocks cost a 4 KiB unit
  EXPECT_EQ(s.hits, 3u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.corrupt, 0u);
  EXPECT_EQ(BlockFiles(tmp.path() / "blocks-cache").size(), 3u);
}

TEST(BlockCacheTest, OtherVersionOrFileIsAMiss) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path()));
  cache->Put(Key("/f", 0, 100, 5), "data");
  std::string got;
  EXPECT_TRUE(cache->Get(Key("/f", 0, 100, 5), &got));
  EXPECT_FALSE(cache->Get(Key("/f", 0, 100, 6), &got));  // mtime
  EXPECT_FALSE(cache->Get(Key("/f", 0, 101, 5), &got));  // size
  EXPECT_FALSE(cache->Get(Key("/f", 1, 100, 5), &got));  // index
  EXPECT_FALSE(cache->Get(Key("/g", 0, 100, 5), &got));  // path
  EXPECT_FALSE(cache->Get(BlockKey{"other", "/f", 100, 5, 0}, &got));
  EXPECT_EQ(cache->GetStats().misses, 5u);
}

// The content version is part of the identity: same collection, path, size
// and mtime under another version is another block.
TEST(BlockCacheTest, ContentVersionIsPartOfTheKey) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path()));
  BlockKey v1 = Key("/f", 0, 100, 5);
  v1.version = 1;
  BlockKey v2 = v1;
  v2.version = 2;
  cache->Put(v1, "version one");
  std::string got;
  EXPECT_FALSE(cache->Get(v2, &got));
  EXPECT_FALSE(cache->Get(Key("/f", 0, 100, 5), &got));  // version 0
  ASSERT_TRUE(cache->Get(v1, &got));
  EXPECT_EQ(got, "version one");
  cache->Put(v2, "version two");
  ASSERT_TRUE(cache->Get(v2, &got));
  EXPECT_EQ(got, "version two");
  ASSERT_TRUE(cache->Get(v1, &got));
  EXPECT_EQ(got, "version one");
  EXPECT_EQ(cache->GetStats().blocks, 2u);

  cache->InvalidateFile(kColl, "/f");  // every version goes
  EXPECT_FALSE(cache->Get(v1, &got));
  EXPECT_FALSE(cache->Get(v2, &got));
  EXPECT_EQ(cache->GetStats().blocks, 0u);
  EXPECT_EQ(cache->GetStats().corrupt, 0u);
  EXPECT_TRUE(BlockFiles(tmp.path()).empty());
}

// An index of the previous format (keys without versions) is not trusted:
// Open starts empty.
TEST(BlockCacheTest, IndexOfAnotherFormatIsWiped) {
  TempDir tmp;
  {
    auto cache = OpenCache(Options(tmp.path()));
    cache->Put(Key("/f"), "data");
  }
  {
    auto env = Env::Open(tmp.path() / "index", EnvOptions{});
    env->Write([](Txn& txn) { Dbi::Open(txn, "meta").Put(txn, "format", "globusfs-blocks/1"); });
  }
  auto cache = OpenCache(Options(tmp.path()));
  std::string got;
  EXPECT_FALSE(cache->Get(Key("/f"), &got));
  EXPECT_EQ(cache->GetStats().blocks, 0u);
  EXPECT_TRUE(BlockFiles(tmp.path()).empty());
  cache->Put(Key("/f"), "data");
  EXPECT_TRUE(cache->Get(Key("/f"), &got));
}

TEST(BlockCacheTest, PutAgainReplacesAndKeepsOneEntry) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path()));
  cache->Put(Key("/f"), "one");
  cache->Put(Key("/f"), "one");  // same bytes: nothing rewritten
  cache->Put(Key("/f"), "two!");
  std::string got;
  ASSERT_TRUE(cache->Get(Key("/f"), &got));
  EXPECT_EQ(got, "two!");
  EXPECT_EQ(cache->GetStats().blocks, 1u);
  EXPECT_EQ(cache->GetStats().bytes, 4096u);
}

// Damaged block files: a flipped byte, a short file, a missing file.
void ExpectDamagedBlockDropped(const std::function<void(const fs::path&)>& damage) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path()));
  const std::string data = Bytes(3, 300000);
  cache->Put(Key("/f"), data);
  cache->Put(Key("/other"), "kept");
  std::vector<fs::path> files = BlockFiles(tmp.path());
  ASSERT_EQ(files.size(), 2u);
  const fs::path file = fs::file_size(files[0]) == data.size() ? files[0] : files[1];
  damage(file);

  std::string got;
  EXPECT_FALSE(cache->Get(Key("/f"), &got));
  EXPECT_TRUE(got.empty());
  BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.corrupt, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.blocks, 1u);  // the entry is dropped ...
  EXPECT_EQ(s.bytes, 4096u);
  EXPECT_FALSE(fs::exists(file));  // ... and so is the file
  EXPECT_FALSE(cache->Get(Key("/f"), &got));
  EXPECT_EQ(cache->GetStats().corrupt, 1u);  // now a plain miss
  EXPECT_TRUE(cache->Get(Key("/other"), &got));
  cache->Put(Key("/f"), data);  // and it can be cached again
  ASSERT_TRUE(cache->Get(Key("/f"), &got));
  EXPECT_EQ(got, data);
}

TEST(BlockCacheTest, FlippedByteIsCorrupt) {
  ExpectDamagedBlockDropped([](const fs::path& file) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(123456);
    char c = 0;
    f.get(c);
    f.seekp(123456);
    f.put(static_cast<char>(c ^ 0x01));
  });
}

TEST(BlockCacheTest, TruncatedFileIsCorrupt) {
  ExpectDamagedBlockDropped([](const fs::path& file) { fs::resize_file(file, 1000); });
}

TEST(BlockCacheTest, DeletedFileIsAMiss) {
  ExpectDamagedBlockDropped([](const fs::path& file) { fs::remove(file); });
}

TEST(BlockCacheTest, UndecodableIndexRecordIsDropped) {
  TempDir tmp;
  {
    auto cache = OpenCache(Options(tmp.path()));
    cache->Put(Key("/f"), "data");
  }
  {
    auto env = Env::Open(tmp.path() / "index", EnvOptions{});
    env->Write([](Txn& txn) {
      Dbi blocks = Dbi::Open(txn, "blocks");
      std::string key;
      {
        Cursor c = Cursor::Open(txn, blocks);
        ASSERT_TRUE(c.First());
        key = c.key();
      }
      blocks.Put(txn, key, "garbage");
    });
  }
  auto cache = OpenCache(Options(tmp.path()));
  std::string got;
  EXPECT_FALSE(cache->Get(Key("/f"), &got));
  EXPECT_EQ(cache->GetStats().corrupt, 1u);
  EXPECT_EQ(cache->GetStats().blocks, 0u);
  cache->Put(Key("/f"), "data");
  EXPECT_TRUE(cache->Get(Key("/f"), &got));
}

TEST(BlockCacheTest, EvictsLeastRecentlyUsed) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path(), 4 * 4096));
  const std::string block(4096, 'x');
  for (const char* name : {"/a", "/b", "/c", "/d"}) cache->Put(Key(name), block);
  EXPECT_EQ(cache->GetStats().bytes, 4u * 4096);
  std::string got;
  ASSERT_TRUE(cache->Get(Key("/a"), &got));  // /a is now the most recently used
  cache->Put(Key("/e"), block);              // evicts /b
  cache->Put(Key("/f"), block);              // evicts /c
  BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.evicted, 2u);
  EXPECT_EQ(s.blocks, 4u);
  EXPECT_EQ(s.bytes, 4u * 4096);
  EXPECT_EQ(BlockFiles(tmp.path()).size(), 4u);
  EXPECT_FALSE(cache->Get(Key("/b"), &got));
  EXPECT_FALSE(cache->Get(Key("/c"), &got));
  for (const char* name : {"/a", "/d", "/e", "/f"})
    EXPECT_TRUE(cache->Get(Key(name), &got)) << name;
  EXPECT_EQ(cache->GetStats().corrupt, 0u);
}

TEST(BlockCacheTest, ReadOrderSurvivesReopen) {
  TempDir tmp;
  const std::string block(4096, 'x');
  std::string got;
  {
    auto cache = OpenCache(Options(tmp.path(), 3 * 4096));
    for (const char* name : {"/a", "/b", "/c"}) cache->Put(Key(name), block);
    ASSERT_TRUE(cache->Get(Key("/a"), &got));  // only in memory until close
  }
  auto cache = OpenCache(Options(tmp.path(), 3 * 4096));
  cache->Put(Key("/d"), block);
  EXPECT_FALSE(cache->Get(Key("/b"), &got));
  EXPECT_TRUE(cache->Get(Key("/a"), &got));
}

TEST(BlockCacheTest, OversizedBlockIsNotStored) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path(), 8192));
  cache->Put(Key("/small"), "s");
  cache->Put(Key("/big"), std::string(8193, 'b'));  // costs 12 KiB > 8 KiB
  std::string got;
  EXPECT_FALSE(cache->Get(Key("/big"), &got));
  EXPECT_TRUE(cache->Get(Key("/small"), &got));  // and nothing was evicted for it
  EXPECT_EQ(cache->GetStats().blocks, 1u);
  EXPECT_EQ(BlockFiles(tmp.path()).size(), 1u);
  cache->Put(Key("/fits"), std::string(8192, 'f'));  // exactly max_bytes: evicts the rest
  EXPECT_TRUE(cache->Get(Key("/fits"), &got));
  EXPECT_EQ(cache->GetStats().blocks, 1u);
}

TEST(BlockCacheTest, InvalidateFileDropsEveryVersion) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path()));
  cache->Put(Key("/f", 0, 100, 1), "v1 block 0");
  cache->Put(Key("/f", 1, 100, 1), "v1 block 1");
  cache->Put(Key("/f", 0, 200, 2), "v2 block 0");
  cache->Put(Key("/f2", 0, 100, 1), "other file");
  cache->Put(BlockKey{"other-coll", "/f", 100, 1, 0}, "other collection");
  cache->InvalidateFile(kColl, "/f");
  std::string got;
  EXPECT_FALSE(cache->Get(Key("/f", 0, 100, 1), &got));
  EXPECT_FALSE(cache->Get(Key("/f", 1, 100, 1), &got));
  EXPECT_FALSE(cache->Get(Key("/f", 0, 200, 2), &got));
  EXPECT_TRUE(cache->Get(Key("/f2", 0, 100, 1), &got));
  EXPECT_TRUE(cache->Get(BlockKey{"other-coll", "/f", 100, 1, 0}, &got));
  const BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.bytes, 2u * 4096);
  EXPECT_EQ(s.corrupt, 0u);
  EXPECT_EQ(BlockFiles(tmp.path()).size(), 2u);
  cache->InvalidateFile(kColl, "/never-cached");  // nothing to do
  EXPECT_EQ(cache->GetStats().blocks, 2u);
}

TEST(BlockCacheTest, ReopenKeepsBlocksEvenAfterReboot) {
  TempDir tmp;
  auto options = Options(tmp.path());
  {
    auto cache = OpenCache(options);
    cache->Put(Key("/f"), "persisted");
    EXPECT_TRUE(fs::exists(tmp.path() / "open-session"));
  }
  EXPECT_FALSE(fs::exists(tmp.path() / "open-session"));
  options.boot_id = "boot-2";  // a clean close, then a reboot
  auto cache = OpenCache(options);
  std::string got;
  ASSERT_TRUE(cache->Get(Key("/f"), &got));
  EXPECT_EQ(got, "persisted");
  EXPECT_EQ(cache->GetStats().bytes, 4096u);
}

TEST(BlockCacheTest, OneCachePerDirectory) {
  TempDir tmp;
  auto cache = OpenCache(Options(tmp.path()));
  std::string error;
  EXPECT_EQ(BlockCache::Open(Options(tmp.path()), &error), nullptr);
  EXPECT_NE(error.find(tmp.path().string()), std::string::npos) << error;
  EXPECT_EQ(BlockCache::Open(BlockCacheOptions{}, &error), nullptr);
}

TEST(BlockCacheTest, SystemCrashStartsEmpty) {
  TempDir tmp;
  {
    auto cache = OpenCache(Options(tmp.path()));
    cache->Put(Key("/f"), "data");
  }
  file_util::WriteFileSynced(tmp.path() / "open-session", "boot-0");  // never closed
  auto cache = OpenCache(Options(tmp.path()));
  std::string got;
  EXPECT_FALSE(cache->Get(Key("/f"), &got));
  EXPECT_EQ(cache->GetStats().blocks, 0u);
  EXPECT_EQ(cache->GetStats().bytes, 0u);
  EXPECT_TRUE(BlockFiles(tmp.path()).empty());
}

TEST(BlockCacheTest, UnreadableIndexStartsEmpty) {
  TempDir tmp;
  {
    auto cache = OpenCache(Options(tmp.path()));
    cache->Put(Key("/f"), "data");
  }
  { std::ofstream(tmp.path() / "index" / "data.mdb", std::ios::trunc) << std::string(8192, 'z'); }
  auto cache = OpenCache(Options(tmp.path()));
  std::string got;
  EXPECT_FALSE(cache->Get(Key("/f"), &got));
  EXPECT_TRUE(BlockFiles(tmp.path()).empty());
  cache->Put(Key("/f"), "data");
  EXPECT_TRUE(cache->Get(Key("/f"), &got));
}

// A process crash (same boot): indexed blocks stay, orphan files and temp
// files go, at most `orphan_scan_budget` entries (but one folder) per Open.
TEST(BlockCacheTest, ProcessCrashSweepsOrphansIncrementally) {
  TempDir tmp;
  auto options = Options(tmp.path());
  options.orphan_scan_budget = 1;
  {
    auto cache = OpenCache(options);
    cache->Put(Key("/kept"), "kept");
  }
  const fs::path blocks = tmp.path() / "blocks";
  std::vector<fs::path> orphans;
  for (const char* shard : {"00", "01", "02"}) {
    fs::create_directories(blocks / shard);
    orphans.push_back(blocks / shard / (std::string(shard) + std::string(30, 'a')));
    std::ofstream(orphans.back()) << "orphan";
  }
  std::ofstream(blocks / "stray-name-kept-at-top-level") << "x";
  std::ofstream(blocks / "tmp.123.4") << "partial";
  const auto crash = [&] { file_util::WriteFileSynced(tmp.path() / "open-session", "boot-1"); };

  crash();
  auto cache = OpenCache(options);
  EXPECT_FALSE(fs::exists(blocks / "tmp.123.4"));
  EXPECT_FALSE(fs::exists(orphans[0]));
  EXPECT_TRUE(fs::exists(orphans[1]));
  EXPECT_TRUE(fs::exists(orphans[2]));
  cache.reset();  // a clean close does not stop the pending sweep
  cache = OpenCache(options);
  EXPECT_FALSE(fs::exists(orphans[1]));
  EXPECT_TRUE(fs::exists(orphans[2]));
  cache.reset();
  std::ofstream(orphans[0]) << "orphan again";
  crash();  // a second crash restarts the sweep from the first folder
  cache = OpenCache(options);
  EXPECT_FALSE(fs::exists(orphans[0]));
  EXPECT_TRUE(fs::exists(orphans[2]));
  for (int i = 0; i < 3; ++i) {
    cache.reset();
    cache = OpenCache(options);
  }
  EXPECT_FALSE(fs::exists(orphans[2]));
  std::string got;
  EXPECT_TRUE(cache->Get(Key("/kept"), &got));
  EXPECT_EQ(cache->GetStats().corrupt, 0u);
}

// A real crash: a child process puts blocks and dies without closing.
TEST(BlockCacheTest, BlocksPutBeforeAProcessCrashSurvive) {
  TempDir tmp;
  const auto options = Options(tmp.path());
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::string error;
    auto cache = BlockCache::Open(options, &error);
    if (cache == nullptr) _exit(2);
    for (int i = 0; i < 5; ++i) cache->Put(Key("/f", i), Bytes(i, 5000));
    _exit(0);  // no destructor: the index is never synced, the marker stays
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_TRUE(fs::exists(tmp.path() / "open-session"));
  auto cache = OpenCache(options);
  std::string got;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(cache->Get(Key("/f", i), &got)) << i;
    EXPECT_EQ(got, Bytes(i, 5000));
  }
}

TEST(BlockCacheTest, ConcurrentGetPutInvalidate) {
  TempDir tmp;
  constexpr size_t kBlock = 64 * 1024;
  auto cache = OpenCache(Options(tmp.path(), 8 * kBlock));  // 8 of 16 keys fit
  constexpr int kThreads = 6;
  constexpr int kIterations = 300;
  std::atomic<int> wrong{0};
  std::atomic<int> hits{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::string got;
      for (int i = 0; i < kIterations; ++i) {
        const int k = static_cast<int>(rng() % 16);
        const BlockKey key = Key("/file" + std::to_string(k % 4), k / 4);
        const int op = static_cast<int>(rng() % 20);
        if (op == 0) {
          cache->InvalidateFile(kColl, key.path);
        } else if (cache->Get(key, &got)) {
          hits.fetch_add(1);
          if (got != Bytes(k, kBlock)) wrong.fetch_add(1);
        } else {
          cache->Put(key, Bytes(k, kBlock));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(hits.load(), 0);
  const BlockCache::Stats s = cache->GetStats();
  EXPECT_LE(s.bytes, 8 * kBlock);
  EXPECT_EQ(s.bytes, s.blocks * kBlock);
  EXPECT_EQ(s.write_failures, 0u);
  // Every indexed block is readable and every file is indexed (no leaks).
  std::string got;
  int readable = 0;
  for (int k = 0; k < 16; ++k)
    readable += cache->Get(Key("/file" + std::to_string(k % 4), k / 4), &got);
  EXPECT_EQ(static_cast<uint64_t>(readable), cache->GetStats().blocks);
  EXPECT_EQ(BlockFiles(tmp.path()).size(), cache->GetStats().blocks);
}

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

TEST(BlockCacheTest, Throughput) {
  TempDir tmp;
  constexpr int kBlocks = 128;  // 128 MiB on disk
  auto cache = OpenCache(Options(tmp.path(), 256 * kMiB));
  std::vector<std::string> data;
  for (int i = 0; i < kBlocks; ++i) data.push_back(Bytes(i, kMiB));

  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kBlocks; ++i) cache->Put(Key("/big", i, kBlocks * kMiB), data[i]);
  const double put_s = Seconds(std::chrono::steady_clock::now() - start);

  constexpr int kRounds = 8;  // 1 GiB read through the cache
  std::string got;
  start = std::chrono::steady_clock::now();
  for (int r = 0; r < kRounds; ++r) {
    for (int i = 0; i < kBlocks; ++i) ASSERT_TRUE(cache->Get(Key("/big", i, kBlocks * kMiB), &got));
  }
  const double get_s = Seconds(std::chrono::steady_clock::now() - start);
  EXPECT_EQ(got, data.back());

  const std::string mib = Bytes(7, kMiB);
  uint32_t crc = 0;
  start = std::chrono::steady_clock::now();
  for (int i = 0; i < 1024; ++i) crc = Crc32c(mib, crc);
  const double crc_s = Seconds(std::chrono::steady_clock::now() - start);

  std::printf("[ perf     ] Put %.0f MiB/s (%.0f us per 1 MiB block)\n", kBlocks / put_s,
              put_s / kBlocks * 1e6);
  std::printf("[ perf     ] Get %.0f MiB/s (%.0f us per 1 MiB block, %d MiB)\n",
              kRounds * kBlocks / get_s, get_s / (kRounds * kBlocks) * 1e6, kRounds * kBlocks);
  std::printf("[ perf     ] CRC-32C %.0f MiB/s (crc %08x)\n", 1024 / crc_s, crc);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  EXPECT_LT(get_s / (kRounds * kBlocks), 0.002);  // ~0.1 ms measured; loose for slow machines
#endif
}

TEST(Crc32cTest, KnownValuesAndBothImplementationsAgree) {
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32cPortable("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);  // RFC 3720 B.4
  const std::string data = Bytes(42, 100000);
  for (size_t offset : {0, 1, 3, 7}) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 4096, 9000, 3 * 4096 - 1, 3 * 4096, 3 * 4096 + 9,
                       6 * 4096 + 100, 99000}) {
      const std::string_view part = std::string_view(data).substr(offset, len);
      EXPECT_EQ(Crc32c(part), Crc32cPortable(part)) << offset << " " << len;
      EXPECT_EQ(Crc32c(part.substr(len / 3), Crc32c(part.substr(0, len / 3))), Crc32c(part));
    }
  }
}

}  // namespace
}  // namespace globusfs::cache
