// Coherence: the fixture of the coherence tests (coherence_test.cpp,
// coherence_errors_test.cpp). Each test drives ordinary tools through a
// real mount and checks both what reads back through the mount and what
// the server (the emulator's folder for the collection) holds, right after
// the operation, without waiting for a cache to expire; some again after a
// remount on the same cache folder.
//
// Server paths are walked one component at a time (openat), so paths
// longer than PATH_MAX can be checked. Not thread-safe: one test thread.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/emulator_process.h"
#include "tests/support/mount_fixture.h"
#include "tests/support/mounted_fs.h"
#include "tests/support/test_files.h"

namespace globusfs::testing {

class Coherence : public MountFixture {
 protected:
  void SetUp() override {
    MountFixture::SetUp();
    if (IsSkipped()) return;
    emu_ = EmulatorProcess::Start();
  }

  // Mounts and remembers the options, for Remount().
  MountedFs& MountOrDie(MountOptions o = {}) {
    options_ = o;
    return MountFixture::MountOrDie(o);
  }

  // Unmounts (a clean unmount is expected) and mounts again on the same
  // cache folder, with the same daemon arguments, without a new login.
  MountedFs& Remount() {
    std::string cache = mount_->cache_dir().string();
    EXPECT_TRUE(mount_->Unmount()) << "unmount before the remount was not clean; log tail:\n" << LogTail(4000);
    MountOptions o = options_;
    o.login = false;
    o.cache_dir = cache;
    return MountOrDie(o);
  }

  // `rel` ("alpha/dir/f") on the server: the collection's folder, walked
  // with openat. -1 (errno set) when a component is missing.
  int ServerOpen(const std::string& rel, int flags = O_RDONLY) const {
    std::vector<std::string> parts;
    std::stringstream ss(rel);
    for (std::string p; std::getline(ss, p, '/');) {
      if (!p.empty()) parts.push_back(p);
    }
    if (parts.empty()) return -1;
    int dir = ::open(emu_->root(parts[0]).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    for (size_t i = 1; i < parts.size() && dir >= 0; ++i) {
      int next = ::openat(dir, parts[i].c_str(), (i + 1 == parts.size() ? flags : O_RDONLY | O_DIRECTORY) | O_CLOEXEC);
      int saved = errno;
      ::close(dir);
      errno = saved;
      dir = next;
    }
    return dir;
  }

  // The server's bytes of `rel`, or nullopt when it has no such file.
  std::optional<std::string> ServerRead(const std::string& rel) const {
    int fd = ServerOpen(rel);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return std::nullopt;
    }
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) out.append(buf, static_cast<size_t>(n));
    ::close(fd);
    return out;
  }

  // ServerRead for messages and EXPECT_EQ: the bytes, or "<no such file on the server>".
  std::string ServerText(const std::string& rel) const {
    return ServerRead(rel).value_or("<no such file on the server>");
  }

  // The names in the server's folder `rel`, sorted ("" for none), one a line.
  std::string ServerList(const std::string& rel) const {
    int fd = ServerOpen(rel, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return "<no such folder on the server>";
    std::vector<std::string> names;
    if (DIR* d = ::fdopendir(fd)) {
      while (dirent* e = ::readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") names.push_back(n);
      }
      ::closedir(d);
    } else {
      ::close(fd);
    }
    std::sort(names.begin(), names.end());
    std::string out;
    for (const auto& n : names) out += n + "\n";
    return out;
  }

  // True when the server has an entry (file or folder) at `rel`.
  bool ServerHas(const std::string& rel) const {
    int fd = ServerOpen(rel, O_PATH);
    if (fd < 0) return false;
    ::close(fd);
    return true;
  }

  // Polls the server (every 100 ms, at most `timeout`) until `pred` holds
  // for ServerRead(rel); returns whether it did.
  bool WaitForServer(const std::string& rel, const std::function<bool(const std::optional<std::string>&)>& pred,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (pred(ServerRead(rel))) return true;
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // Polls until the server has no entry at `rel`.
  bool WaitForServerGone(const std::string& rel, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (ServerHas(rel)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
  }

  // The daemon's log lines, each without its leading timestamp and with
  // digit runs shown as '#', mapped to how often each occurs.
  static std::map<std::string, int> LineCounts(const std::string& log) {
    std::map<std::string, int> counts;
    std::stringstream ss(log);
    for (std::string line; std::getline(ss, line);) {
      auto sp = line.find(' ');
      if (sp != std::string::npos) line = line.substr(sp + 1);
      std::string masked;
      for (char c : line) {
        bool digit = c >= '0' && c <= '9';
        if (!digit) masked += c;
        else if (masked.empty() || masked.back() != '#') masked += '#';
      }
      ++counts[masked];
    }
    return counts;
  }

  // Shell quoting of one word.
  static std::string Q(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  MountOptions options_;
};

}  // namespace globusfs::testing
