// Coherence under stress and at the limits, through a real mount: the
// errno of an impossible size and a too-long name, globusfs-fsx's random
// operations checked against its model and then against the server, an
// unmount while Globus is unreachable (bounded drain, finished by the next
// mount), and a cache folder on a disk too small for a write.
#include <gtest/gtest.h>

#include <string>

#include "tests/integration/coherence_fixture.h"

#ifndef GLOBUSFS_FSX_BIN
#error "GLOBUSFS_FSX_BIN must name the globusfs-fsx binary"
#endif

namespace globusfs {
namespace {

using testing::Coherence;
using testing::ReadFile;
using testing::RunResult;
using testing::Sha256;
using testing::WriteFile;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto npos = std::string::npos;

// Where two byte strings first differ, for a failure message.
std::string FirstDifference(const std::string& want, const std::string& got) {
  size_t i = 0;
  while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
  return "sizes " + std::to_string(want.size()) + " (expected) and " + std::to_string(got.size()) +
         ", first difference at byte " + std::to_string(i);
}

TEST_F(Coherence, AnImpossibleSizeIsEfbigAndALongNameIsEnametoolong) {
  MountOrDie();
  ASSERT_EQ(Sh("printf x > alpha/t").exit_code, 0);
  RunResult r = Sh("truncate -s 999999999999999 alpha/t");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("File too large"), npos) << "expected EFBIG, got: " << r.all();
  EXPECT_EQ(Sh("stat -c %s alpha/t").out, "1\n");
  EXPECT_EQ(ServerText("alpha/t"), "x");

  const std::string long_name(256, 'n');
  for (const std::string& cmd : {"touch alpha/" + long_name, "mkdir alpha/" + long_name, "mv alpha/t alpha/" + long_name}) {
    r = Sh(cmd);
    EXPECT_NE(r.exit_code, 0) << cmd.substr(0, 12);
    EXPECT_NE(r.err.find("File name too long"), npos) << cmd.substr(0, 12) << ": " << r.all();
  }
  EXPECT_EQ(Sh("ls alpha").out, "t\n");
  EXPECT_EQ(ServerText("alpha/t"), "x");
}

// Uploads that fail (the collection's HTTPS server refuses every PUT with
// an error the HTTP client does not retry): the local version stays visible
// and usable, rm and truncate act on it, and it lands once the server is back.
TEST_F(Coherence, AFileWhoseUploadFailsStaysLocalAndLandsLater) {
  MountOrDie();
  emu_->AddFault({{"route", "https.put"}, {"status", 502}, {"code", "ExternalError.Injected"}});
  // (A shell redirection would not say: dup2 ignores close's error.)
  RunResult r = Sh("python3 -c 'f = open(\"alpha/p.txt\", \"w\"); f.write(\"pending\\n\"); f.close()'");
  EXPECT_NE(r.exit_code, 0) << "close reports the failed upload";
  EXPECT_FALSE(ServerHas("alpha/p.txt"));
  EXPECT_EQ(Sh("cat alpha/p.txt").out, "pending\n") << "the local version, not the server's";
  EXPECT_EQ(Sh("ls alpha").out, "p.txt\n");
  // A truncate of the pending file starts from the local version.
  r = Sh("truncate -s 3 alpha/p.txt");
  EXPECT_NE(r.exit_code, 0) << "its upload fails too";
  EXPECT_EQ(Sh("cat alpha/p.txt").out, "pen");
  // A file that never reached the server can be removed.
  (void)Sh("echo never > alpha/q.txt");
  r = Sh("rm alpha/q.txt");
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(Sh("ls alpha").out, "p.txt\n");
  // The server is back: an fsync sends the pending file now.
  emu_->ClearFaults();
  r = Sh("python3 -c 'import os; fd = os.open(\"alpha/p.txt\", os.O_RDONLY); os.fsync(fd)'");
  EXPECT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(ServerText("alpha/p.txt"), "pen");
  Sh("sync alpha");
  EXPECT_FALSE(ServerHas("alpha/q.txt")) << "the removed file was never uploaded";
  // The background retries were logged once per backoff step, not per attempt.
  for (const auto& [line, n] : LineCounts(mount_->Log())) {
    EXPECT_LE(n, 4) << "the log repeats this line " << n << " times:\n  " << line;
  }
  Remount();
  EXPECT_EQ(Sh("cat alpha/p.txt").out, "pen");
  EXPECT_EQ(Sh("ls alpha").out, "p.txt\n");
}

// globusfs-fsx, one seed per instance: the run must pass, the server must
// then hold the model byte for byte, and so must a read after a remount.
struct FsxRun {
  uint64_t seed;
  uint64_t max_size;
};
void PrintTo(const FsxRun& r, std::ostream* os) { *os << "--seed " << r.seed << " --max-size " << r.max_size; }

class Fsx : public Coherence, public ::testing::WithParamInterface<FsxRun> {};

// Under ASan + UBSan (CI's second pass) every operation costs several times
// more: a shorter run there keeps CI within its time, the plain build runs
// the full one.
#if defined(__SANITIZE_ADDRESS__)
constexpr const char* kFsxOps = "1000";
#else
constexpr const char* kFsxOps = "3000";
#endif

TEST_P(Fsx, RandomOperationsMatchTheModelThroughTheMountAndOnTheServer) {
  MountOrDie();
  const FsxRun run = GetParam();
  fs::path dump = emu_->dir() / "fsx.model";
  RunResult r = testing::Run({GLOBUSFS_FSX_BIN, "--seed", std::to_string(run.seed), "--ops", kFsxOps, "--max-size",
                              std::to_string(run.max_size), "--log-tail", "30", "--dump", dump.string(),
                              mount_->path("alpha/fsx.bin").string()},
                             {}, "", 600s);
  ASSERT_EQ(r.exit_code, 0) << r.all() << "\ndaemon log tail:\n" << LogTail(3000);
  std::string model = ReadFile(dump);
  auto server = ServerRead("alpha/fsx.bin");
  ASSERT_TRUE(server.has_value()) << "the server has no alpha/fsx.bin";
  EXPECT_TRUE(*server == model) << "the server's copy right after the run: " << FirstDifference(model, *server);
  EXPECT_FALSE(ServerHas("alpha/fsx.bin.tmp"));
  Remount();
  EXPECT_EQ(Sha256(ReadFile(mount_->path("alpha/fsx.bin"))), Sha256(model)) << "read through the mount after a remount";
}

INSTANTIATE_TEST_SUITE_P(Seeds, Fsx,
                         ::testing::Values(FsxRun{1, 256 << 10}, FsxRun{2, 256 << 10}, FsxRun{3, 3 << 20}),
                         [](const auto& info) {
                           return "Seed" + std::to_string(info.param.seed) + "Max" +
                                  std::to_string(info.param.max_size >> 10) + "K";
                         });

TEST_F(Coherence, AnUnmountWhileGlobusIsUnreachableDrainsInBoundedTimeAndTheNextMountFinishes) {
  WriteFile(emu_->root("alpha") / "gone.txt", "bye\n");
  WriteFile(emu_->root("alpha") / "src.txt", "copy me\n");
  testing::MountOptions o;
  o.extra_args = {"--drain-timeout", "3"};
  MountOrDie(o);
  ASSERT_TRUE(mount_->daemon_pid() > 0) << "the daemon did not start with --drain-timeout 3";
  RunResult r = Sh("ls alpha >/dev/null && rm alpha/gone.txt && cp alpha/src.txt alpha/copy.txt");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  emu_->Stop();  // at once: the delete and the copy are still batched
  auto t0 = std::chrono::steady_clock::now();
  mount_->Unmount(15s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::string first_log = mount_->Log();
  EXPECT_LT(mount_->exit_code(), 128) << "the daemon had to be killed " << took.count() << " ms after the unmount;\n"
                                      << LogTail(3000);
  EXPECT_LT(took, 8s) << "the daemon exited " << took.count() << " ms after the unmount (drain timeout 3 s)";
  EXPECT_TRUE(ServerHas("alpha/gone.txt")) << "Globus was down: the delete cannot have happened";

  emu_->Restart();
  std::string cache = mount_->cache_dir().string();
  testing::MountOptions again = options_;
  again.login = false;
  again.cache_dir = cache;
  MountOrDie(again);
  EXPECT_TRUE(WaitForServerGone("alpha/gone.txt", 20s)) << "the journaled delete ran after the remount;\n" << LogTail(3000);
  EXPECT_TRUE(WaitForServer("alpha/copy.txt", [](const auto& s) { return s == "copy me\n"; }, 20s))
      << "the journaled copy ran after the remount; server holds "
      << ServerText("alpha/copy.txt") << "\n" << LogTail(3000);
  EXPECT_EQ(Sh("cat alpha/copy.txt").out, "copy me\n");
  EXPECT_EQ(Sh("ls alpha").out, "copy.txt\nsrc.txt\n");
  for (const auto& [which, log] : {std::pair{"first mount", first_log}, std::pair{"second mount", mount_->Log()}}) {
    for (const auto& [line, n] : LineCounts(log)) {
      EXPECT_LE(n, 4) << which << "'s log repeats this line " << n << " times (timestamps stripped, digits as #):\n  "
                      << line;
    }
  }
}

// The cache folder on a 20 MB tmpfs.
class SmallCacheDisk : public Coherence {
 protected:
  void SetUp() override {
    Coherence::SetUp();
    if (IsSkipped()) return;
    disk_ = emu_->dir() / "small-cache";
    fs::create_directories(disk_);
    RunResult r = testing::Run({"/bin/mount", "-t", "tmpfs", "-o", "size=20m", "tmpfs", disk_.string()}, {});
    ASSERT_EQ(r.exit_code, 0) << "cannot mount a 20 MB tmpfs (needs root): " << r.all();
    mounted_ = true;
  }
  void TearDown() override {
    Coherence::TearDown();
    if (mounted_) {
      RunResult r = testing::Run({"/bin/umount", disk_.string()}, {}, "", 30s);
      if (r.exit_code != 0) r = testing::Run({"/bin/umount", "-l", disk_.string()}, {}, "", 30s);
      EXPECT_EQ(r.exit_code, 0) << "umount of the tmpfs: " << r.all();
    }
  }
  fs::path disk_;
  bool mounted_ = false;
};

TEST_F(SmallCacheDisk, AWriteLargerThanTheCacheDiskIsEnospcAndUploadsNothing) {
  testing::MountOptions o;
  o.cache_dir = disk_.string();
  MountOrDie(o);
  RunResult r = Sh("dd if=/dev/urandom of=alpha/big bs=1M count=50 status=none");
  EXPECT_NE(r.exit_code, 0) << "50 MB written through a 20 MB cache disk";
  EXPECT_NE(r.err.find("No space left on device"), npos) << r.all();
  EXPECT_FALSE(ServerHas("alpha/big")) << "the server holds a big of " << ServerRead("alpha/big").value_or("").size()
                                       << " bytes";
  r = Sh("echo small > alpha/after.txt");
  EXPECT_EQ(r.exit_code, 0) << "a small write right after: " << r.all();
  EXPECT_EQ(Sh("cat alpha/after.txt").out, "small\n");
  EXPECT_EQ(ServerText("alpha/after.txt"), "small\n");
  Sh("sync alpha");
  EXPECT_FALSE(ServerHas("alpha/big")) << "nor later";
  std::string log = mount_->Log(), found;
  std::stringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    if (line.find(disk_.string()) != npos && line.find("free") != npos && line.find("mounted on") == npos) found = line;
  }
  EXPECT_FALSE(found.empty()) << "no log line names the cache folder " << disk_ << " and its free space; log:\n"
                              << LogTail(3000);
}

}  // namespace
}  // namespace globusfs
