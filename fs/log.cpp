#include "fs/log.h"

#include <chrono>
#include <ctime>

namespace globusfs::fs {

namespace {

const char* LevelName(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "?";
}

int64_t NowS() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Logger::Logger(FILE* out, LogLevel min) : out_(out), min_(min) {}

Logger::~Logger() {
  if (owned_ && out_) std::fclose(out_);
}

bool Logger::OpenFile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "ae");
  if (!f) return false;
  std::lock_guard lock(mu_);
  if (owned_ && out_) std::fclose(out_);
  out_ = f;
  owned_ = true;
  return true;
}

void Logger::Log(LogLevel level, const std::string& message) {
  if (level < min_) return;
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  int ms = static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
  // One line per event: newlines in the message (e.g. a multi-line Globus
  // error) are shown as "\n".
  std::string line;
  line.reserve(message.size() + 48);
  for (char c : message) {
    if (c == '\n') line += "\\n";
    else if (c != '\r') line += c;
  }
  std::lock_guard lock(mu_);
  if (!out_) return;
  std::fprintf(out_, "%s.%03dZ globusfs %s: %s\n", stamp, ms, LevelName(level), line.c_str());
  std::fflush(out_);
}

bool Logger::LogOnce(LogLevel level, const std::string& key, const std::string& message, int period_s) {
  int64_t now = NowS();
  {
    std::lock_guard lock(mu_);
    auto it = last_.find(key);
    if (it != last_.end() && now - it->second < period_s) return false;
    last_[key] = now;
  }
  Log(level, message);
  return true;
}

}  // namespace globusfs::fs
