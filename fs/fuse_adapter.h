// The FUSE adapter: the only part of globusfs that knows libfuse. It turns
// low-level FUSE requests into Filesystem calls and replies exactly once.
// Every callback is noexcept: an exception becomes EIO and a log line.
//
// Thread-safety: callbacks run on libfuse's worker threads; all state lives
// in the Filesystem (thread-safe) reached through fuse_req_userdata.
#pragma once

#include <string>
#include <vector>

#include "fs/filesystem.h"
#include "fs/log.h"

namespace globusfs::fs {

struct FuseOptions {
  std::string mountpoint;
  std::vector<std::string> fuse_args;  // e.g. {"-o", "allow_other"}
  bool foreground = false;
  bool debug = false;      // libfuse's own request tracing
  unsigned max_threads = 32;
};

// Set up and run a FUSE session.
class FuseSession {
 public:
  FuseSession(FuseOptions options, Logger& log);
  ~FuseSession();
  FuseSession(const FuseSession&) = delete;
  FuseSession& operator=(const FuseSession&) = delete;

  // Creates the session and mounts. Errors are printed by libfuse and
  // returned as false.
  bool Mount();
  // Detaches from the terminal unless in the foreground (call after Mount,
  // before any thread or LMDB environment is created).
  void Daemonize();
  // Serves requests with `fs` until unmounted or signalled. Returns 0 on a
  // clean end.
  int Run(Filesystem& fs);
  // Tells the kernel of stale inodes and names while Run serves (after
  // Mount; notifications outside Run are dropped).
  KernelNotifier& notifier();

 private:
  FuseOptions options_;
  Logger& log_;
  struct State;
  State* state_ = nullptr;
};

}  // namespace globusfs::fs
