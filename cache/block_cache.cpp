#include "cache/block_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cache/block_format.h"
#include "cache/block_index.h"
#include "cache/crc32c.h"
#include "cache/file_util.h"
#include "cache/lmdb.h"
#include "cache/space_budget.h"

namespace globusfs::cache {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kFormatKey = "format";
// /2: the content version is part of the block hash (an index of another
// format is wiped at Open).
constexpr std::string_view kFormatTag = "globusfs-blocks/2";
constexpr const char* kLockFile = "owner.lock";
constexpr const char* kMarkerFile = "open-session";
constexpr const char* kIndexDir = "index";
constexpr const char* kBlocksDir = "blocks";
constexpr size_t kMaxPendingTouches = 1024;
constexpr uint64_t kMiB = uint64_t{1} << 20;

using namespace block_format;  // NOLINT: this file is its only user
using block_index::Dbis;
using block_index::IndexOps;
using block_index::kBytesKey;
using block_index::kSweepKey;
using block_index::kTempPrefix;
using block_index::Touches;

// ---- DiskBlockCache ------------------------------------------------------

class DiskBlockCache final : public BlockCache {
 public:
  explicit DiskBlockCache(const BlockCacheOptions& options)
      : BlockCache(options.block_size),
        options_(options),
        blocks_dir_(options.dir / kBlocksDir),
        budget_(options.disk_space, options.min_free_fraction, options.min_free_bytes,
                options.disk_space_ttl) {}
  ~DiskBlockCache() override;
  DiskBlockCache(const DiskBlockCache&) = delete;
  DiskBlockCache& operator=(const DiskBlockCache&) = delete;

  // The steps of BlockCache::Open, in order.
  void TakeLock(file_util::ExclusiveLock lock) { dir_lock_ = std::move(lock); }
  void WipeAll();
  void WriteMarker();
  bool Init(bool sweep, std::string* why);
  void Sweep() noexcept;

  bool Get(const BlockKey& key, std::string* data) override;
  void Put(const BlockKey& key, std::string_view data) override;
  void InvalidateFile(std::string_view collection_id, std::string_view path) override;
  uint64_t Release(uint64_t bytes) override;
  Stats GetStats() override;

 private:
  Hash BlockHash(const BlockKey& key) const;
  Hash FileHash(std::string_view collection_id, std::string_view path) const;
  fs::path BlockPath(const Hash& h) const;
  // Writes the block to a temp file and renames it into place.
  bool StoreFile(const Hash& h, std::string_view data);
  void RemoveFiles(const std::vector<Hash>& hashes) const;
  // Deletes evicted blocks' files; returns the Cost of those that existed.
  uint64_t RemoveVictims(const std::vector<block_index::LruEntry>& victims);
  // Keeps the free-space margin for a block costing `cost` (see Disk space):
  // true when it may be written (its bytes are then taken from the budget).
  bool MakeRoom(uint64_t cost);
  // Evicts least recently used blocks, at least amount(charged bytes of the
  // cache) bytes' worth (or all), in one index write, then deletes their
  // files; returns the bytes that frees on disk. Throws LmdbError.
  uint64_t EvictLru(const std::function<uint64_t(uint64_t cached)>& amount);
  // Release when the index cannot be written: deletes the files of the
  // least recently used blocks (skipping those already gone) until `bytes`
  // are freed, leaving their entries, each a miss dropped when next met.
  uint64_t RemoveOldestFiles(uint64_t bytes);
  // Drops a block whose file did not match `seen` (nullopt: undecodable).
  void Drop(const Hash& h, const std::optional<Record>& seen);
  // Remembers a read of `h` for the LRU order; flushes when many are pending.
  void Touch(const Hash& h);
  Touches TakeTouches();
  void FlushTouches();

  const BlockCacheOptions options_;
  const fs::path blocks_dir_;
  SpaceBudget budget_;
  file_util::ExclusiveLock dir_lock_;  // declared before env_: released after it closes
  std::unique_ptr<Env> env_;
  Dbis dbis_;  // see cache/block_index.h
  const Sha256 sha256_;
  bool marker_written_ = false;
  std::atomic<uint64_t> next_seq_{1};   // LRU sequence for the next put or read
  std::atomic<uint64_t> next_temp_{0};  // temp file names
  std::atomic<bool> disabled_{false};   // set when an invalidation failed
  std::atomic<uint64_t> hits_{0}, misses_{0}, corrupt_{0}, evicted_{0}, write_failures_{0};
  std::atomic<uint64_t> skipped_no_space_{0};
  std::mutex touches_mu_;
  // Reads not yet in the index: block → seq of its latest read. Guarded by
  // touches_mu_, which is never held while calling into LMDB.
  std::unordered_map<Hash, uint64_t, HashHasher> touches_;
};

// ---- opening and closing -------------------------------------------------

void DiskBlockCache::WipeAll() {
  env_.reset();
  file_util::RemoveDatabaseFiles(options_.dir / kIndexDir);
  std::error_code ec;
  fs::remove_all(blocks_dir_, ec);
}

void DiskBlockCache::WriteMarker() {
  file_util::WriteFileSynced(options_.dir / kMarkerFile, options_.boot_id);
  marker_written_ = true;
}

bool DiskBlockCache::Init(bool sweep, std::string* why) {
  EnvOptions env_options;
  env_options.map_size = 16 * kMiB;
  // ~200 bytes of index per block at most; blocks cost at least kUnit.
  env_options.max_map_size = std::max(256 * kMiB, options_.max_bytes / kUnit * 1024);
  env_options.max_dbs = 4;
  env_options.durable = false;
  try {
    file_util::EnsurePrivateDir(blocks_dir_);
    env_ = Env::Open(options_.dir / kIndexDir, env_options);
    bool compatible = true;
    env_->Write([&](Txn& txn) {
      dbis_.blocks = Dbi::Open(txn, "blocks", MDB_CREATE);
      dbis_.files = Dbi::Open(txn, "files", MDB_CREATE);
      dbis_.lru = Dbi::Open(txn, "lru", MDB_CREATE);
      dbis_.meta = Dbi::Open(txn, "meta", MDB_CREATE);
      if (auto format = dbis_.meta.Get(txn, kFormatKey)) {
        compatible = *format == kFormatTag;
      } else {
        compatible = dbis_.blocks.Stat(txn).ms_entries == 0;
        if (compatible) dbis_.meta.Put(txn, kFormatKey, kFormatTag);
      }
      if (compatible && sweep) dbis_.meta.Put(txn, kSweepKey, Le64(0));
    });
    if (!compatible) {
      *why = "index has another format";
      return false;
    }
    {
      Txn txn = env_->BeginRead();
      Cursor c = Cursor::Open(txn, dbis_.lru);
      next_seq_ = c.Last() ? ParseSeqKey(c.key()) + 1 : 1;
    }
    env_->Sync();  // also flushes anything a crashed process left unsynced
    return true;
  } catch (const std::exception& e) {
    *why = e.what();
    return false;
  }
}

// Deletes temp files, then (if a sweep is pending) block files that have no
// index entry, resuming where the last Open stopped. Best effort: an error
// leaves the rest for the next Open.
void DiskBlockCache::Sweep() noexcept {
  try {
    block_index::SweepOrphans(*env_, dbis_, blocks_dir_, options_.orphan_scan_budget);
  } catch (...) {
  }
}

DiskBlockCache::~DiskBlockCache() {
  try {
    if (env_ != nullptr) {
      FlushTouches();
      env_->Sync();
      env_.reset();
    }
    if (marker_written_) {
      fs::remove(options_.dir / kMarkerFile);
      file_util::SyncDir(options_.dir);
    }
  } catch (...) {
    // The marker stays: the next Open treats this as a crash.
  }
}

// ---- blocks ----------------------------------------------------------------

Hash DiskBlockCache::BlockHash(const BlockKey& key) const {
  std::string input;
  input.reserve(key.collection_id.size() + key.path.size() + 64);
  input.append(key.collection_id).push_back('\0');
  input.append(key.path).push_back('\0');
  input.append(std::to_string(key.file_size)).push_back('\0');
  input.append(std::to_string(key.file_mtime)).push_back('\0');
  input.append(std::to_string(key.version)).push_back('\0');
  input.append(std::to_string(key.index));
  return sha256_.Truncated(input);
}

Hash DiskBlockCache::FileHash(std::string_view collection_id, std::string_view path) const {
  std::string input(collection_id);
  input.push_back('\0');
  input.append(path);
  return sha256_.Truncated(input);
}

fs::path DiskBlockCache::BlockPath(const Hash& h) const {
  const std::string hex = Hex(h);
  return blocks_dir_ / hex.substr(0, 2) / hex;
}

bool DiskBlockCache::StoreFile(const Hash& h, std::string_view data) {
  const fs::path temp = blocks_dir_ / (std::string(kTempPrefix) + std::to_string(::getpid()) + "." +
                                       std::to_string(next_temp_.fetch_add(1)));
  const fs::path dest = BlockPath(h);
  bool ok = WriteNewFile(temp, data);
  if (ok && ::rename(temp.c_str(), dest.c_str()) != 0) {
    ok = errno == ENOENT &&  // first block of this subfolder
         (::mkdir(dest.parent_path().c_str(), 0700) == 0 || errno == EEXIST) &&
         ::rename(temp.c_str(), dest.c_str()) == 0;
  }
  if (!ok) {
    std::error_code ec;
    fs::remove(temp, ec);
  }
  return ok;
}

void DiskBlockCache::RemoveFiles(const std::vector<Hash>& hashes) const {
  std::error_code ec;
  for (const Hash& h : hashes) fs::remove(BlockPath(h), ec);
}

bool DiskBlockCache::Get(const BlockKey& key, std::string* data) {
  try {
    if (!disabled_.load(std::memory_order_acquire)) {
      const Hash h = BlockHash(key);
      bool present = false;
      std::optional<Record> record;
      {
        Txn txn = env_->BeginRead();
        if (const std::optional<std::string_view> v = dbis_.blocks.Get(txn, View(h))) {
          present = true;
          Record r;
          if (DecodeRecord(*v, &r)) record = r;
        }
      }
      if (present) {
        if (record && ReadBlockFile(BlockPath(h), record->length, data) &&
            Crc32c(*data) == record->crc) {
          hits_.fetch_add(1, std::memory_order_relaxed);
          Touch(h);
          return true;
        }
        corrupt_.fetch_add(1, std::memory_order_relaxed);
        Drop(h, record);
      }
    }
  } catch (...) {
    // An LMDB or memory error: a miss.
  }
  data->clear();
  misses_.fetch_add(1, std::memory_order_relaxed);
  return false;
}

void DiskBlockCache::Drop(const Hash& h, const std::optional<Record>& seen) {
  bool removed = false;
  try {
    env_->Write([&](Txn& txn) {
      IndexOps ops(txn, dbis_);
      bool present = false;
      const std::optional<Record> now = ops.Find(h, &present);
      // Unless a Put replaced it with other bytes meanwhile.
      removed = present &&
                (seen ? now && now->length == seen->length && now->crc == seen->crc : !now) &&
                ops.Remove(h);
      ops.Finish();
    });
  } catch (...) {
    return;  // the next Get tries again
  }
  if (removed) RemoveFiles({h});
}

void DiskBlockCache::Put(const BlockKey& key, std::string_view data) {
  const uint64_t cost = Cost(data.size());
  if (disabled_.load(std::memory_order_acquire) || cost > options_.max_bytes) return;
  try {
    const Hash h = BlockHash(key);
    const uint32_t crc = Crc32c(data);
    {
      Txn txn = env_->BeginRead();
      const std::optional<std::string_view> v = dbis_.blocks.Get(txn, View(h));
      Record r;
      if (v && DecodeRecord(*v, &r) && r.length == data.size() && r.crc == crc) {
        txn.Abort();
        Touch(h);  // already there (a concurrent Put): nothing to write
        return;
      }
    }
    if (!MakeRoom(cost)) {
      skipped_no_space_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (!StoreFile(h, data)) {
      budget_.Freed(cost);
      write_failures_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    Record record{data.size(), crc, 0, FileHash(key.collection_id, key.path)};
    const Touches touches = TakeTouches();
    std::vector<block_index::LruEntry> victims;
    try {
      env_->Write([&](Txn& txn) {
        victims.clear();
        IndexOps ops(txn, dbis_);
        ops.ApplyTouches(touches);
        record.seq = next_seq_.fetch_add(1);
        ops.Insert(h, record);
        ops.EvictTo(options_.max_bytes, &victims);  // never h: it is the newest and fits
        ops.Finish();
      });
    } catch (...) {
      RemoveFiles({h});  // a file without an entry would be an orphan
      budget_.Freed(cost);
      write_failures_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    RemoveVictims(victims);
  } catch (...) {
    write_failures_.fetch_add(1, std::memory_order_relaxed);
  }
}

bool DiskBlockCache::MakeRoom(uint64_t cost) {
  // Reserve, or evict and try again: the reservation is taken only against
  // what eviction really freed, so Puts racing each other (or a Release)
  // never overshoot the margin.
  for (int attempt = 0; attempt < 3; ++attempt) {
    const SpaceBudget::Shortfall need = budget_.Reserve(cost);
    if (need.to_fit == 0) return true;
    // Make room if evicting can; otherwise give back only what the margin
    // lacks already (staging files need it more than the cache does).
    bool can = false;
    EvictLru([&](uint64_t cached) {
      can = need.to_fit <= cached;
      return can ? need.to_fit : need.to_margin;
    });
    if (!can) return false;
  }
  return false;
}

uint64_t DiskBlockCache::EvictLru(const std::function<uint64_t(uint64_t cached)>& amount) {
  const Touches touches = TakeTouches();  // evict by the latest reads' order
  std::vector<block_index::LruEntry> victims;
  env_->Write([&](Txn& txn) {
    victims.clear();
    IndexOps ops(txn, dbis_);
    ops.ApplyTouches(touches);
    const uint64_t cached = ops.bytes();
    ops.EvictTo(cached - std::min(cached, amount(cached)), &victims);
    ops.Finish();
  });
  return RemoveVictims(victims);
}

uint64_t DiskBlockCache::RemoveVictims(const std::vector<block_index::LruEntry>& victims) {
  uint64_t freed = 0;
  for (const block_index::LruEntry& v : victims) {
    std::error_code ec;
    if (fs::remove(BlockPath(v.hash), ec)) {
      freed += v.cost;
      evicted_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  budget_.Freed(freed);
  return freed;
}

uint64_t DiskBlockCache::Release(uint64_t bytes) {
  uint64_t freed = 0;
  try {
    // An entry whose file is gone already frees nothing: go on until the
    // bytes are really freed or the cache is empty.
    for (bool empty = false; freed < bytes && !empty;) {
      const uint64_t want = bytes - freed;
      freed += EvictLru([&](uint64_t cached) {
        empty = cached <= want;
        return want;
      });
    }
    return freed;
  } catch (...) {
    // On a full disk LMDB may need a new page for the eviction itself.
  }
  try {
    return freed + RemoveOldestFiles(bytes - freed);
  } catch (...) {
    return freed;
  }
}

uint64_t DiskBlockCache::RemoveOldestFiles(uint64_t bytes) {
  uint64_t freed = 0;
  std::string after;
  while (freed < bytes) {
    std::vector<block_index::LruEntry> batch;
    {
      Txn txn = env_->BeginRead();
      batch = block_index::OldestBlocks(txn, dbis_, after, 64);
    }
    if (batch.empty()) break;
    after = batch.back().seq_key;
    for (size_t i = 0; i < batch.size() && freed < bytes; ++i) {
      freed += RemoveVictims({batch[i]});  // 0 for a file gone already
    }
  }
  return freed;
}

void DiskBlockCache::InvalidateFile(std::string_view collection_id, std::string_view path) {
  std::vector<Hash> removed;
  try {
    const Hash file = FileHash(collection_id, path);
    env_->Write([&](Txn& txn) {
      removed.clear();
      IndexOps ops(txn, dbis_);
      for (const Hash& h : ops.BlocksOf(file)) {
        if (ops.Remove(h)) removed.push_back(h);
      }
      ops.Finish();
    });
  } catch (...) {
    // An old version might stay and be served: serve nothing instead.
    write_failures_.fetch_add(1, std::memory_order_relaxed);
    disabled_.store(true, std::memory_order_release);
    return;
  }
  RemoveFiles(removed);
}

BlockCache::Stats DiskBlockCache::GetStats() {
  Stats stats;
  try {
    Txn txn = env_->BeginRead();
    if (auto v = dbis_.meta.Get(txn, kBytesKey)) stats.bytes = ParseLe64(*v);
    stats.blocks = dbis_.blocks.Stat(txn).ms_entries;
  } catch (...) {
  }
  stats.hits = hits_.load(std::memory_order_relaxed);
  stats.misses = misses_.load(std::memory_order_relaxed);
  stats.corrupt = corrupt_.load(std::memory_order_relaxed);
  stats.evicted = evicted_.load(std::memory_order_relaxed);
  stats.write_failures = write_failures_.load(std::memory_order_relaxed);
  stats.skipped_no_space = skipped_no_space_.load(std::memory_order_relaxed);
  const SpaceBudget::Reading disk = budget_.Current();
  stats.disk_free = disk.free;
  stats.disk_total = disk.total;
  stats.disk_margin = disk.margin;
  return stats;
}

// ---- LRU order of reads ----------------------------------------------------

void DiskBlockCache::Touch(const Hash& h) {
  bool flush = false;
  {
    std::lock_guard<std::mutex> lock(touches_mu_);
    touches_[h] = next_seq_.fetch_add(1);
    flush = touches_.size() >= kMaxPendingTouches;
  }
  if (flush) FlushTouches();
}

Touches DiskBlockCache::TakeTouches() {
  std::unordered_map<Hash, uint64_t, HashHasher> taken;
  {
    std::lock_guard<std::mutex> lock(touches_mu_);
    taken.swap(touches_);
  }
  return Touches(taken.begin(), taken.end());
}

void DiskBlockCache::FlushTouches() {
  const Touches touches = TakeTouches();
  if (touches.empty()) return;
  try {
    env_->Write([&](Txn& txn) { IndexOps(txn, dbis_).ApplyTouches(touches); });
  } catch (...) {
    // Only the LRU order of these reads is lost.
  }
}

}  // namespace

std::unique_ptr<BlockCache> BlockCache::Open(const BlockCacheOptions& options, std::string* error) {
  std::string why;
  try {
    if (options.dir.empty()) {
      why = "no directory given";
    } else if (options.block_size == 0) {
      why = "block size 0";
    } else {
      BlockCacheOptions opts = options;
      if (opts.boot_id.empty()) opts.boot_id = file_util::ReadBootId();
      if (!opts.disk_space) opts.disk_space = [dir = opts.dir] { return StatvfsDiskSpace(dir); };
      file_util::EnsurePrivateDir(opts.dir);
      file_util::ExclusiveLock lock = file_util::ExclusiveLock::Acquire(opts.dir / kLockFile);
      // A marker means the last session did not close. Same boot: a process
      // crash; the index is intact but files may be orphaned. Another boot
      // (or none known): unsynced index pages may be lost or torn.
      std::string previous_boot;
      bool sweep = false;
      bool wipe = false;
      if (file_util::ReadSmallFile(opts.dir / kMarkerFile, &previous_boot)) {
        wipe = opts.boot_id.empty() || previous_boot != opts.boot_id;
        sweep = !wipe;
      }
      auto cache = std::make_unique<DiskBlockCache>(opts);
      cache->TakeLock(std::move(lock));
      if (wipe) cache->WipeAll();
      cache->WriteMarker();
      if (!cache->Init(sweep, &why)) {
        cache->WipeAll();
        if (!cache->Init(false, &why)) cache.reset();
      }
      if (cache) {
        cache->Sweep();
        return cache;
      }
    }
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (error != nullptr) *error = "block cache in " + options.dir.string() + ": " + why;
  return nullptr;
}

}  // namespace globusfs::cache
