// RetryBackoff: when to try a piece of journaled work again after a failure
// that is worth retrying later (Globus unreachable or busy, a login or a
// consent missing). A capped exponential with jitter, like
// http::RetryPolicy's for one request (auth/http/retry_policy.h), but with
// no limit on the number of attempts: the work is journaled and waits as
// long as it takes, and a remount resumes it.
//
// The first failure waits `initial`, each further one twice the step before,
// up to `max`; jitter takes up to half of each step off at random, so many
// pieces of work that failed together do not all come back together.
// Failed() says when the step grew or the cause changed: a caller that logs
// only then writes one line per backoff step of a persisting failure, never
// one per attempt.
//
// Thread-safety: a plain value; its owner guards it. Time and randomness
// come from the caller (an http::Clock), so tests choose them.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>

namespace globusfs::fs {

class RetryBackoff {
 public:
  using Duration = std::chrono::steady_clock::duration;
  using TimePoint = std::chrono::steady_clock::time_point;

  RetryBackoff() = default;
  RetryBackoff(Duration initial, Duration max) : initial_(initial), max_(std::max(initial, max)) {}

  // Records a failure at `now` (`random` in [0, 1), `cause` what the user is
  // told about it). True when the step grew or the cause is new: log it.
  bool Failed(TimePoint now, double random, const std::string& cause) {
    const Duration step = step_.count() == 0 ? initial_ : std::min(step_ * 2, max_);
    const bool news = step > step_ || cause != cause_;
    step_ = step;
    cause_ = cause;
    ++failures_;
    const double off = std::clamp(random, 0.0, 1.0) / 2;
    wait_ = step - std::chrono::duration_cast<Duration>(step * off);
    not_before_ = now + wait_;
    return news;
  }

  // Records a success; returns how many failures it ends (0: there were none).
  int Succeeded() {
    const int ended = failures_;
    *this = RetryBackoff(initial_, max_);
    return ended;
  }

  // Whether the next attempt may go now (always, without a failure).
  bool Ready(TimePoint now) const { return failures_ == 0 || now >= not_before_; }
  TimePoint not_before() const { return not_before_; }
  int failures() const { return failures_; }
  Duration wait() const { return wait_; }  // the last failure's
  const std::string& cause() const { return cause_; }

 private:
  Duration initial_ = std::chrono::seconds(1);
  Duration max_ = std::chrono::minutes(5);
  Duration step_{0};
  Duration wait_{0};
  TimePoint not_before_{};
  int failures_ = 0;
  std::string cause_;  // "" until a failure
};

}  // namespace globusfs::fs
