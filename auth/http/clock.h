// Clock: the injected source of time, sleep and randomness, so that backoff,
// token expiry and cache TTLs are testable without waiting.
//
// RealClock uses the system clocks, std::this_thread::sleep_for and a
// per-thread Mersenne Twister. FakeClock (for tests) starts at a fixed
// point, only moves when told to or when SleepFor is called (which advances
// it instantly and records the requested duration), and returns scripted
// random numbers.
//
// Thread-safety: every method of both implementations may be called from
// many threads at once.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

namespace globusfs::http {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for timeouts, TTLs and deadlines.
  virtual std::chrono::steady_clock::time_point Now() = 0;
  // Wall time, for comparing with server timestamps (token expiry, mtimes).
  virtual std::chrono::system_clock::time_point SystemNow() = 0;
  // Blocks the calling thread for `duration` (a FakeClock returns at once).
  virtual void SleepFor(std::chrono::nanoseconds duration) = 0;
  // The same, but returns early once `*wake` is true (shutting down). The
  // default sleeps the whole time (a FakeClock returns at once anyway).
  virtual void SleepUnless(std::chrono::nanoseconds duration, const std::atomic<bool>& wake) {
    (void)wake;
    SleepFor(duration);
  }
  // A uniformly distributed number in [0, 1).
  virtual double Random() = 0;
};

class RealClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point SystemNow() override {
    return std::chrono::system_clock::now();
  }
  void SleepFor(std::chrono::nanoseconds duration) override {
    std::this_thread::sleep_for(duration);
  }
  void SleepUnless(std::chrono::nanoseconds duration, const std::atomic<bool>& wake) override {
    const auto end = std::chrono::steady_clock::now() + duration;
    for (auto now = std::chrono::steady_clock::now(); now < end && !wake.load(); now = std::chrono::steady_clock::now()) {
      std::this_thread::sleep_for(std::min<std::chrono::nanoseconds>(end - now, std::chrono::milliseconds(50)));
    }
  }
  double Random() override {
    thread_local std::mt19937_64 engine{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
  }
};

class FakeClock final : public Clock {
 public:
  FakeClock() = default;
  explicit FakeClock(std::chrono::system_clock::time_point system_start)
      : system_now_(system_start) {}

  std::chrono::steady_clock::time_point Now() override {
    std::lock_guard lock(mu_);
    return steady_now_;
  }
  std::chrono::system_clock::time_point SystemNow() override {
    std::lock_guard lock(mu_);
    return system_now_;
  }
  // Records the sleep and advances both clocks by it; never blocks.
  void SleepFor(std::chrono::nanoseconds duration) override {
    std::lock_guard lock(mu_);
    sleeps_.push_back(duration);
    AdvanceLocked(duration);
  }
  // Returns the scripted values in order, then `default_random` forever.
  double Random() override {
    std::lock_guard lock(mu_);
    if (randoms_.empty()) return default_random_;
    const double value = randoms_.front();
    randoms_.pop_front();
    return value;
  }

  void Advance(std::chrono::nanoseconds duration) {
    std::lock_guard lock(mu_);
    AdvanceLocked(duration);
  }
  void SetDefaultRandom(double value) {
    std::lock_guard lock(mu_);
    default_random_ = value;
  }
  void PushRandom(double value) {
    std::lock_guard lock(mu_);
    randoms_.push_back(value);
  }
  std::vector<std::chrono::nanoseconds> Sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  void AdvanceLocked(std::chrono::nanoseconds duration) {
    steady_now_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(duration);
    system_now_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(duration);
  }

  mutable std::mutex mu_;
  // Starts well away from the epoch so "now - ttl" never underflows.
  std::chrono::steady_clock::time_point steady_now_{std::chrono::hours(24 * 365)};
  std::chrono::system_clock::time_point system_now_{std::chrono::seconds(1'700'000'000)};
  std::vector<std::chrono::nanoseconds> sleeps_;
  std::deque<double> randoms_;
  double default_random_ = 0.5;
};

}  // namespace globusfs::http
