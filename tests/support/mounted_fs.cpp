#include "tests/support/mounted_fs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#ifndef GLOBUSFS_BIN
#error "GLOBUSFS_BIN must name the globusfs binary"
#endif

namespace globusfs::testing {

using namespace std::chrono_literals;

namespace {

bool IsMounted(const std::filesystem::path& mp) {
  std::ifstream in("/proc/self/mounts");
  std::string dev, where, type;
  std::string rest;
  while (in >> dev >> where >> type && std::getline(in, rest)) {
    if (where == mp.string() && type.rfind("fuse", 0) == 0) return true;
  }
  return false;
}

}  // namespace

std::string FuseUnavailableReason() {
  int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) return "/dev/fuse cannot be opened (" + std::string(std::strerror(errno)) + ")";
  ::close(fd);
  if (::access("/usr/bin/fusermount3", X_OK) != 0 && ::access("/bin/fusermount3", X_OK) != 0) {
    return "fusermount3 is not installed (Debian package fuse3)";
  }
  return "";
}

MountedFs::MountedFs(EmulatorProcess& emu, MountOptions options) : emu_(emu), options_(std::move(options)) {
  static int counter = 0;
  std::string tag = "mnt" + std::to_string(counter++);
  mountpoint_ = emu_.dir() / tag;
  cache_dir_ = options_.cache_dir.empty() ? emu_.dir() / (tag + "-cache") : std::filesystem::path(options_.cache_dir);
  log_file_ = emu_.dir() / (tag + ".log");
  config_dir_ = emu_.dir() / "config";
  std::filesystem::create_directories(mountpoint_);
}

MountedFs::~MountedFs() {
  if (daemon_) Unmount();
}

std::map<std::string, std::string> MountedFs::Env() const {
  auto env = emu_.env();
  env["GLOBUSFS_CONFIG_DIR"] = config_dir_.string();
  env["BROWSER"] = std::string(GLOBUSFS_SOURCE_DIR) + "/tools/emulator-browser";
  env["GLOBUSFS_LOGIN_TIMEOUT"] = "20";
  return env;
}

RunResult MountedFs::Auth(std::vector<std::string> args) {
  args.insert(args.begin(), GLOBUSFS_AUTH_BIN);
  return Run(args, Env(), "", 60s);
}

bool MountedFs::Mount(std::string* why) {
  if (options_.login) {
    std::vector<std::string> args = {"login"};
    for (const auto& n : options_.login_collections.empty() ? options_.collections : options_.login_collections) {
      args.push_back("--collection");
      args.push_back(emu_.collection_id(n.substr(0, n.find(':'))));
    }
    RunResult r = Auth(args);
    if (r.exit_code != 0) {
      if (why) *why = "globusfs-auth login failed: " + r.all();
      return false;
    }
  }
  std::vector<std::string> argv = {GLOBUSFS_BIN, "-f", "--cache-dir", cache_dir_.string(), "--log-file",
                                   log_file_.string()};
  for (const auto& n : options_.collections) {
    // "name" or "name:/base/path"
    const size_t colon = n.find(':');
    const std::string name = n.substr(0, colon);
    argv.push_back("--collection");
    argv.push_back(name + "=" + emu_.collection_id(name) + (colon == std::string::npos ? "" : n.substr(colon)));
  }
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  argv.push_back(mountpoint_.string());
  auto env = Env();
  for (const auto& [k, v] : options_.extra_env) env[k] = v;
  daemon_ = std::make_unique<ChildProcess>(argv, env);
  daemon_->CloseStdin();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!IsMounted(mountpoint_) && !daemon_->Exited() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  if (!IsMounted(mountpoint_)) {
    exit_code_ = daemon_->Wait(5s);
    if (why) *why = "globusfs did not mount (exit " + std::to_string(exit_code_) + "): " + daemon_->all() + Log();
    daemon_.reset();
    return false;
  }
  return true;
}

bool MountedFs::Unmount(std::chrono::milliseconds timeout) {
  if (!daemon_) return exit_code_ == 0;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()),
                    std::chrono::milliseconds(100));
  };
  bool clean = true;
  if (IsMounted(mountpoint_)) {
    RunResult r = Run({"/bin/fusermount3", "-u", mountpoint_.string()}, {}, "", std::min<std::chrono::milliseconds>(left(), 20s));
    if (r.exit_code != 0) {
      clean = false;
      Run({"/bin/fusermount3", "-u", "-z", mountpoint_.string()}, {}, "", 20s);
    }
  }
  exit_code_ = daemon_->Wait(left());
  daemon_.reset();
  return clean && exit_code_ == 0;
}

void MountedFs::KillDaemon() {
  if (!daemon_) return;
  ::kill(daemon_->pid(), SIGKILL);
  exit_code_ = daemon_->Wait(20s);
  daemon_.reset();
  Run({"/bin/fusermount3", "-u", "-z", mountpoint_.string()}, {}, "", 20s);
}

std::string MountedFs::Log() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

RunResult MountedFs::Sh(const std::string& command, std::chrono::seconds timeout) {
  return Run({"/bin/sh", "-c", "cd '" + mountpoint_.string() + "' && " + command}, {}, "", timeout);
}

}  // namespace globusfs::testing
