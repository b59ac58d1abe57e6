// FakeHooks: the test hooks FakeTransfer and FakeData share — a counter per
// operation, errors queued to fail the next calls of one operation, and a
// latency slept (on the injected clock) before every call.
//
// Thread-safety: all methods are thread-safe (own mutex, never held while
// sleeping).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/http/clock.h"
#include "auth/http/error.h"

namespace globusfs::fs {

class FakeHooks {
 public:
  explicit FakeHooks(std::shared_ptr<http::Clock> clock) : clock_(std::move(clock)) {}

  // Counts a call of `op`, sleeps the latency, and pops the next error
  // queued for `op` (nullopt: the call goes ahead).
  std::optional<http::Error> Begin(std::string_view op) {
    std::chrono::nanoseconds latency;
    {
      std::lock_guard lock(mu_);
      ++calls_[std::string(op)];
      latency = latency_;
    }
    if (latency.count() > 0) clock_->SleepFor(latency);
    std::lock_guard lock(mu_);
    auto it = faults_.find(op);
    if (it == faults_.end() || it->second.empty()) return std::nullopt;
    http::Error e = std::move(it->second.front());
    it->second.pop_front();
    return e;
  }

  uint64_t calls(std::string_view op) const {
    std::lock_guard lock(mu_);
    auto it = calls_.find(op);
    return it == calls_.end() ? 0 : it->second;
  }
  void ResetCalls() {
    std::lock_guard lock(mu_);
    calls_.clear();
  }
  void FailNext(std::string_view op, http::Error error, int count) {
    std::lock_guard lock(mu_);
    auto& queue = faults_[std::string(op)];
    for (int i = 0; i < count; ++i) queue.push_back(error);
  }
  void SetLatency(std::chrono::nanoseconds latency) {
    std::lock_guard lock(mu_);
    latency_ = latency;
  }

 private:
  const std::shared_ptr<http::Clock> clock_;
  mutable std::mutex mu_;  // guards the three below
  std::map<std::string, uint64_t, std::less<>> calls_;
  std::map<std::string, std::deque<http::Error>, std::less<>> faults_;
  std::chrono::nanoseconds latency_{0};
};

}  // namespace globusfs::fs
