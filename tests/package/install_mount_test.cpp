// `cmake --install` into a temporary prefix, then the installed globusfs
// mounted the way an administrator does: `mount -t fuse.globusfs
// CONFIG.json DIR -o ...` and an fstab line (`mount -T FSTAB DIR`), against
// a running globus-emulator; `ls` shows the collections, `umount` ends it.
//
// mount(8) runs /sbin/mount.fuse3 without the caller's PATH, so
// mount.fuse3's `sh -c 'globusfs ...'` finds globusfs on the shell's default
// path (/usr/local/bin, /usr/bin, ...). To use the installed copy without
// touching this machine, the script runs in a private mount namespace
// (unshare -m) where PREFIX/bin is bind-mounted on /usr/local/bin. Whatever
// happens, the mounts are detached and the daemons it started are ended by
// their process ids.
//
// Also the readiness globusfs@.service waits for: READY=1 and STOPPING=1
// on $NOTIFY_SOCKET from `globusfs -f`.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "tests/support/emulator_process.h"
#include "tests/support/mounted_fs.h"

namespace globusfs {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::EmulatorProcess;
using testing::RunResult;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The pids of processes whose command line mentions `needle`.
std::vector<pid_t> ProcessesMentioning(const std::string& needle) {
  std::vector<pid_t> pids;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string name = e.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmd = ReadFile(e.path() / "cmdline");
    if (cmd.find(needle) != std::string::npos && std::stoi(name) != ::getpid())
      pids.push_back(std::stoi(name));
  }
  return pids;
}

class InstalledMount : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root: mount(8) of a fuse.globusfs entry";
    if (auto why = testing::FuseUnavailableReason(); !why.empty())
      GTEST_SKIP() << "needs FUSE: " << why;
    for (const char* tool : {"/usr/bin/unshare", "/sbin/mount.fuse3", "/usr/bin/mount"}) {
      ASSERT_TRUE(fs::exists(tool))
          << tool << " is missing (Debian packages util-linux, mount, fuse3)";
    }
    emu_ = EmulatorProcess::Start();
    std::ofstream(emu_->root("alpha") / "hello.txt") << "hello\n";
    dir_ = emu_->dir() / "pkg";
    prefix_ = dir_ / "prefix";
    fs::create_directories(dir_);
  }

  void TearDown() override {
    if (dir_.empty()) return;
    // A daemon the script left (a failure, a timeout): its mounts died with
    // the namespace's last other process or are detached here; end it by pid.
    for (int round = 0; round < 2; ++round) {
      for (pid_t pid : ProcessesMentioning(dir_.string()))
        ::kill(pid, round == 0 ? SIGTERM : SIGKILL);
      std::this_thread::sleep_for(round == 0 ? 2s : 0s);
    }
    for (const char* m : {"mnt-type", "mnt-fstab"}) {
      testing::Run({"/usr/bin/umount", "-l", (dir_ / m).string()}, {}, "", 10s);
    }
  }

  std::unique_ptr<EmulatorProcess> emu_;
  fs::path dir_, prefix_;
};

TEST_F(InstalledMount, MountTypeFuseGlobusfsAndAnFstabLineFromTheInstalledPrefix) {
  // 1. Install.
  RunResult install =
      testing::Run({GLOBUSFS_CMAKE, "--install", GLOBUSFS_BUILD_DIR, "--prefix", prefix_.string()},
                   {}, "", 120s);
  ASSERT_EQ(install.exit_code, 0) << install.all();
  for (const char* f :
       {"bin/globusfs", "bin/globusfs-auth", "bin/globus-emulator", "share/man/man1/globusfs.1",
        "share/man/man1/globusfs-auth.1", "share/man/man1/globus-emulator.1",
        "share/bash-completion/completions/globusfs",
        "share/bash-completion/completions/globusfs-auth",
        "share/bash-completion/completions/globus-emulator",
        "lib/systemd/user/globusfs@.service"}) {
    EXPECT_TRUE(fs::exists(prefix_ / f)) << f << " was not installed:\n" << install.all();
  }
  for (const auto& e : fs::recursive_directory_iterator(prefix_)) {
    const std::string name = e.path().filename();
    EXPECT_EQ(name.find("test"), std::string::npos) << "a test was installed: " << e.path();
    EXPECT_NE(e.path().extension(), ".a") << "a library was installed: " << e.path();
  }
  EXPECT_NE(ReadFile(prefix_ / "lib/systemd/user/globusfs@.service")
                .find("ExecStart=" + (prefix_ / "bin/globusfs").string() + " -f "),
            std::string::npos)
      << "the unit names the installed globusfs";

  // 2. Log in (as the mounts' user: root here, with its own config folder).
  testing::MountOptions mo;
  testing::MountedFs login(*emu_, mo);  // only for its environment and globusfs-auth
  RunResult r = login.Auth({"login", "--collection", emu_->collection_id("alpha"), "--collection",
                            emu_->collection_id("beta")});
  ASSERT_EQ(r.exit_code, 0) << r.all();

  // 3. The mount table, an fstab, and the script run in its own namespace.
  const fs::path table = dir_ / "lab.json";
  std::ofstream(table) << R"({"collections": [{"name": "alpha", "id": ")"
                       << emu_->collection_id("alpha")
                       << R"(", "path": "/"}, {"name": "beta", "id": ")"
                       << emu_->collection_id("beta") << R"(", "path": "/"}], "single": false})";
  const fs::path mnt_type = dir_ / "mnt-type", mnt_fstab = dir_ / "mnt-fstab";
  fs::create_directories(mnt_type);
  fs::create_directories(mnt_fstab);
  const fs::path fstab = dir_ / "fstab";
  std::ofstream(fstab) << "# a globusfs line, as in the README\n"
                       << table.string() << " " << mnt_fstab.string()
                       << " fuse.globusfs _netdev,noauto,nofail,x-systemd.automount,cache_dir="
                       << (dir_ / "cache-fstab").string()
                       << ",log_file=" << (dir_ / "fstab.log").string()
                       << ",metadata_ttl=30,walk_ahead=2,allow_other 0 0\n";
  const fs::path script = dir_ / "mount.sh";
  std::ofstream(script) << R"(set -eu
trap 'umount -l "$MNT_TYPE" 2>/dev/null || true; umount -l "$MNT_FSTAB" 2>/dev/null || true' EXIT
# Wait (at most 30 s) for the daemon logging to $1 to say it unmounted.
wait_unmounted() {
  i=0
  until grep -q "unmounted from" "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -le 300 ] || { echo "daemon did not finish: $1"; cat "$1"; exit 1; }
    sleep 0.1
  done
}
mount --bind "$PREFIX/bin" /usr/local/bin
echo "== mount -t fuse.globusfs"
mount -t fuse.globusfs "$TABLE" "$MNT_TYPE" -o "cache_dir=$DIR/cache-type,log_file=$DIR/type.log,_netdev,cache_size=64M"
awk -v m="$MNT_TYPE" '$2 == m {print "type:", $1, $3}' /proc/self/mounts
ls "$MNT_TYPE" | sed 's/^/ls: /'
cat "$MNT_TYPE/alpha/hello.txt" | sed 's/^/cat: /'
umount "$MNT_TYPE"
wait_unmounted "$DIR/type.log"
echo "== mount -T fstab"
mount -T "$FSTAB" "$MNT_FSTAB"
awk -v m="$MNT_FSTAB" '$2 == m {print "fstab:", $1, $3, $4}' /proc/self/mounts
ls "$MNT_FSTAB" | sed 's/^/ls2: /'
umount "$MNT_FSTAB"
wait_unmounted "$DIR/fstab.log"
echo "== done"
)";
  auto env = login.Env();
  env["PREFIX"] = prefix_.string();
  env["DIR"] = dir_.string();
  env["TABLE"] = table.string();
  env["FSTAB"] = fstab.string();
  env["MNT_TYPE"] = mnt_type.string();
  env["MNT_FSTAB"] = mnt_fstab.string();
  RunResult run = testing::Run(
      {"/usr/bin/unshare", "--mount", "--propagation", "private", "/bin/sh", script.string()}, env,
      "", 90s);
  const std::string out = run.all() + "\n--- type.log:\n" + ReadFile(dir_ / "type.log") +
                          "\n--- fstab.log:\n" + ReadFile(dir_ / "fstab.log");
  ASSERT_EQ(run.exit_code, 0) << out;
  EXPECT_NE(run.out.find("type: globusfs fuse.globusfs"), std::string::npos) << out;
  EXPECT_NE(run.out.find("ls: alpha\nls: beta\n"), std::string::npos) << out;
  EXPECT_NE(run.out.find("cat: hello\n"), std::string::npos) << out;
  EXPECT_NE(run.out.find("fstab: globusfs fuse.globusfs"), std::string::npos) << out;
  EXPECT_NE(run.out.find("allow_other"), std::string::npos)
      << "a FUSE option from fstab reached the mount\n"
      << out;
  EXPECT_NE(run.out.find("ls2: alpha\nls2: beta\n"), std::string::npos) << out;
  EXPECT_NE(run.out.find("== done"), std::string::npos) << out;
  // "unmounted from" is the daemon's last log line; its exit follows.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!ProcessesMentioning(dir_.string()).empty() &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(ProcessesMentioning(dir_.string()), std::vector<pid_t>{}) << "every daemon has exited";
}

// globusfs@.service is Type=notify: `globusfs -f` sends READY=1 to
// $NOTIFY_SOCKET once the mount serves requests, and STOPPING=1 when it is
// unmounted.
TEST(SystemdNotify, ReadyOnceMountedStoppingAtUnmount) {
  if (auto why = testing::FuseUnavailableReason(); !why.empty())
    GTEST_SKIP() << "needs FUSE: " << why;
  auto emu = EmulatorProcess::Start();
  const fs::path sock = emu->dir() / "notify.sock";
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(sock.string().size(), sizeof(addr.sun_path));
  std::copy(sock.string().begin(), sock.string().end(), addr.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  auto receive = [fd] {
    char buf[128];
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    return n < 0 ? std::string("(nothing: ") + std::strerror(errno) + ")"
                 : std::string(buf, static_cast<size_t>(n));
  };
  testing::MountOptions mo;
  mo.extra_env["NOTIFY_SOCKET"] = sock.string();
  testing::MountedFs mount(*emu, mo);
  std::string why;
  ASSERT_TRUE(mount.Mount(&why)) << why;
  EXPECT_EQ(receive(), "READY=1");
  EXPECT_TRUE(fs::is_directory(mount.path("alpha"))) << "ready means serving";
  EXPECT_TRUE(mount.Unmount());
  EXPECT_EQ(receive(), "STOPPING=1");
  ::close(fd);
}

}  // namespace
}  // namespace globusfs
