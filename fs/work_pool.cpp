#include "fs/work_pool.h"

namespace globusfs::fs {

WorkPool::WorkPool(size_t threads) {
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

WorkPool::~WorkPool() { Shutdown(); }

bool WorkPool::Submit(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return false;
    queue_.push_back(std::move(task));
  }
  cv_.notify_one();
  return true;
}

void WorkPool::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

void WorkPool::Loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    task();
  }
}

bool MemoryBudget::TryAcquire(uint64_t n) {
  std::lock_guard lock(mu_);
  if (used_ + n > limit_) return false;
  used_ += n;
  return true;
}

void MemoryBudget::ForceAcquire(uint64_t n) {
  std::lock_guard lock(mu_);
  used_ += n;
}

void MemoryBudget::Release(uint64_t n) {
  std::lock_guard lock(mu_);
  used_ = used_ >= n ? used_ - n : 0;
}

uint64_t MemoryBudget::used() const {
  std::lock_guard lock(mu_);
  return used_;
}

}  // namespace globusfs::fs
