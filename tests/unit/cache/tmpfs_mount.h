// TmpfsMount: a tmpfs of a given size mounted on a fresh folder, for tests
// that need a really full disk. Needs root (CAP_SYS_ADMIN); when it cannot
// mount, mounted() is false and why() says so, for GTEST_SKIP. The
// destructor unmounts (lazily, so an open file cannot keep it mounted) and
// removes the folder. Not thread-safe (one per test).
#pragma once

#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>

#include "temp_dir.h"

namespace globusfs::cache::testing {

class TmpfsMount {
 public:
  explicit TmpfsMount(uint64_t size_bytes) {
    if (::geteuid() != 0) {
      why_ = "mounting a tmpfs needs root (running as uid " + std::to_string(::geteuid()) + ")";
      return;
    }
    const std::string options = "size=" + std::to_string(size_bytes) + ",mode=0700";
    if (::mount("tmpfs", dir_.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) !=
        0) {
      why_ = "mount -t tmpfs -o " + options + " on " + dir_.path().string() + ": " +
             std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~TmpfsMount() {
    if (mounted_ && ::umount2(dir_.path().c_str(), MNT_DETACH) != 0) {
      ADD_FAILURE() << "umount " << dir_.path() << ": " << std::strerror(errno);
    }
  }
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  const std::filesystem::path& path() const { return dir_.path(); }

 private:
  TempDir dir_;  // destroyed (removed) after the unmount
  bool mounted_ = false;
  std::string why_;
};

}  // namespace globusfs::cache::testing
