// FakeHooks: the test hooks FakeTransfer and FakeData share — a counter per
// operation, errors queued to fail the next calls of one operation, an error
// that fails every call of one operation until it is cleared (after the
// queued ones), and a latency slept (on the injected clock) before every call.
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
  // queued for `op`, else returns its standing error (nullopt: the call goes
  // ahead).
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
    if (it == faults_.end() || it->second.empty()) {
      auto standing = standing_.find(op);
      if (standing == standing_.end()) return std::nullopt;
      return standing->second;
    }
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
  void FailAlways(std::string_view op, http::Error error) {
    std::lock_guard lock(mu_);
    standing_.insert_or_assign(std::string(op), std::move(error));
  }
  // Drops the queued and the standing errors of `op` (of every op when empty).
  void ClearFailures(std::string_view op) {
    std::lock_guard lock(mu_);
    if (op.empty()) {
      faults_.clear();
      standing_.clear();
      return;
    }
    if (auto it = faults_.find(op); it != faults_.end()) faults_.erase(it);
    if (auto it = standing_.find(op); it != standing_.end()) standing_.erase(it);
  }
  void SetLatency(std::chrono::nanoseconds latency) {
    std::lock_guard lock(mu_);
    latency_ = latency;
  }

 private:
  const std::shared_ptr<http::Clock> clock_;
  mutable std::mutex mu_;  // guards the four below
  std::map<std::string, uint64_t, std::less<>> calls_;
  std::map<std::string, std::deque<http::Error>, std::less<>> faults_;
  std::map<std::string, http::Error, std::less<>> standing_;  // FailAlways
  std::chrono::nanoseconds latency_{0};
};

}  // namespace globusfs::fs
