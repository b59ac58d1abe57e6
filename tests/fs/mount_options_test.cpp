// The mount(8) form of globusfs's command line: `globusfs SOURCE MOUNTPOINT
// -o OPTS` as mount.fuse3 runs it for `mount -t fuse.globusfs` and fstab,
// the -o forms of the settings, FUSE options passed through, fstab-only
// options ignored, unknown ones refused by name; and the sd_notify datagram
// globusfs@.service waits for.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fs/daemon.h"
#include "fs/sd_notify.h"

namespace globusfs::fs {
namespace {

constexpr const char* kUuid = "6c54cade-bde5-45c1-bdea-f4bd71dba2cc";

class MountOptions : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("globusfs-mount-options-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    table_ = (dir_ / "table.json").string();
    std::ofstream(table_) << R"({"collections": [{"name": "data", "id": ")" << kUuid
                          << R"(", "path": "/share"}], "single": false})";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs ParseDaemonArgs on `args` (after "globusfs"); stderr goes to *err.
  int Parse(std::vector<std::string> args, DaemonConfig* config, std::string* err = nullptr) {
    args.insert(args.begin(), "globusfs");
    *config = DaemonConfig{};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    testing::internal::CaptureStderr();
    int rc = ParseDaemonArgs(static_cast<int>(argv.size()), argv.data(), config);
    std::string text = testing::internal::GetCapturedStderr();
    if (err) *err = text;
    return rc;
  }

  std::filesystem::path dir_;
  std::string table_;
};

TEST_F(MountOptions, TheFormMountFuse3RunsReadsTheSourceAsAMountTable) {
  DaemonConfig c;
  ASSERT_EQ(Parse({table_, "/mnt/g", "-o", "rw,nodev,nosuid,allow_other"}, &c), -1);
  EXPECT_EQ(c.mountpoint, "/mnt/g");
  ASSERT_EQ(c.table.entries.size(), 1u);
  EXPECT_EQ(c.table.entries[0].name, "data");
  EXPECT_EQ(c.table.entries[0].collection_id, kUuid);
  EXPECT_EQ(c.fuse_options, (std::vector<std::string>{"nodev", "nosuid", "allow_other"}));
  EXPECT_FALSE(c.foreground);
}

TEST_F(MountOptions, SettingsInTheirOptionFormMatchTheLongFlags) {
  DaemonConfig by_o, by_flags;
  ASSERT_EQ(
      Parse(
          {table_, "/mnt/g", "-o",
           "cache_dir=/var/cache/g,cache_size=2G,metadata_ttl=30,memory_limit=512M,copy_mode=wait,"
           "walk_ahead=8,log_file=/tmp/g.log,drain_timeout=5"},
          &by_o),
      -1);
  ASSERT_EQ(
      Parse({"--config", table_, "--cache-dir", "/var/cache/g", "--cache-size", "2G",
             "--metadata-ttl", "30", "--memory-limit", "512M", "--copy-mode", "wait",
             "--walk-ahead", "8", "--log-file", "/tmp/g.log", "--drain-timeout", "5", "/mnt/g"},
            &by_flags),
      -1);
  for (const DaemonConfig* c : {&by_o, &by_flags}) {
    EXPECT_EQ(c->cache_dir, "/var/cache/g");
    EXPECT_EQ(c->cache_size, 2ULL << 30);
    EXPECT_EQ(c->metadata_ttl_s, 30);
    EXPECT_EQ(c->memory_limit, 512ULL << 20);
    EXPECT_TRUE(c->copy_wait);
    EXPECT_EQ(c->walk_ahead, 8);
    EXPECT_EQ(c->log_file, "/tmp/g.log");
    EXPECT_EQ(c->drain_timeout_s, 5);
    EXPECT_TRUE(c->fuse_options.empty());
    EXPECT_EQ(c->table.entries.size(), 1u);
  }
}

TEST_F(MountOptions, TheMountTableCanComeFromConfigAndSingle) {
  DaemonConfig c;
  ASSERT_EQ(Parse({"globusfs", "/mnt/g", "-o", "config=" + table_ + ",single"}, &c), -1);
  EXPECT_EQ(c.table.entries.size(), 1u);
  EXPECT_TRUE(c.table.single);
  ASSERT_EQ(Parse({"none", "/mnt/g", "-oconfig=" + table_}, &c), -1) << "-oOPTS, as one argument";
  EXPECT_EQ(c.mountpoint, "/mnt/g");
  std::string err;
  EXPECT_EQ(Parse({table_, "/mnt/g", "-o", "config=/other.json"}, &c, &err), 2);
  EXPECT_NE(err.find("two mount tables"), std::string::npos) << err;
}

TEST_F(MountOptions, FstabAndSystemdOptionsAreIgnored) {
  DaemonConfig c;
  ASSERT_EQ(Parse({table_, "/mnt/g", "-o",
                   "_netdev,noauto,auto,nofail,user,users,nouser,rw,defaults,dev,suid,exec,x-"
                   "systemd.automount,"
                   "x-systemd.idle-timeout=60,x-gvfs-hide,comment=systemd.automount"},
                  &c),
            -1);
  EXPECT_TRUE(c.fuse_options.empty());
  DaemonConfig defaults;
  EXPECT_EQ(c.cache_size, defaults.cache_size);
}

TEST_F(MountOptions, FuseOptionsPassThrough) {
  DaemonConfig c;
  ASSERT_EQ(Parse({table_, "/mnt/g", "-o", "ro,allow_root,default_permissions,auto_unmount,noexec",
                   "-o", "fsname=globus,subtype=globusfs,max_read=131072"},
                  &c),
            -1);
  EXPECT_EQ(c.fuse_options, (std::vector<std::string>{"ro", "allow_root", "default_permissions",
                                                      "auto_unmount", "noexec", "fsname=globus",
                                                      "subtype=globusfs", "max_read=131072"}));
}

TEST_F(MountOptions, UnknownOptionsAndBadValuesAreNamed) {
  DaemonConfig c;
  std::string err;
  EXPECT_EQ(Parse({table_, "/mnt/g", "-o", "allow_other,cache_sise=2G"}, &c, &err), 2);
  EXPECT_NE(err.find("unknown mount option cache_sise=2G"), std::string::npos) << err;
  EXPECT_EQ(Parse({table_, "/mnt/g", "-o", "frobnicate"}, &c, &err), 2);
  EXPECT_NE(err.find("unknown mount option frobnicate"), std::string::npos) << err;
  EXPECT_EQ(Parse({table_, "/mnt/g", "-o", "cache_size=lots"}, &c, &err), 2);
  EXPECT_NE(err.find("mount option cache_size wants a size"), std::string::npos) << err;
  EXPECT_EQ(Parse({table_, "/mnt/g", "-o", "cache_size"}, &c, &err), 2);
  EXPECT_NE(err.find("cache_size needs a value"), std::string::npos) << err;
  EXPECT_EQ(Parse({table_, "/mnt/g", "-o", "copy_mode=later"}, &c, &err), 2);
  EXPECT_NE(err.find("copy_mode is batch or wait"), std::string::npos) << err;
  EXPECT_EQ(Parse({table_, "/mnt/g", "-o", "allow_other=1"}, &c, &err), 2)
      << "a flag given a value";
  EXPECT_EQ(Parse({table_, "/mnt/g", "--cache_size", "2G"}, &c, &err), 2) << "long flags use '-'";
  EXPECT_NE(err.find("unknown option --cache_size"), std::string::npos) << err;
  EXPECT_EQ(Parse({"/nonexistent/table.json", "/mnt/g"}, &c, &err), 2) << "a missing mount table";
  EXPECT_NE(err.find("/nonexistent/table.json"), std::string::npos) << err;
}

TEST(MountOptionKinds, ApplyMountOptionSaysWhatEachOptionIs) {
  DaemonConfig c;
  std::string file;
  EXPECT_EQ(*ApplyMountOption("walk_ahead=0", &c, &file), MountOptionKind::kGlobusfs);
  EXPECT_EQ(c.walk_ahead, 0);
  EXPECT_EQ(*ApplyMountOption("allow_other", &c, &file), MountOptionKind::kFuse);
  EXPECT_EQ(*ApplyMountOption("x-systemd.automount", &c, &file), MountOptionKind::kIgnored);
  EXPECT_EQ(*ApplyMountOption("", &c, &file), MountOptionKind::kIgnored) << "as in -o a,,b";
  EXPECT_EQ(*ApplyMountOption("config=/etc/g.json", &c, &file), MountOptionKind::kGlobusfs);
  EXPECT_EQ(file, "/etc/g.json");
  EXPECT_FALSE(ApplyMountOption("setuid=alice", &c, &file))
      << "mount.fuse3's own; it never reaches us";
}

TEST(Version, IsTheProjectVersion) { EXPECT_STREQ(Version(), GLOBUSFS_TEST_PROJECT_VERSION); }

// A datagram socket standing in for systemd's notify socket.
class NotifyListener {
 public:
  explicit NotifyListener(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::copy(name.begin(), name.end(), addr.sun_path);
    socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') {
      addr.sun_path[0] = '\0';
    } else {
      ++len;
    }
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) == 0;
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~NotifyListener() { ::close(fd_); }
  bool bound() const { return bound_; }
  std::string Receive() {
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    return n < 0 ? "" : std::string(buf, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SdNotify, SendsTheStateToAPathSocket) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("globusfs-notify-" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove(path);
  NotifyListener listener(path);
  ASSERT_TRUE(listener.bound());
  std::string why;
  ASSERT_TRUE(NotifySocket(path, "READY=1", &why)) << why;
  EXPECT_EQ(listener.Receive(), "READY=1");
  std::filesystem::remove(path);
}

TEST(SdNotify, SendsToAnAbstractSocketAndThroughTheEnvironment) {
  const std::string name = "@globusfs-notify-test-" + std::to_string(::getpid());
  NotifyListener listener(name);
  ASSERT_TRUE(listener.bound());
  ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  std::string why;
  EXPECT_TRUE(NotifySystemd("STOPPING=1", &why)) << why;
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_EQ(listener.Receive(), "STOPPING=1");
  EXPECT_TRUE(NotifySystemd("READY=1", &why)) << "no NOTIFY_SOCKET: nothing to do";
}

TEST(SdNotify, ReportsAMalformedOrMissingSocket) {
  std::string why;
  EXPECT_FALSE(NotifySocket("relative/name", "READY=1", &why));
  EXPECT_NE(why.find("NOTIFY_SOCKET"), std::string::npos) << why;
  EXPECT_FALSE(NotifySocket("/nonexistent/notify.sock", "READY=1", &why));
  EXPECT_NE(why.find("/nonexistent/notify.sock"), std::string::npos) << why;
}

}  // namespace
}  // namespace globusfs::fs
