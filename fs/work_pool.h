// WorkPool: a fixed set of owned worker threads for background work
// (prefetching, uploads), with explicit shutdown. MemoryBudget: a counting
// limit on bytes held by in-flight and buffered reads, so the daemon's
// memory stays bounded however large the files are.
//
// Thread-safety: both are thread-safe. Shutdown() waits for running tasks;
// tasks still queued are dropped (their futures are never satisfied, so
// submitters must not wait on work after shutdown began).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace globusfs::fs {

class WorkPool {
 public:
  explicit WorkPool(size_t threads);
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // False once shutting down (the task is not run).
  bool Submit(std::function<void()> task);
  void Shutdown();

 private:
  void Loop();

  std::mutex mu_;  // guards queue_, stopping_
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

class MemoryBudget {
 public:
  explicit MemoryBudget(uint64_t bytes) : limit_(bytes) {}

  // Takes `n` bytes if they are free now (prefetching gives way).
  bool TryAcquire(uint64_t n);
  // Takes `n` bytes at once, even past the limit: a read the caller waits
  // for must never wait on memory held by idle handles. The overshoot is
  // bounded by (FUSE threads x the blocks one read touches).
  void ForceAcquire(uint64_t n);
  void Release(uint64_t n);
  uint64_t used() const;
  uint64_t limit() const { return limit_; }

 private:
  const uint64_t limit_;
  mutable std::mutex mu_;  // guards used_
  uint64_t used_ = 0;
};

}  // namespace globusfs::fs
