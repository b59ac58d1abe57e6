// One directory entry as globusfs knows it: what a Transfer `ls`/`stat`
// reports, reduced to what the filesystem needs. Plain value type.
#pragma once

#include <cstdint>
#include <string>

namespace globusfs::cache {

enum class EntryType : uint8_t {
  kFile = 0,
  kDir = 1,
  kSymlink = 2,         // a valid link to a file (Transfer: "file" with link_target)
  kInvalidSymlink = 3,  // a broken link ("invalid_symlink" in Transfer)
  kSymlinkDir = 4,      // a valid link to a folder (Transfer: "dir" with link_target)
  kCharDevice = 5,      // "chr"
  kBlockDevice = 6,     // "blk"
  kPipe = 7,            // "pipe"
  kOther = 8,           // "other" (a socket, or a kind the server does not name)
};

// A valid link: link_target is the absolute real path of its target on the
// server (GCS realpath()s it); size, mtime and mode are the target's.
inline bool IsValidLink(EntryType t) { return t == EntryType::kSymlink || t == EntryType::kSymlinkDir; }

struct FileEntry {
  std::string name;
  EntryType type = EntryType::kFile;
  uint64_t size = 0;
  int64_t mtime = 0;        // seconds since the epoch, UTC
  uint32_t mode = 0644;     // permission bits only (07777)
  std::string link_target;  // links only: absolute for a valid one, as stored for a broken one

  bool operator==(const FileEntry&) const = default;
};

}  // namespace globusfs::cache
