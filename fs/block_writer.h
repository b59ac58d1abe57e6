// BlockWriter: puts fetched blocks into the disk BlockCache on its own
// thread, so that a read never waits for the cache write (CRC, the block
// file, the LMDB index): the reader is answered as soon as the bytes are in.
//
//  - Put queues a block; the queue is bounded (`max_queued_bytes`): when it
//    is full the block is simply not cached (the cache is best effort, and
//    its writes must never slow down or hold memory for the reads).
//  - Get sees queued blocks as well as the cache's: a file read again right
//    after a close finds its blocks whether or not they have been written.
//  - Promise announces a block being fetched ahead (FolderPrefetch): a Get
//    of it waits until Put or Abandon ends the promise, rather than fetch
//    the same bytes a second time. Every Promise must end in one of them.
//  - Forget drops the queued blocks of a file (InvalidateFile does the rest):
//    the keys carry the content version, so a queued block of an older
//    version could never be served anyway; this only saves the space.
//  - The destructor writes what is queued, then stops (unmount).
//
// Thread-safety: all methods are thread-safe. mu_ guards the queue and is
// never held across a cache call.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>

#include "cache/block_cache.h"

namespace globusfs::fs {

class BlockWriter {
 public:
  BlockWriter(cache::BlockCache& cache, uint64_t max_queued_bytes);
  ~BlockWriter();
  BlockWriter(const BlockWriter&) = delete;
  BlockWriter& operator=(const BlockWriter&) = delete;

  // Queues `bytes` (kept alive by `owner` until written) for `key`; false
  // when the queue is full (the block is not cached).
  bool Put(const cache::BlockKey& key, std::shared_ptr<const void> owner, std::string_view bytes);
  // A queued block, else the cache's (verified); false on a miss. Waits
  // while the block is promised, at most kPromiseWait (then a miss).
  bool Get(const cache::BlockKey& key, std::string* out);
  // False when the block is already queued or promised.
  bool Promise(const cache::BlockKey& key);
  void Abandon(const cache::BlockKey& key);
  // Drops queued blocks of the file (any version).
  void Forget(std::string_view collection_id, std::string_view path);
  // Waits until everything queued so far has been written (tests).
  void Drain();

  cache::BlockCache& cache() { return cache_; }

  static constexpr std::chrono::seconds kPromiseWait{30};

 private:
  struct Item {
    cache::BlockKey key;
    std::shared_ptr<const void> owner;
    std::string_view bytes;
  };
  static std::string Id(const cache::BlockKey& key);
  void Loop();

  cache::BlockCache& cache_;
  const uint64_t max_queued_bytes_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;       // work queued, or stopping
  std::condition_variable idle_cv_;  // the queue emptied
  std::condition_variable promise_cv_;  // a promise ended
  std::set<std::string> promised_;      // by Id(key)
  std::map<std::string, Item> queued_;  // by Id(key)
  std::deque<std::string> order_;       // ids, oldest first (may name dropped items)
  uint64_t queued_bytes_ = 0;
  bool writing_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace globusfs::fs
