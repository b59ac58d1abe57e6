#include "cache/space_budget.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cmath>
#include <utility>

namespace globusfs::cache {

uint64_t MinFreeBytes(uint64_t total, double fraction, uint64_t floor) {
  if (!(fraction > 0)) fraction = 0;  // also NaN
  fraction = std::min(fraction, 1.0);
  const auto proportional =
      static_cast<uint64_t>(std::floor(static_cast<double>(total) * fraction));
  return std::max(std::min(proportional, total), std::min(floor, total / 4));
}

std::optional<DiskSpace> StatvfsDiskSpace(const std::filesystem::path& dir) {
  struct statvfs st;
  if (::statvfs(dir.c_str(), &st) != 0) return std::nullopt;
  return DiskSpace{uint64_t{st.f_bavail} * st.f_frsize, uint64_t{st.f_blocks} * st.f_frsize};
}

SpaceBudget::SpaceBudget(Reader read, double min_free_fraction, uint64_t min_free_bytes,
                         std::chrono::steady_clock::duration ttl)
    : read_(std::move(read)), fraction_(min_free_fraction), floor_(min_free_bytes), ttl_(ttl) {}

void SpaceBudget::RefreshIfStale() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (read_at_ && now - *read_at_ < ttl_) return;
  }
  std::optional<DiskSpace> space;
  try {
    if (read_) space = read_();
  } catch (...) {
    // Unknown, like a failed statvfs.
  }
  std::lock_guard<std::mutex> lock(mu_);
  read_at_ = now;
  known_ = space.has_value();
  reading_ = known_ ? Reading{space->free_bytes, space->total_bytes,
                              MinFreeBytes(space->total_bytes, fraction_, floor_)}
                    : Reading{};
}

SpaceBudget::Shortfall SpaceBudget::Reserve(uint64_t cost) {
  RefreshIfStale();
  std::lock_guard<std::mutex> lock(mu_);
  if (!known_) return {};
  const uint64_t free = reading_.free;
  const uint64_t margin = reading_.margin;
  Shortfall s;
  s.to_margin = margin > free ? margin - free : 0;
  s.to_fit = margin + cost > free ? margin + cost - free : 0;
  if (s.to_fit == 0) reading_.free -= cost;
  return s;
}

void SpaceBudget::Wrote(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  reading_.free -= std::min(reading_.free, bytes);
}

void SpaceBudget::Freed(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (known_) reading_.free = std::min(reading_.free + bytes, reading_.total);
}

SpaceBudget::Reading SpaceBudget::Current() {
  RefreshIfStale();
  std::lock_guard<std::mutex> lock(mu_);
  return reading_;
}

}  // namespace globusfs::cache
