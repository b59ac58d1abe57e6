// BlockCache: file contents cached on local disk in fixed-size blocks, so a
// second read of a file makes no HTTPS request.
//
// Keys: (collection id, path, file size, file mtime, content version, block
// index), all of it the block's identity (hashed into its name). Size and
// mtime come from the listing the block was read under, and the content
// version is the filesystem's id for what the file holds, so a block stored
// under one version is never returned for another, even with the same
// collection, path, size and mtime: a changed file simply has other keys
// (and InvalidateFile drops the old ones eagerly, whatever their version).
// Storage: one file per block under DIR/blocks/, indexed in an LMDB
// environment (DIR/index) with each block's length and checksum; a block
// whose bytes do not match its checksum (or whose file vanished) is a miss,
// and is dropped. The total is kept under `max_bytes` by evicting the least
// recently used blocks.
//
// Layout: DIR/owner.lock (flock'ed while open: one BlockCache per DIR),
// DIR/open-session (boot id, present while open), DIR/index (LMDB, not
// synced), DIR/blocks/<2 hex>/<32 hex> (one file per block, named by a
// truncated SHA-256 of the key; written to DIR/blocks/tmp.* and renamed into
// place, never fsynced).
// Crash safety: never serves wrong data. Every Get checks the file's length
// and CRC-32C against the index, so an index entry without its file (or with
// a torn one) is a miss and is dropped. A file without an index entry is
// invisible; after a process crash Open deletes such orphans, at most
// `orphan_scan_budget` files examined per Open (a pass resumes at the next
// Open). After a system crash (another boot id) the index may be torn:
// Open starts empty (deleting every block file).
// Accounting: a block costs its length rounded up to 4 KiB (min 4 KiB), its
// disk footprint; `max_bytes` bounds the sum. Reads update LRU order in
// memory and reach the index with the next Put (or every 1024 reads, or at
// close): a crash forgets recent reads' order, nothing else.
// Disk space: the cache shares its filesystem with the daemon's staging
// files, which must win, so besides `max_bytes` it keeps a margin of free
// space: max(min_free_fraction of the filesystem, min(min_free_bytes, a
// quarter of it)) — 5 % or 64 MiB by default, 5 MiB on a 20 MiB tmpfs (see
// cache/space_budget.h). A Put that would leave less free than the margin
// first evicts least recently used blocks to make room; if even an empty
// cache would not leave enough, it evicts only what restores the margin and
// skips the block (Stats::skipped_no_space). Free space is read with
// statvfs (or `disk_space`) at most every `disk_space_ttl`, and adjusted in
// between by the cache's own writes and deletions. Release(bytes) evicts on
// demand: the filesystem calls it when a staging write meets ENOSPC.
// Errors: no method throws. A failed Put is simply not cached. A failed
// InvalidateFile disables the cache (every Get misses, Put does nothing)
// until reopened, since an old version could otherwise be served.
//
// Thread-safety: all methods are thread-safe and may run concurrently; no
// lock is held across file I/O of another block. Locks: the Env's
// (cache/lmdb.h), a mutex over the pending reads and the SpaceBudget's
// mutex, two leaves never held while calling into LMDB, `disk_space` or each
// other. Racing Put/eviction/invalidation of the same block can at worst
// leave an entry without its file (a miss, counted corrupt). Blocks being
// written while free space is read may be missed by that reading: the
// margin can be short by them until the next one.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace globusfs::cache {

struct BlockKey {
  std::string collection_id;
  std::string path;
  uint64_t file_size = 0;
  int64_t file_mtime = 0;
  uint64_t index = 0;  // offset / block_size
  // The file's content version id, decided by the filesystem. Last, so that
  // an initializer written before it existed still sets `index`.
  uint64_t version = 0;
};

// A filesystem's size, and the space unprivileged writes may still use.
struct DiskSpace {
  uint64_t free_bytes = 0;   // statvfs: f_bavail * f_frsize
  uint64_t total_bytes = 0;  // statvfs: f_blocks * f_frsize
};

struct BlockCacheOptions {
  std::filesystem::path dir;
  uint64_t max_bytes = 1ULL << 30;  // --cache-size
  uint32_t block_size = 1 << 20;
  // Identifies this boot, to tell a process crash (cache kept) from a system
  // crash (cache wiped). Empty: read /proc/sys/kernel/random/boot_id.
  std::string boot_id;
  // Directory entries examined per Open when sweeping orphan block files
  // after an unclean shutdown (at least one of the 256 subfolders per Open).
  uint32_t orphan_scan_budget = 4096;
  // The free-space margin (see Disk space): max(min_free_fraction × total,
  // min(min_free_bytes, total / 4)).
  double min_free_fraction = 0.05;
  uint64_t min_free_bytes = 64ULL << 20;
  // Reads the cache's filesystem; nullopt when it cannot (no margin is kept
  // until a reading succeeds). Empty: statvfs(dir). Called on the threads of
  // Put, Release and GetStats, under no lock of the cache; must be
  // thread-safe.
  std::function<std::optional<DiskSpace>()> disk_space;
  // How long a reading is used (adjusted for the cache's own writes and
  // deletions) before it is taken again; 0: at every Put.
  std::chrono::milliseconds disk_space_ttl{1000};
};

class BlockCache {
 public:
  // nullptr (with *error) when the folder cannot be used.
  static std::unique_ptr<BlockCache> Open(const BlockCacheOptions& options, std::string* error);
  virtual ~BlockCache() = default;

  uint32_t block_size() const;
  // A verified block (the last block of a file may be short), or false.
  virtual bool Get(const BlockKey& key, std::string* data) = 0;
  // Stores a block (best effort: a full disk, a disk short of the margin
  // or an I/O error just skips it).
  virtual void Put(const BlockKey& key, std::string_view data) = 0;
  // Drops every cached block of the file, whatever its size, mtime and
  // version.
  virtual void InvalidateFile(std::string_view collection_id, std::string_view path) = 0;
  // Evicts least recently used blocks until at least `bytes` charged bytes
  // are freed on disk (or the cache is empty); returns the charged bytes of
  // the files it deleted (an entry whose file was gone already frees
  // nothing). For a staging write that met ENOSPC: release, then retry
  // once. Blocks on the index's writer lock and deletes the files before
  // returning. When the index cannot be written (a full disk can refuse
  // LMDB the page the eviction needs), it deletes the oldest blocks' files
  // anyway and leaves their entries, each a miss dropped (counted corrupt)
  // when next met.
  virtual uint64_t Release(uint64_t bytes) = 0;

  struct Stats {
    uint64_t bytes = 0;   // charged bytes (see Accounting), from the index
    uint64_t blocks = 0;  // indexed blocks
    // Since Open. misses counts every Get that returned false (corrupt ones
    // too); corrupt counts blocks dropped because their file was missing,
    // short or failed the checksum; evicted counts block files deleted for
    // max_bytes, for the free-space margin or by Release; write_failures
    // counts Puts/invalidations that could not be written (disk full, I/O
    // error).
    uint64_t hits = 0, misses = 0, corrupt = 0, evicted = 0;
    uint64_t write_failures = 0;
    // Puts not cached because even an empty cache would have left less
    // free space than the margin (see Disk space).
    uint64_t skipped_no_space = 0;
    // The latest free-space reading, adjusted for the cache's own writes
    // since; the filesystem's size; the margin kept. All 0 when unknown.
    uint64_t disk_free = 0, disk_total = 0, disk_margin = 0;
  };
  virtual Stats GetStats() = 0;

 protected:
  explicit BlockCache(uint32_t block_size) : block_size_(block_size) {}

 private:
  uint32_t block_size_;
};

inline uint32_t BlockCache::block_size() const { return block_size_; }

}  // namespace globusfs::cache
