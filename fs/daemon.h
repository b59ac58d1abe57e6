// The daemon's composition root: from an immutable DaemonConfig it checks
// the login and every collection (exiting with a message that names the fix
// when something is wrong), mounts, detaches, then builds the object graph
// (HTTP client, token source, Transfer client, metadata cache, namespace,
// filesystem) and serves until unmounted. No globals, no singletons.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "fs/mount_table.h"

namespace globusfs::fs {

struct DaemonConfig {
  std::string mountpoint;
  MountTable table;
  std::vector<std::string> fuse_options;  // "-o" values
  bool foreground = false;
  bool debug = false;
  std::string cache_dir;  // empty: $XDG_CACHE_HOME/globusfs/<hash of the mount point>
  double metadata_ttl_s = 60;
  uint64_t cache_size = 1ULL << 30;     // --cache-size: the disk block cache's bound
  uint64_t memory_limit = 256ULL << 20;  // --memory-limit: half of it may hold read buffers
  bool copy_wait = false;                // --copy-mode wait: each copy waits for its own task
  int walk_ahead = 4;                    // --walk-ahead: listings fetched ahead at once in a walk
  double drain_timeout_s = 30;           // --drain-timeout: unmount sends pending work this long
  std::string log_file;   // empty: stderr in the foreground, else <cache dir>/globusfs.log
};

// Returns the process exit code.
int RunDaemon(const DaemonConfig& config);

// The native app's client id: $GLOBUSFS_CLIENT_ID, else config.json's
// "client_id" in the config folder; "" when neither says.
std::string ClientIdFromEnvOrConfig();

// Parses globusfs's command line. Returns the exit code to use right away
// (0 after --help/--version, 2 on a usage error) or -1 to run.
int ParseDaemonArgs(int argc, char** argv, DaemonConfig* config);

}  // namespace globusfs::fs
