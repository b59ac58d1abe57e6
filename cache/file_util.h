// Small POSIX file helpers for cache/: private directories, fsync'd marker
// files, the boot id. Internal to cache/.
//
// Errors: functions that can fail in a way the caller must see throw
// std::system_error; the "best effort" ones (SyncDir, RemoveDatabaseFiles)
// ignore failures.
// Thread-safety: stateless; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace globusfs::cache::file_util {

// Creates `dir` with mode 0700 (missing parents with default modes) unless it
// is already a directory.
void EnsurePrivateDir(const std::filesystem::path& dir);
// fsync of a directory, so a created/removed name in it is durable.
void SyncDir(const std::filesystem::path& dir);
// Whole content of a small file; false if it cannot be opened.
bool ReadSmallFile(const std::filesystem::path& path, std::string* out);
// Writes `content` (mode 0600), fsyncs it and its directory.
void WriteFileSynced(const std::filesystem::path& path, std::string_view content);
// Removes an LMDB environment's data.mdb and lock.mdb from `dir`.
void RemoveDatabaseFiles(const std::filesystem::path& dir);
// /proc/sys/kernel/random/boot_id, or "" when it cannot be read.
std::string ReadBootId();

// An exclusive flock(2) on a file, held for the object's lifetime (move-only
// owner of the file descriptor). flock conflicts between open file
// descriptions, so it also excludes a second holder in the same process.
class ExclusiveLock {
 public:
  ExclusiveLock() = default;
  // Creates `path` if needed and locks it without waiting. Throws
  // std::system_error (EWOULDBLOCK when someone else holds it).
  static ExclusiveLock Acquire(const std::filesystem::path& path);
  ExclusiveLock(ExclusiveLock&& other) noexcept;
  ExclusiveLock& operator=(ExclusiveLock&& other) noexcept;
  ExclusiveLock(const ExclusiveLock&) = delete;
  ExclusiveLock& operator=(const ExclusiveLock&) = delete;
  ~ExclusiveLock();

 private:
  explicit ExclusiveLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace globusfs::cache::file_util
