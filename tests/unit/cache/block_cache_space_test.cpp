// BlockCache and disk space: the free-space margin (its rule, eviction to
// keep it, skipping a block that cannot fit), Release, how free space is
// read (injected, statvfs, reused between readings), and a really full
// tmpfs where a staging write meets ENOSPC and the cache releases room (even
// when its index cannot be written). The tmpfs tests need root; they skip,
// saying so, without it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cache/block_cache.h"
#include "cache/space_budget.h"
#include "temp_dir.h"
#include "tmpfs_mount.h"

namespace globusfs::cache {
namespace {

using testing::TempDir;
using testing::TmpfsMount;
namespace fs = std::filesystem;
using std::chrono_literals::operator""ms;

constexpr char kColl[] = "6fa2b9d4-1f0e-4c8a-9d3b-2f5e8a7c1b90";
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = kKiB * kKiB;
constexpr uint64_t kGiB = kKiB * kMiB;

BlockKey Key(std::string path, uint64_t index = 0) {
  return BlockKey{kColl, std::move(path), 100 * kMiB, 1700000000, index};
}

// Every block file under dir/blocks (not temp files).
std::vector<fs::path> BlockFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(dir / "blocks")) {
    if (e.is_regular_file() && e.path().parent_path() != dir / "blocks") files.push_back(e.path());
  }
  return files;
}

// A simulated filesystem of `total` bytes: free is what neither the cache's
// block files (each rounded up to 4 KiB, as tmpfs and ext4 allocate) nor
// `other` (the daemon's staging files) use.
class FakeDisk {
 public:
  FakeDisk(fs::path cache_dir, uint64_t total) : cache_dir_(std::move(cache_dir)), total_(total) {}

  std::function<std::optional<DiskSpace>()> Reader() {
    return [this]() -> std::optional<DiskSpace> {
      reads.fetch_add(1);
      uint64_t used = other.load();
      std::error_code ec;
      for (fs::recursive_directory_iterator it(cache_dir_ / "blocks", ec), end; !ec && it != end;
           it.increment(ec)) {
        if (it->is_regular_file()) used += (it->file_size() + 4095) / 4096 * 4096;
      }
      return DiskSpace{total_ > used ? total_ - used : 0, total_};
    };
  }

  std::atomic<uint64_t> other{0};
  std::atomic<int> reads{0};

 private:
  const fs::path cache_dir_;
  const uint64_t total_;
};

// A 1 MiB disk keeping 256 KiB free, read at every Put; max_bytes is no bound.
BlockCacheOptions SmallDisk(const fs::path& dir, FakeDisk* disk) {
  BlockCacheOptions o;
  o.dir = dir;
  o.max_bytes = 64 * kMiB;
  o.boot_id = "boot-1";
  o.min_free_fraction = 0;
  o.min_free_bytes = 256 * kKiB;  // a quarter of 1 MiB: the cap allows it
  o.disk_space = disk->Reader();
  o.disk_space_ttl = 0ms;
  return o;
}

std::unique_ptr<BlockCache> OpenCache(const BlockCacheOptions& options) {
  std::string error;
  auto cache = BlockCache::Open(options, &error);
  EXPECT_NE(cache, nullptr) << error;
  return cache;
}

TEST(SpaceBudgetTest, MarginRule) {
  constexpr double kFraction = 0.05;
  constexpr uint64_t kFloor = 64 * kMiB;
  EXPECT_EQ(MinFreeBytes(100 * kGiB, kFraction, kFloor), 5 * kGiB);   // 5 %
  EXPECT_EQ(MinFreeBytes(1 * kGiB, kFraction, kFloor), 64 * kMiB);    // the floor
  EXPECT_EQ(MinFreeBytes(200 * kMiB, kFraction, kFloor), 50 * kMiB);  // a quarter at most
  EXPECT_EQ(MinFreeBytes(20 * kMiB, kFraction, kFloor), 5 * kMiB);    // a small tmpfs
  EXPECT_EQ(MinFreeBytes(0, kFraction, kFloor), 0u);
  EXPECT_EQ(MinFreeBytes(100 * kGiB, 0, 0), 0u);
  EXPECT_EQ(MinFreeBytes(100 * kMiB, 2.0, 0), 100 * kMiB);  // clamped to the whole disk
  EXPECT_EQ(MinFreeBytes(100 * kMiB, -1.0, kFloor), 25 * kMiB);
  EXPECT_EQ(MinFreeBytes(100 * kMiB, std::nan(""), kFloor), 25 * kMiB);
}

TEST(BlockCacheSpaceTest, EvictsLeastRecentlyUsedToKeepTheMargin) {
  TempDir tmp;
  FakeDisk disk(tmp.path(), 1 * kMiB);
  disk.other = 512 * kKiB;  // staging: 256 KiB left for the cache
  auto cache = OpenCache(SmallDisk(tmp.path(), &disk));
  const std::string block(64 * kKiB, 'x');
  for (const char* name : {"/a", "/b", "/c", "/d"}) cache->Put(Key(name), block);
  BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.blocks, 4u);  // the last one leaves exactly the margin
  EXPECT_EQ(s.evicted, 0u);
  EXPECT_EQ(s.disk_total, 1 * kMiB);
  EXPECT_EQ(s.disk_margin, 256 * kKiB);
  EXPECT_EQ(s.disk_free, 256 * kKiB);

  std::string got;
  ASSERT_TRUE(cache->Get(Key("/a"), &got));
  cache->Put(Key("/e"), block);  // evicts /b, the least recently used
  EXPECT_FALSE(cache->Get(Key("/b"), &got));
  for (const char* name : {"/c", "/d", "/a", "/e"})
    EXPECT_TRUE(cache->Get(Key(name), &got)) << name;

  disk.other += 128 * kKiB;      // staging grew: 128 KiB free, under the margin
  cache->Put(Key("/f"), block);  // evicts 192 KiB: /c, /d, /a
  for (const char* name : {"/c", "/d", "/a"}) EXPECT_FALSE(cache->Get(Key(name), &got)) << name;
  for (const char* name : {"/e", "/f"}) EXPECT_TRUE(cache->Get(Key(name), &got)) << name;
  s = cache->GetStats();
  EXPECT_EQ(s.blocks, 2u);
  EXPECT_EQ(s.evicted, 4u);
  EXPECT_EQ(s.skipped_no_space, 0u);
  EXPECT_EQ(s.disk_free, 256 * kKiB);
  EXPECT_EQ(s.corrupt, 0u);
  EXPECT_EQ(BlockFiles(tmp.path()).size(), 2u);
}

TEST(BlockCacheSpaceTest, SkipsABlockThatCannotFitAndGivesBackOnlyTheMargin) {
  TempDir tmp;
  FakeDisk disk(tmp.path(), 1 * kMiB);
  auto cache = OpenCache(SmallDisk(tmp.path(), &disk));
  const std::string small(4 * kKiB, 's');
  for (int i = 0; i < 8; ++i) cache->Put(Key("/s", i), small);  // 32 KiB
  disk.other = 1 * kMiB - 32 * kKiB - 248 * kKiB;               // free: 8 KiB under the margin

  cache->Put(Key("/big"), std::string(64 * kKiB, 'b'));  // would need 72 KiB freed
  BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.skipped_no_space, 1u);
  EXPECT_EQ(s.evicted, 2u);  // 8 KiB: the two oldest blocks, no more
  EXPECT_EQ(s.blocks, 6u);
  EXPECT_EQ(s.disk_free, 256 * kKiB);
  EXPECT_EQ(s.write_failures, 0u);
  EXPECT_EQ(BlockFiles(tmp.path()).size(), 6u);
  std::string got;
  EXPECT_FALSE(cache->Get(Key("/big"), &got));
  EXPECT_FALSE(cache->Get(Key("/s", 0), &got));
  EXPECT_FALSE(cache->Get(Key("/s", 1), &got));
  EXPECT_TRUE(cache->Get(Key("/s", 2), &got));

  cache->Put(Key("/t"), small);  // fits by evicting one: /s 3 (2 was just read)
  EXPECT_TRUE(cache->Get(Key("/t"), &got));
  EXPECT_FALSE(cache->Get(Key("/s", 3), &got));
  EXPECT_EQ(cache->GetStats().blocks, 6u);

  disk.other = 0;  // staging files uploaded and deleted
  cache->Put(Key("/big"), std::string(64 * kKiB, 'b'));
  EXPECT_TRUE(cache->Get(Key("/big"), &got));
  EXPECT_EQ(cache->GetStats().skipped_no_space, 1u);
}

TEST(BlockCacheSpaceTest, ReleaseEvictsLeastRecentlyUsedFirst) {
  TempDir tmp;
  FakeDisk disk(tmp.path(), 1 * kGiB);
  auto cache = OpenCache(SmallDisk(tmp.path(), &disk));
  const std::string block(4 * kKiB, 'x');
  for (const char* name : {"/a", "/b", "/c", "/d", "/e"}) cache->Put(Key(name), block);
  std::string got;
  ASSERT_TRUE(cache->Get(Key("/a"), &got));  // LRU order: b c d e a

  EXPECT_EQ(cache->Release(0), 0u);
  EXPECT_EQ(cache->Release(8 * kKiB), 8 * kKiB);  // /b, /c
  EXPECT_EQ(cache->Release(1), 4 * kKiB);         // at least 1 byte: /d
  EXPECT_FALSE(cache->Get(Key("/b"), &got));
  EXPECT_FALSE(cache->Get(Key("/c"), &got));
  EXPECT_FALSE(cache->Get(Key("/d"), &got));
  EXPECT_TRUE(cache->Get(Key("/e"), &got));
  EXPECT_EQ(BlockFiles(tmp.path()).size(), 2u);

  EXPECT_EQ(cache->Release(1 * kGiB), 8 * kKiB);  // all there is
  EXPECT_EQ(cache->Release(4 * kKiB), 0u);        // empty
  const BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.blocks, 0u);
  EXPECT_EQ(s.bytes, 0u);
  EXPECT_EQ(s.evicted, 5u);
  EXPECT_TRUE(BlockFiles(tmp.path()).empty());
  cache->Put(Key("/a"), block);
  EXPECT_TRUE(cache->Get(Key("/a"), &got));
}

// Puts, Gets and Releases racing on a tight disk: blocks are never wrong,
// index and files stay in step, and the margin holds within the blocks in
// flight.
TEST(BlockCacheSpaceTest, ConcurrentPutGetReleaseKeepTheMargin) {
  TempDir tmp;
  FakeDisk disk(tmp.path(), 1 * kMiB);
  auto cache = OpenCache(SmallDisk(tmp.path(), &disk));
  constexpr uint64_t kBlock = 16 * kKiB;
  constexpr int kThreads = 4;
  const auto data = [](int k) { return std::string(kBlock, static_cast<char>('a' + k % 26)); };
  std::atomic<int> wrong{0};
  std::atomic<uint64_t> released{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::string got;
      for (int i = 0; i < 300; ++i) {
        const int k = static_cast<int>(rng() % 96);  // 1.5 MiB of keys for 768 KiB
        if (t == 0 && i % 25 == 0) {
          released += cache->Release(64 * kKiB);
        } else if (cache->Get(Key("/k", k), &got)) {
          if (got != data(k)) wrong.fetch_add(1);
        } else {
          cache->Put(Key("/k", k), data(k));
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_GT(released.load(), 0u);
  const BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.write_failures, 0u);
  EXPECT_EQ(s.bytes, s.blocks * kBlock);
  // A Put racing an eviction of the same key can leave an entry without its
  // file (block_cache.h, Thread-safety): rare, a miss, never a file without
  // an entry. The margin is kept on what is really on disk.
  const uint64_t files = BlockFiles(tmp.path()).size();
  EXPECT_LE(files, s.blocks);
  EXPECT_LE(s.blocks - files, 2u);
  EXPECT_LE(files * kBlock, 768 * kKiB);
  const std::optional<DiskSpace> now = disk.Reader()();
  ASSERT_TRUE(now.has_value());
  EXPECT_GE(now->free_bytes, 256 * kKiB);
}

// Within disk_space_ttl the reading is reused, and the cache's own writes
// and evictions keep it current.
TEST(BlockCacheSpaceTest, AReadingIsReusedAndFollowsTheCachesOwnWrites) {
  TempDir tmp;
  FakeDisk disk(tmp.path(), 1 * kMiB);
  BlockCacheOptions options = SmallDisk(tmp.path(), &disk);
  options.disk_space_ttl = std::chrono::hours(1);
  auto cache = OpenCache(options);
  const std::string block(64 * kKiB, 'x');
  for (int i = 0; i < 12; ++i) cache->Put(Key("/f", i), block);  // 768 KiB: down to the margin
  EXPECT_EQ(cache->GetStats().disk_free, 256 * kKiB);
  EXPECT_EQ(cache->GetStats().evicted, 0u);
  cache->Put(Key("/f", 12), block);  // the estimate says: evict one
  cache->Put(Key("/f", 13), block);
  const BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.blocks, 12u);
  EXPECT_EQ(s.evicted, 2u);
  EXPECT_EQ(s.disk_free, 256 * kKiB);
  EXPECT_EQ(disk.reads.load(), 1);
  EXPECT_EQ(BlockFiles(tmp.path()).size(), 12u);
}

TEST(BlockCacheSpaceTest, UnknownFreeSpaceKeepsNoMargin) {
  for (const bool throws : {false, true}) {
    TempDir tmp;
    BlockCacheOptions options;
    options.dir = tmp.path();
    options.max_bytes = 3 * 4096;
    options.boot_id = "boot-1";
    options.disk_space = [throws]() -> std::optional<DiskSpace> {
      if (throws) throw std::runtime_error("statvfs exploded");
      return std::nullopt;
    };
    auto cache = OpenCache(options);
    for (int i = 0; i < 4; ++i) cache->Put(Key("/f", i), "data");
    const BlockCache::Stats s = cache->GetStats();
    EXPECT_EQ(s.blocks, 3u) << throws;  // only max_bytes bounds it
    EXPECT_EQ(s.evicted, 1u) << throws;
    EXPECT_EQ(s.skipped_no_space, 0u) << throws;
    EXPECT_EQ(s.write_failures, 0u) << throws;
    EXPECT_EQ(s.disk_free, 0u) << throws;
    EXPECT_EQ(s.disk_total, 0u) << throws;
    EXPECT_EQ(s.disk_margin, 0u) << throws;
  }
}

TEST(BlockCacheSpaceTest, ByDefaultStatvfsOfTheCacheFolder) {
  TempDir tmp;
  BlockCacheOptions options;
  options.dir = tmp.path() / "cache";
  options.boot_id = "boot-1";
  auto cache = OpenCache(options);
  cache->Put(Key("/f"), "data");
  const BlockCache::Stats s = cache->GetStats();
  struct statvfs st;
  ASSERT_EQ(::statvfs(tmp.path().c_str(), &st), 0);
  EXPECT_EQ(s.disk_total, uint64_t{st.f_blocks} * st.f_frsize);
  EXPECT_GT(s.disk_total, 0u);
  EXPECT_LE(s.disk_free, s.disk_total);
  EXPECT_EQ(s.disk_margin, MinFreeBytes(s.disk_total, 0.05, 64 * kMiB));
}

// Writes `size` bytes to a new file as a staging write would, releasing
// cache space and retrying once whenever the disk is full. Returns how many
// times it met ENOSPC; -1 when a retry failed.
int WriteStagingFile(const fs::path& path, uint64_t size, BlockCache* cache) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  const std::string chunk(256 * kKiB, 'w');
  int full = 0;
  bool retried = false;
  for (uint64_t done = 0; done < size;) {
    const ssize_t n = ::write(fd, chunk.data(), std::min<uint64_t>(chunk.size(), size - done));
    if (n > 0) {
      done += static_cast<uint64_t>(n);
      retried = false;
    } else if (n < 0 && errno == ENOSPC && !retried) {
      ++full;
      retried = true;
      cache->Release(size - done);
    } else {
      ::close(fd);
      return -1;
    }
  }
  return ::close(fd) == 0 ? full : -1;
}

// A real 24 MiB tmpfs (margin: a quarter, 6 MiB): the cache fills the rest
// by evicting, then a staging file needs the space and gets it by Release.
TEST(BlockCacheSpaceTest, RealFullDiskReleaseMakesRoomForStaging) {
  TmpfsMount tmpfs(24 * kMiB);
  if (!tmpfs.mounted()) GTEST_SKIP() << tmpfs.why();
  BlockCacheOptions options;
  options.dir = tmpfs.path() / "cache";
  options.boot_id = "boot-1";
  options.disk_space_ttl = 0ms;
  auto cache = OpenCache(options);
  ASSERT_NE(cache, nullptr);
  const std::string block(1 * kMiB, 'c');
  for (int i = 0; i < 30; ++i) cache->Put(Key("/f", i), block);
  BlockCache::Stats s = cache->GetStats();
  EXPECT_EQ(s.disk_margin, 6 * kMiB);
  EXPECT_EQ(s.skipped_no_space, 0u);
  EXPECT_EQ(s.write_failures, 0u);
  EXPECT_GE(s.blocks, 14u);
  EXPECT_LE(s.blocks, 18u);
  EXPECT_GE(s.disk_free, s.disk_margin);
  const uint64_t cached = s.blocks;

  const int full = WriteStagingFile(tmpfs.path() / "staged", 12 * kMiB, cache.get());
  EXPECT_GT(full, 0);  // the disk really was full, and Release made room
  EXPECT_EQ(fs::file_size(tmpfs.path() / "staged"), 12 * kMiB);
  s = cache->GetStats();
  EXPECT_LT(s.blocks, cached);
  EXPECT_EQ(BlockFiles(options.dir).size(), s.blocks);
  std::string got;
  EXPECT_TRUE(cache->Get(Key("/f", 29), &got));  // the newest blocks stay
}

// Fills the file system holding `dir` (a tmpfs) with `dir`/filler until
// ENOSPC. False if it could not.
bool FillDisk(const fs::path& dir) {
  const int fd = ::open((dir / "filler").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const std::string chunk(4096, 'f');
  ssize_t n;
  while ((n = ::write(fd, chunk.data(), chunk.size())) > 0) {
  }
  const bool full = n < 0 && errno == ENOSPC;
  return ::close(fd) == 0 && full;
}

// With little history in the index, LMDB has no free page to reuse, so on a
// full disk the eviction's own index write fails: Release deletes the
// block's file anyway, and the entry left behind is a plain miss.
TEST(BlockCacheSpaceTest, RealFullDiskReleaseWhenTheIndexCannotBeWritten) {
  TmpfsMount tmpfs(8 * kMiB);
  if (!tmpfs.mounted()) GTEST_SKIP() << tmpfs.why();
  BlockCacheOptions options;
  options.dir = tmpfs.path() / "cache";
  options.boot_id = "boot-1";
  options.min_free_fraction = 0;
  options.min_free_bytes = 0;
  auto cache = OpenCache(options);
  ASSERT_NE(cache, nullptr);
  cache->Put(Key("/f"), std::string(1 * kMiB, 'c'));
  ASSERT_EQ(cache->GetStats().blocks, 1u);
  ASSERT_TRUE(FillDisk(tmpfs.path()));

  EXPECT_EQ(cache->Release(1), 1 * kMiB);
  EXPECT_TRUE(BlockFiles(options.dir).empty());
  EXPECT_EQ(cache->GetStats().blocks, 1u);  // the entry stays
  EXPECT_EQ(cache->GetStats().evicted, 1u);
  std::string got;
  EXPECT_FALSE(cache->Get(Key("/f"), &got));  // an entry without its file ...
  EXPECT_EQ(cache->GetStats().corrupt, 1u);
  EXPECT_EQ(cache->GetStats().blocks, 0u);  // ... dropped
  EXPECT_EQ(cache->Release(1), 0u);         // nothing more to free
  EXPECT_EQ(cache->GetStats().evicted, 1u);

  fs::remove(tmpfs.path() / "filler");
  cache->Put(Key("/f"), "back");
  ASSERT_TRUE(cache->Get(Key("/f"), &got));
  EXPECT_EQ(got, "back");
  EXPECT_EQ(cache->GetStats().blocks, 1u);
}

}  // namespace
}  // namespace globusfs::cache
