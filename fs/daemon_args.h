// globusfs's command line: the long flags, the mount(8) form
// (`globusfs SOURCE MOUNTPOINT -o OPTS`, as mount.fuse3 runs it for
// `mount -t fuse.globusfs` and fstab) and the -o options, into an immutable
// DaemonConfig. Each setting has one validator, shared by its long flag
// (--cache-size 2G) and its -o form (cache_size=2G). Pure apart from reading
// the config file and printing usage; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs/mount_table.h"

namespace globusfs::fs {

struct DaemonConfig {
  std::string mountpoint;
  MountTable table;
  std::vector<std::string> fuse_options;  // FUSE mount options passed to libfuse, one per entry
  bool foreground = false;
  bool debug = false;
  std::string cache_dir;  // empty: $XDG_CACHE_HOME/globusfs/<hash of the mount point>
  double metadata_ttl_s = 60;
  uint64_t cache_size = 1ULL << 30;      // --cache-size: the disk block cache's bound
  uint64_t memory_limit = 256ULL << 20;  // --memory-limit: half of it may hold read buffers
  bool copy_wait = false;                // --copy-mode wait: each copy waits for its own task
  int walk_ahead = 4;                    // --walk-ahead: listings fetched ahead at once in a walk
  double drain_timeout_s = 30;           // --drain-timeout: unmount sends pending work this long
  std::string log_file;  // empty: stderr in the foreground, else <cache dir>/globusfs.log
};

// Parses globusfs's command line. Returns the exit code to use right away
// (0 after --help/--version, 2 on a usage error, with the message on
// stderr) or -1 to run.
int ParseDaemonArgs(int argc, char** argv, DaemonConfig* config);

// What one -o option is.
enum class MountOptionKind {
  kGlobusfs,  // a globusfs setting (cache_size=2G, config=FILE, ...): applied to the config
  kFuse,      // a FUSE/kernel mount option (allow_other, ro, ...): passed to libfuse
  kIgnored,   // only for mount(8), fstab or systemd (_netdev, noauto, x-systemd.*, rw, ...)
};

// Applies one -o option ("cache_size=2G", "allow_other", "_netdev") to
// *config; a globusfs setting's config file goes to *config_file. Returns
// its kind, or an error naming the option (unknown, or a bad value).
http::Result<MountOptionKind> ApplyMountOption(const std::string& option, DaemonConfig* config,
                                               std::string* config_file);

// The project's version (CMake's PROJECT_VERSION), as --version prints it.
const char* Version();

}  // namespace globusfs::fs
