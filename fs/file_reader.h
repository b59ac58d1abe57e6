// FileReader: reads one version (size + mtime + content version id, see
// fs/content_versions.h) of a remote file for one open handle, block by
// block.
//
//  - A block is `block_size` bytes (the BlockCache's). Each block comes from
//    the disk cache when it holds it (verified), else from one HTTPS range
//    GET; a whole block fetched is then stored in the disk cache by the
//    BlockWriter, off the reader's path (the read is answered first).
//  - How much one read fetches is the FetchPolicy's (fs/fetch_policy.h):
//    sequential reads grow a readahead window (1 block, doubling to
//    `max_window_blocks`) whose whole blocks are fetched ahead, several at
//    once, on the WorkPool. A random read resets the window and fetches,
//    of each block it touches that is held nowhere, only a piece (what was
//    asked, widened to `piece_size`): one small GET, one round trip. Pieces
//    are kept in memory for the handle, not on disk.
//  - Memory: every block held in memory (fetched ahead, or kept for the
//    next read) holds its size from the shared MemoryBudget. Readahead
//    only uses free budget; a read the caller waits for always proceeds.
//
// Thread-safety: Read may be called from several FUSE threads at once for
// the same handle. mu_ guards the block map; it is never held across a
// fetch or a wait. The destructor waits for this reader's fetches.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "auth/http/result.h"
#include "cache/block_cache.h"
#include "fs/block_writer.h"
#include "fs/fetch_policy.h"
#include "fs/remote/data_api.h"
#include "fs/work_pool.h"

namespace globusfs::fs {

struct ReadContext {
  DataApi* data = nullptr;
  cache::BlockCache* blocks = nullptr;  // may be null: no disk cache
  BlockWriter* writer = nullptr;        // writes `blocks` off the read path (null: inline)
  WorkPool* pool = nullptr;
  MemoryBudget* budget = nullptr;
  uint32_t block_size = 1 << 20;
  uint32_t max_window_blocks = 16;
  uint32_t piece_size = 64 << 10;  // a random read's fetch (FetchPolicy)
  // Blocks of a larger file are not written to `blocks`: a file of more
  // than a fraction of the disk cache, read through, would evict most of
  // what the cache holds and still not be found whole on the next read
  // (the LRU's scan problem), and the writes would slow the read itself.
  uint64_t cache_file_limit = UINT64_MAX;
};

struct FileVersion {
  std::string collection_id;
  std::string path;  // the Transfer/HTTPS path
  uint64_t size = 0;
  int64_t mtime = 0;
  uint64_t id = 0;  // the content version (fs/content_versions.h): part of every block's key
};

class FileReader : public std::enable_shared_from_this<FileReader> {
 public:
  // Create through Make: fetches on the pool keep the reader alive.
  static std::shared_ptr<FileReader> Make(const ReadContext& ctx, DataTarget target, FileVersion version);
  ~FileReader();

  // Up to `size` bytes at `offset` (short at the end of the file).
  http::Result<void> Read(uint64_t offset, size_t size, std::string* out);

  const FileVersion& version() const { return version_; }
  // Blocks or pieces fetched over HTTPS by this reader (for tests and stats).
  uint64_t fetched() const;

 private:
  struct Block;
  FileReader(const ReadContext& ctx, DataTarget target, FileVersion version);
  uint64_t BlockCount() const;
  uint64_t BlockLength(uint64_t index) const;
  // A held block of `index` whose bytes cover `need`, else a new one
  // fetching `want` (on the pool when `async`). Returns nullptr when
  // `async` and the budget has no room (readahead).
  std::shared_ptr<Block> Obtain(uint64_t index, const ByteRange& need, const ByteRange& want, bool async,
                                bool* started_inline);
  void Fetch(const std::shared_ptr<Block>& b);
  // The disk cache's copy of block `index` (queued writes included).
  bool CachedBlock(const cache::BlockKey& key, std::string* out);

  const ReadContext ctx_;
  const DataTarget target_;
  const FileVersion version_;

  mutable std::mutex mu_;  // guards blocks_, policy_, fetched_, in_flight_
  std::map<uint64_t, std::shared_ptr<Block>> blocks_;
  FetchPolicy policy_;
  uint64_t fetched_ = 0;
  int in_flight_ = 0;
};

}  // namespace globusfs::fs
