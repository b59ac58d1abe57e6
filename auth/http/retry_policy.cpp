#include "auth/http/retry_policy.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <random>
#include <string_view>
#include <utility>

namespace globusfs::http {
namespace {

bool IsRetryableStatus(int status) {
  return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
}

// Retry-After as an integer number of seconds (the SDK ignores the HTTP-date
// form). Surrounding whitespace is allowed; anything else gives nullopt.
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  long long seconds = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
  if (ec != std::errc() || end != value.data() + value.size() || seconds < 0) return std::nullopt;
  // Anything past a day is capped by max_sleep anyway; avoid overflow.
  return std::chrono::seconds(std::min<long long>(seconds, 86'400));
}

}  // namespace

RetryPolicy::RetryPolicy(RetryOptions options, std::function<double()> random)
    : options_(options), random_(std::move(random)) {}

double RetryPolicy::Random() const {
  if (random_) return random_();
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

bool RetryPolicy::IsRetryable(const Outcome& outcome) {
  if (outcome.transport_error) {
    return *outcome.transport_error == ErrorKind::kNetwork ||
           *outcome.transport_error == ErrorKind::kTimeout;
  }
  if (!IsRetryableStatus(outcome.http_status)) return false;
  if (outcome.http_status >= 500 && (outcome.code.find("ExternalError") != std::string::npos ||
                                     outcome.code.find("EndpointError") != std::string::npos)) {
    return false;
  }
  return true;
}

std::optional<std::chrono::milliseconds> RetryPolicy::Decide(int attempt,
                                                             const Outcome& outcome) const {
  if (attempt < 0 || attempt >= options_.max_retries || !IsRetryable(outcome)) return std::nullopt;

  if (!outcome.transport_error && outcome.retry_after &&
      (outcome.http_status == 429 || outcome.http_status == 503)) {
    if (const auto seconds = ParseRetryAfter(*outcome.retry_after)) {
      return std::min<std::chrono::milliseconds>(*seconds, options_.max_sleep);
    }
  }

  const double rand = std::clamp(Random(), 0.0, 1.0);
  const double backoff_s = (0.25 + 0.5 * rand) * std::ldexp(1.0, std::min(attempt, 30));
  const double max_s = std::chrono::duration<double>(options_.max_sleep).count();
  const double sleep_s = std::min(backoff_s, max_s);
  return std::chrono::milliseconds(std::llround(sleep_s * 1000.0));
}

}  // namespace globusfs::http
