// One directory entry as globusfs knows it: what a Transfer `ls`/`stat`
// reports, reduced to what the filesystem needs. Plain value type.
#pragma once

#include <cstdint>
#include <string>

namespace globusfs::cache {

enum class EntryType : uint8_t {
  kFile = 0,
  kDir = 1,
  kSymlink = 2,         // a link the server reports (shown read-only)
  kInvalidSymlink = 3,  // a broken link ("invalid_symlink" in Transfer)
};

struct FileEntry {
  std::string name;
  EntryType type = EntryType::kFile;
  uint64_t size = 0;
  int64_t mtime = 0;        // seconds since the epoch, UTC
  uint32_t mode = 0644;     // permission bits only (07777)
  std::string link_target;  // symlinks only

  bool operator==(const FileEntry&) const = default;
};

}  // namespace globusfs::cache
