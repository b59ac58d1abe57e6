// FileReader: reads one version (size + mtime + content version id, see
// fs/content_versions.h) of a remote file for one open handle, block by
// block.
//
//  - A block is `block_size` bytes (the BlockCache's). Each block comes from
//    the disk cache when it holds it (verified), else from one HTTPS range
//    GET, and is then stored in the disk cache.
//  - Sequential reads are detected (a read that starts where the last one
//    ended, or a little past it, as the kernel's own readahead does); they
//    grow a readahead window (1 block, doubling to `max_window_blocks`)
//    whose blocks are fetched ahead, several at once, on the WorkPool.
//    Random reads reset the window and fetch only the blocks they touch.
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
#include "fs/remote/data_api.h"
#include "fs/work_pool.h"

namespace globusfs::fs {

struct ReadContext {
  DataApi* data = nullptr;
  cache::BlockCache* blocks = nullptr;  // may be null: no disk cache
  WorkPool* pool = nullptr;
  MemoryBudget* budget = nullptr;
  uint32_t block_size = 1 << 20;
  uint32_t max_window_blocks = 16;
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
  // Blocks fetched over HTTPS by this reader (for tests and stats).
  uint64_t fetched() const;

 private:
  struct Block;
  FileReader(const ReadContext& ctx, DataTarget target, FileVersion version);
  uint64_t BlockCount() const;
  uint64_t BlockLength(uint64_t index) const;
  // The block, fetching it (on the pool when `async`) if not already held.
  // Returns nullptr when `async` and the budget has no room (readahead).
  std::shared_ptr<Block> Obtain(uint64_t index, bool async, bool* started_inline);
  void Fetch(const std::shared_ptr<Block>& b);
  void Drop(uint64_t index);  // caller holds mu_

  const ReadContext ctx_;
  const DataTarget target_;
  const FileVersion version_;

  mutable std::mutex mu_;  // guards blocks_, next_expected_, window_, fetched_
  std::map<uint64_t, std::shared_ptr<Block>> blocks_;
  uint64_t next_expected_ = 0;
  uint32_t window_ = 1;
  uint64_t fetched_ = 0;
  int in_flight_ = 0;
};

}  // namespace globusfs::fs
