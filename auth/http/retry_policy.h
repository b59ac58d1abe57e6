// RetryPolicy: the Globus SDK's retry rules as a pure decision function.
//
//   - at most `max_retries` (5) retries after the first attempt;
//   - retry network errors and timeouts, and HTTP 429, 500, 502, 503, 504;
//   - never retry a 5xx whose Globus `code` contains "ExternalError" or
//     "EndpointError" (the storage endpoint failed; it is not transient);
//   - sleep min(max_sleep, (0.25 + 0.5 * rand) * 2^attempt seconds), attempt
//     counted from 0; on 429 and 503 an integer Retry-After header (seconds)
//     replaces the backoff, still capped at max_sleep.
//
// The 401-refresh retry is not part of this policy (HttpClient does it once
// per request, without sleeping).
//
// Thread-safety: Decide is const and may be called concurrently as long as
// the injected random function is thread-safe (Clock::Random is).
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "auth/http/error.h"

namespace globusfs::http {

struct RetryOptions {
  int max_retries = 5;
  std::chrono::milliseconds max_sleep{10'000};
};

class RetryPolicy {
 public:
  // What one attempt produced. For a transport failure (no HTTP response)
  // set `transport_error`; otherwise set `http_status` (and, for error
  // statuses, the parsed Globus `code` and the Retry-After header if any).
  struct Outcome {
    std::optional<ErrorKind> transport_error;
    int http_status = 0;
    std::string code;
    std::optional<std::string> retry_after;
  };

  // `random` must return values in [0, 1); when empty, a per-thread random
  // engine is used (HttpClient substitutes its Clock's Random()).
  explicit RetryPolicy(RetryOptions options = {}, std::function<double()> random = {});

  // `attempt` is the number of retries already made (0 after the first
  // failure). Returns how long to sleep before retrying, or nullopt when the
  // outcome is final.
  std::optional<std::chrono::milliseconds> Decide(int attempt, const Outcome& outcome) const;

  // Whether the outcome is of a retryable kind at all (ignores the count).
  static bool IsRetryable(const Outcome& outcome);

  const RetryOptions& options() const { return options_; }
  bool has_random() const { return static_cast<bool>(random_); }
  void set_random(std::function<double()> random) { random_ = std::move(random); }

 private:
  double Random() const;

  RetryOptions options_;
  std::function<double()> random_;
};

}  // namespace globusfs::http
