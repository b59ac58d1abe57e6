// The daemon's log: one line per event, with a UTC timestamp and a level,
// to a file (--log-file), stderr (foreground) or nowhere (tests). Callers
// pass summaries only: never a token, an Authorization header or a response
// body (http::Error::Summary() is built to be safe to log).
//
// Thread-safety: Log() may be called from any thread; lines never interleave.
#pragma once

#include <cstdio>
#include <map>
#include <mutex>
#include <string>

namespace globusfs::fs {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

class Logger {
 public:
  // `out` may be nullptr (discard). The Logger does not own stderr; it owns
  // a file it opened with OpenFile.
  explicit Logger(FILE* out = nullptr, LogLevel min = LogLevel::kInfo);
  ~Logger();
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  // Opens (appends to) `path`; false when it cannot be opened.
  bool OpenFile(const std::string& path);
  void set_min_level(LogLevel l) { min_ = l; }

  void Log(LogLevel level, const std::string& message);
  // Logs `message` at most once per `period_s` for the same `key` (e.g. the
  // remedy command of an auth requirement). True when it was written.
  bool LogOnce(LogLevel level, const std::string& key, const std::string& message, int period_s = 60);

 private:
  std::mutex mu_;  // guards out_, owned_, last_
  FILE* out_;
  bool owned_ = false;
  LogLevel min_;
  std::map<std::string, int64_t> last_;
};

}  // namespace globusfs::fs
