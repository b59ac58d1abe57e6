// The index of BlockCache (cache/block_cache.h): its LMDB databases, the
// record-level edits that keep them in step, and the sweep that keeps the
// block files in step with them. Internal to cache/; split out so
// block_cache.cpp holds only the cache's logic.
//
// Databases of the index environment:
//   blocks: block hash → Record (block_format.h)
//   files:  file hash + block hash → "" (every block of a file)
//   lru:    big-endian access seq → block hash (oldest first)
//   meta:   "format" (tag), "bytes" (charged bytes, le64), "sweep" (le64)
// Invariant (kept by IndexOps): every decodable blocks record has exactly one
// lru and one files entry, and "bytes" is the sum of their Costs. A stray lru
// or files entry (left by an undecodable record) is skipped and deleted when
// met.
//
// Thread-safety: an IndexOps lives inside one write transaction, on the
// thread that runs it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cache/block_format.h"
#include "cache/lmdb.h"

namespace globusfs::cache::block_index {

inline constexpr std::string_view kBytesKey = "bytes";
// Present while an orphan sweep is pending: the next subfolder to scan.
inline constexpr std::string_view kSweepKey = "sweep";
// Block files are written to blocks/tmp.* and renamed into blocks/<2 hex>/.
inline constexpr std::string_view kTempPrefix = "tmp.";
inline constexpr int kShards = 256;  // blocks/00 .. blocks/ff

struct Dbis {
  Dbi blocks;
  Dbi files;
  Dbi lru;
  Dbi meta;
};

// Reads not yet in the index: block → seq of its latest read.
using Touches = std::vector<std::pair<block_format::Hash, uint64_t>>;

// Up to `max` blocks in least recently used order, starting after the LRU
// key `after` (empty: from the oldest): each block's hash, its Cost and its
// LRU key (to continue from). Skips stray entries. Throws LmdbError.
struct LruEntry {
  block_format::Hash hash{};
  uint64_t cost = 0;
  std::string seq_key;
};
std::vector<LruEntry> OldestBlocks(Txn& txn, const Dbis& dbis, std::string_view after, size_t max);

// Record-level edits inside one write transaction, keeping the LRU and files
// databases and the byte count in step with the blocks database. Every method
// throws LmdbError; Finish must run before the transaction commits.
class IndexOps {
 public:
  using Hash = block_format::Hash;
  using Record = block_format::Record;

  IndexOps(Txn& txn, const Dbis& dbis);
  // Stores the byte count.
  void Finish();

  // Charged bytes of every indexed block (as this transaction sees them).
  uint64_t bytes() const { return bytes_; }

  // nullopt when absent or undecodable; *present tells which.
  std::optional<Record> Find(const Hash& h, bool* present = nullptr);
  // Adds (or replaces) the block `h`.
  void Insert(const Hash& h, const Record& r);
  // False when there was no such block.
  bool Remove(const Hash& h);
  // Moves each block read since the last flush to its read's place in the
  // LRU order (unless it was put again since).
  void ApplyTouches(const Touches& touches);
  // Removes least recently used blocks until at most `limit` bytes remain,
  // appending them to *victims.
  void EvictTo(uint64_t limit, std::vector<LruEntry>* victims);
  // Every indexed block of the file whose hash is `file`.
  std::vector<Hash> BlocksOf(const Hash& file);

 private:
  Txn& txn_;
  const Dbis& dbis_;
  uint64_t bytes_ = 0;
};

// The orphan sweep of BlockCache::Open. Deletes temp files in `blocks_dir`,
// then, if a sweep is pending ("sweep" in meta), block files without an
// index entry: from the pending subfolder on, at least one subfolder and
// then until `budget` entries have been examined; records where the next
// Open resumes (or that the sweep is done). No transaction is held across
// file I/O. Throws LmdbError.
void SweepOrphans(Env& env, const Dbis& dbis, const std::filesystem::path& blocks_dir,
                  uint64_t budget);

}  // namespace globusfs::cache::block_index
