// SpaceBudget: the free space BlockCache (cache/block_cache.h) leaves on its
// filesystem, which it shares with the daemon's staging files (files being
// written, which must win). Internal to cache/.
//
// The margin for a filesystem of `total` bytes is
//   max(fraction × total, min(floor, total / 4))
// (defaults 5 % and 64 MiB): 5 % of a large disk as mountpoint-s3 keeps,
// 64 MiB on a small one, but never more than a quarter of the filesystem, so
// a 20 MiB tmpfs keeps 5 MiB free and caches in the rest.
//
// Readings: `read` (statvfs by default) is called when the last reading is
// older than `ttl`, and the reading is adjusted in between by what the cache
// itself writes (Reserve, Wrote) and deletes (Freed). Others' writes are seen
// at the next reading; a staging write that meets ENOSPC meanwhile asks the
// cache to Release space. A reading that fails (nullopt) means "unknown":
// no margin is kept until a reading succeeds. A reservation made while a
// reading is being taken may be forgotten by it (the next one sees the file).
//
// Thread-safety: all methods are thread-safe. mu_ is a leaf lock, never held
// while calling `read` or anything else.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>

#include "cache/block_cache.h"

namespace globusfs::cache {

// The margin rule above. A fraction outside [0, 1] (or NaN) is clamped.
uint64_t MinFreeBytes(uint64_t total, double fraction, uint64_t floor);

// statvfs(dir): f_bavail and f_blocks, times f_frsize; nullopt on error.
std::optional<DiskSpace> StatvfsDiskSpace(const std::filesystem::path& dir);

class SpaceBudget {
 public:
  using Reader = std::function<std::optional<DiskSpace>()>;
  SpaceBudget(Reader read, double min_free_fraction, uint64_t min_free_bytes,
              std::chrono::steady_clock::duration ttl);

  struct Shortfall {
    uint64_t to_fit = 0;     // bytes to free before `cost` more keep the margin
    uint64_t to_margin = 0;  // bytes to free to bring free space up to the margin
  };
  // Checks `cost` more bytes against the margin, taking a new reading if
  // the last one is stale. When to_fit is 0 the bytes are taken from the
  // estimate at once: call Freed(cost) if they are not written after all.
  Shortfall Reserve(uint64_t cost);
  // The cache wrote (without Reserve) or deleted this many bytes.
  void Wrote(uint64_t bytes);
  void Freed(uint64_t bytes);

  struct Reading {
    uint64_t free = 0, total = 0, margin = 0;  // all 0 when unknown
  };
  // The current estimate, taking a new reading if the last one is stale.
  Reading Current();

 private:
  void RefreshIfStale();  // takes mu_ only around its own bookkeeping

  const Reader read_;
  const double fraction_;
  const uint64_t floor_;
  const std::chrono::steady_clock::duration ttl_;
  std::mutex mu_;
  // Guarded by mu_. read_at_ is empty until the first reading.
  std::optional<std::chrono::steady_clock::time_point> read_at_;
  bool known_ = false;
  Reading reading_;
};

}  // namespace globusfs::cache
