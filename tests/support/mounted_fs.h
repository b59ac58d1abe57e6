// Test support: a real globusfs mount against a real globus-emulator.
// Start() logs in with globusfs-auth (the emulator approves at once), runs
// `globusfs -f` as a child, and waits until the mount is live. The
// destructor always unmounts (fusermount3 -u, then a lazy unmount and
// SIGKILL if the daemon is stuck), with timeouts. Tests use ordinary tools
// through Sh().
//
// Needs /dev/fuse; IsFuseAvailable() says why not when it is missing.
// Not thread-safe: one test thread drives it.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/support/child_process.h"
#include "tests/support/emulator_process.h"

namespace globusfs::testing {

// Empty when FUSE mounts can work here; else the reason (for GTEST_SKIP).
std::string FuseUnavailableReason();

struct MountOptions {
  // Mounted under these names; "name:/base/path" mounts that folder of it.
  std::vector<std::string> collections = {"alpha", "beta"};
  std::vector<std::string> extra_args;  // for globusfs (e.g. --metadata-ttl 1)
  std::string cache_dir;                // empty: a fresh one per MountedFs
  std::map<std::string, std::string> extra_env;  // for the daemon (e.g. GLOBUS_SDK_HTTP_TIMEOUT)
  std::vector<std::string> login_collections;    // empty: every mounted collection
  bool login = true;                    // log in (with every collection) first
};

class MountedFs {
 public:
  MountedFs(EmulatorProcess& emu, MountOptions options = {});
  ~MountedFs();
  MountedFs(const MountedFs&) = delete;
  MountedFs& operator=(const MountedFs&) = delete;

  // Mounts; returns false (with the daemon's output in *why) if it fails.
  bool Mount(std::string* why = nullptr);
  // Unmounts (fusermount3 -u) and waits for the daemon, at most `timeout`
  // in all (then SIGKILL: exit_code() is 128+9); true when clean.
  bool Unmount(std::chrono::milliseconds timeout = std::chrono::seconds(40));
  // A crash: SIGKILL the daemon, then detach the dead mount (lazy unmount).
  void KillDaemon();
  // The daemon's exit code once unmounted (-1 while running).
  int exit_code() const { return exit_code_; }
  // The daemon's process id while it runs (-f: the child itself), else -1.
  pid_t daemon_pid() const { return daemon_ ? daemon_->pid() : -1; }

  const std::filesystem::path& mountpoint() const { return mountpoint_; }
  std::filesystem::path path(const std::string& rel) const { return mountpoint_ / rel; }
  const std::filesystem::path& cache_dir() const { return cache_dir_; }
  const std::filesystem::path& log_file() const { return log_file_; }
  std::string Log() const;
  std::map<std::string, std::string> Env() const;
  const std::filesystem::path& config_dir() const { return config_dir_; }

  // Runs a shell command (cwd = the mount point) with a timeout.
  RunResult Sh(const std::string& command, std::chrono::seconds timeout = std::chrono::seconds(60));
  // Runs globusfs-auth with this mount's environment.
  RunResult Auth(std::vector<std::string> args);

 private:
  EmulatorProcess& emu_;
  MountOptions options_;
  std::filesystem::path mountpoint_, cache_dir_, log_file_, config_dir_;
  std::unique_ptr<ChildProcess> daemon_;
  int exit_code_ = -1;
};

}  // namespace globusfs::testing
