// File contents through a real globusfs mount against globus-emulator:
// reads (whole, ranges, parallel, cached), writes (cp, >>, truncate, rsync),
// faults and token expiry during reads, and a daemon killed during an upload.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <fstream>
#include <random>
#include <thread>

#include "tests/support/emulator_process.h"
#include "tests/support/mount_fixture.h"
#include "tests/support/mounted_fs.h"
#include "tests/support/test_files.h"

namespace globusfs {
namespace {

using testing::EmulatorProcess;
using testing::MountedFs;
using testing::RunResult;
using testing::Pattern;
using testing::ReadFile;
using testing::WriteFile;
using testing::Sha256;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr uint64_t kBlock = 1 << 20;

class Contents : public testing::MountFixture {
 protected:
  void SetUp() override {
    MountFixture::SetUp();
    if (IsSkipped()) return;
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta", "nohttps"};
    opts.extra_args = {"--no-https", "nohttps"};
    emu_ = EmulatorProcess::Start(opts);
    a_ = emu_->root("alpha");
  }

  MountedFs& MountOrDie(testing::MountOptions o = {}) {
    if (o.collections.size() == 2) o.collections = {"alpha", "beta", "nohttps"};
    return MountFixture::MountOrDie(o);
  }

  std::string ShaOf(const std::string& mount_rel) {
    RunResult r = Sh("sha256sum '" + mount_rel + "' | cut -d' ' -f1");
    EXPECT_EQ(r.exit_code, 0) << r.all();
    return r.out.substr(0, 64);
  }

  fs::path a_;
};

TEST_F(Contents, ReadsOfEverySizeMatchTheServer) {
  std::map<std::string, std::string> files = {
      {"zero", ""}, {"one", "x"}, {"block-1", Pattern(kBlock - 1, 1)}, {"block", Pattern(kBlock, 2)},
      {"block+1", Pattern(kBlock + 1, 3)}, {"big", Pattern(100 * kBlock, 4)}};
  for (const auto& [name, data] : files) WriteFile(a_ / name, data);
  MountOrDie();
  for (const auto& [name, data] : files) {
    EXPECT_EQ(ShaOf("alpha/" + name), Sha256(data)) << name;
  }
  EXPECT_EQ(Sh("cat alpha/one").out, "x");
  EXPECT_EQ(Sh("stat -c %s alpha/big").out, std::to_string(100 * kBlock) + "\n");
}

TEST_F(Contents, RandomReadsWithDdSkip) {
  std::string data = Pattern(8 * kBlock + 123, 5);
  WriteFile(a_ / "r.bin", data);
  MountOrDie();
  for (uint64_t off : std::vector<uint64_t>{0, 4096, kBlock - 10, 5 * kBlock + 7, 8 * kBlock}) {
    RunResult r = Sh("dd if=alpha/r.bin bs=1 skip=" + std::to_string(off) + " count=100 status=none");
    ASSERT_EQ(r.exit_code, 0) << r.all();
    EXPECT_EQ(r.out, data.substr(off, 100)) << off;
  }
  emu_->ResetStats();
  RunResult r = Sh("dd if=alpha/r.bin bs=4096 skip=1500 count=1 status=none | wc -c");
  EXPECT_EQ(r.out, "4096\n");
  EXPECT_LE(emu_->Stats()["https_bytes_sent"].get<uint64_t>(), 2 * kBlock) << "a random read fetches only its block";
}

TEST_F(Contents, ASecondReadMakesNoHttpsRequestEvenAfterARemount) {
  std::string data = Pattern(5 * kBlock, 6);
  WriteFile(a_ / "twice.bin", data);
  MountOrDie();
  EXPECT_EQ(ShaOf("alpha/twice.bin"), Sha256(data));
  emu_->ResetStats();
  EXPECT_EQ(ShaOf("alpha/twice.bin"), Sha256(data));
  EXPECT_EQ(emu_->RequestCount("https.get"), 0u);
  // A remount on the same cache: the disk block cache answers.
  fs::path cache = mount_->cache_dir();
  ASSERT_TRUE(mount_->Unmount());
  testing::MountOptions o;
  o.login = false;
  o.cache_dir = cache.string();
  MountOrDie(o);
  emu_->ResetStats();
  EXPECT_EQ(ShaOf("alpha/twice.bin"), Sha256(data));
  EXPECT_EQ(emu_->RequestCount("https.get"), 0u);
}

TEST_F(Contents, SixteenFilesReadInParallel) {
  std::vector<std::string> shas;
  for (int i = 0; i < 16; ++i) {
    std::string d = Pattern(3 * kBlock + static_cast<uint64_t>(i) * 1000, 100 + static_cast<uint32_t>(i));
    WriteFile(a_ / "par" / ("f" + std::to_string(i)), d);
    shas.push_back(Sha256(d));
  }
  MountOrDie();
  RunResult r = Sh("cd alpha/par && for i in $(seq 0 15); do sha256sum f$i > /tmp/globusfs-par-$$-$i & done; wait; "
                   "for i in $(seq 0 15); do cut -d' ' -f1 /tmp/globusfs-par-$$-$i; rm /tmp/globusfs-par-$$-$i; done");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  std::string expected;
  for (const auto& s : shas) expected += s + "\n";
  EXPECT_EQ(r.out, expected);
}

TEST_F(Contents, AFileChangedBehindTheMountIsReadFreshAfterTheTtl) {
  WriteFile(a_ / "v.txt", "version one\n");
  testing::MountOptions o;
  o.extra_args = {"--metadata-ttl", "1"};
  MountOrDie(o);
  EXPECT_EQ(Sh("cat alpha/v.txt").out, "version one\n");
  WriteFile(a_ / "v.txt", "version two, longer\n");
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(Sh("cat alpha/v.txt").out, "version two, longer\n");
}

TEST_F(Contents, CopyInAndOut) {
  std::string data = Pattern(3 * kBlock + 17, 7);
  fs::path local = emu_->dir() / "local.bin";
  WriteFile(local, data);
  MountOrDie();
  RunResult r = Sh("cp '" + local.string() + "' alpha/copied.bin");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(Sha256(ReadFile(a_ / "copied.bin")), Sha256(data)) << "arrived on the server at close";
  EXPECT_EQ(Sh("stat -c %s alpha/copied.bin").out, std::to_string(data.size()) + "\n");
  fs::path back = emu_->dir() / "back.bin";
  r = Sh("cp alpha/copied.bin '" + back.string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(Sha256(ReadFile(back)), Sha256(data));
  EXPECT_NE(Sh("ls -l alpha").out.find("copied.bin"), std::string::npos);
}

TEST_F(Contents, AppendTruncateAndOverwrite) {
  WriteFile(a_ / "log.txt", "line 1\n");
  MountOrDie();
  ASSERT_EQ(Sh("echo 'line 2' >> alpha/log.txt && echo 'line 3' >> alpha/log.txt").exit_code, 0);
  EXPECT_EQ(ReadFile(a_ / "log.txt"), "line 1\nline 2\nline 3\n");
  EXPECT_EQ(Sh("cat alpha/log.txt").out, "line 1\nline 2\nline 3\n");
  ASSERT_EQ(Sh("truncate -s 7 alpha/log.txt").exit_code, 0);
  EXPECT_EQ(ReadFile(a_ / "log.txt"), "line 1\n");
  ASSERT_EQ(Sh("truncate -s 10000 alpha/log.txt").exit_code, 0);
  EXPECT_EQ(fs::file_size(a_ / "log.txt"), 10000u);
  ASSERT_EQ(Sh("echo fresh > alpha/log.txt").exit_code, 0);
  EXPECT_EQ(ReadFile(a_ / "log.txt"), "fresh\n");
  // Writing into the middle of an existing file keeps the rest.
  // (Made through the mount: the folder's listing is cached, so a file made
  // behind the mount's back would not be seen until the TTL passed.)
  ASSERT_EQ(Sh("head -c 3145728 /dev/zero | tr '\\0' a > alpha/mid.bin").exit_code, 0);
  ASSERT_EQ(Sh("printf ZZZZ | dd of=alpha/mid.bin bs=1 seek=2000000 conv=notrunc status=none").exit_code, 0);
  std::string mid = ReadFile(a_ / "mid.bin");
  ASSERT_EQ(mid.size(), 3 * kBlock);
  EXPECT_EQ(mid.substr(1999998, 8), "aaZZZZaa");
  ASSERT_EQ(Sh("touch alpha/empty && test -f alpha/empty").exit_code, 0);
  EXPECT_TRUE(fs::exists(a_ / "empty"));
}

TEST_F(Contents, TheWriterReadsItsOwnWrites) {
  MountOrDie();
  RunResult r = Sh("exec 3<>alpha/rw.txt; printf hello >&3; cat alpha/rw.txt; exec 3>&-");
  EXPECT_EQ(r.out, "hello") << r.all();
  EXPECT_EQ(ReadFile(a_ / "rw.txt"), "hello");
}

TEST_F(Contents, RsyncIntoTheMount) {
  fs::path src = emu_->dir() / "tree";
  for (int i = 0; i < 10; ++i) WriteFile(src / ("d" + std::to_string(i % 3)) / ("f" + std::to_string(i)), Pattern(1000 + i, i));
  MountOrDie();
  RunResult r = Sh("rsync -a '" + src.string() + "/' alpha/tree/");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  for (int i = 0; i < 10; ++i) {
    std::string rel = "d" + std::to_string(i % 3) + "/f" + std::to_string(i);
    EXPECT_EQ(ReadFile(a_ / "tree" / rel), Pattern(1000 + i, i)) << rel;
  }
  // Modification times are not kept (docs/SEMANTICS.md), so a second run
  // compares by size (or checksum) to find nothing to send.
  r = Sh("rsync -a --size-only --dry-run --itemize-changes '" + src.string() + "/' alpha/tree/ | grep -c '^>f' || true");
  EXPECT_EQ(r.out, "0\n");
}

TEST_F(Contents, FaultsDuringReadsStillGiveTheRightBytes) {
  std::string data = Pattern(12 * kBlock, 9);
  WriteFile(a_ / "faulty.bin", data);
  MountOrDie();
  emu_->AddFault({{"route", "https.get"}, {"status", 503}, {"fraction", 0.2}});
  emu_->AddFault({{"route", "https.get"}, {"drop", true}, {"count", 3}});
  emu_->AddFault({{"route", "https.get"}, {"truncate", true}, {"count", 3}});
  EXPECT_EQ(ShaOf("alpha/faulty.bin"), Sha256(data));
  emu_->ClearFaults();
}

TEST_F(Contents, TokensExpiredMidReadAreRefreshed) {
  std::string data = Pattern(6 * kBlock, 10);
  WriteFile(a_ / "exp.bin", data);
  MountOrDie();
  EXPECT_EQ(Sh("dd if=alpha/exp.bin bs=1M count=1 status=none | wc -c").out, "1048576\n");
  emu_->ExpireTokens();
  EXPECT_EQ(ShaOf("alpha/exp.bin"), Sha256(data));
  EXPECT_GE(emu_->RequestCount("auth.token"), 1u) << "a refresh happened";
}

TEST_F(Contents, NoTokenForACollectionIsEaccesWithTheLoginCommand) {
  // A guest collection needs no data_access consent, so it lists without
  // its own login; its data needs its https token.
  testing::EmulatorOptions opts;
  opts.collections = {"alpha", "beta", "nohttps"};
  opts.extra_args = {"--guest", "beta"};
  emu_ = EmulatorProcess::Start(opts);
  WriteFile(emu_->root("beta") / "b.txt", "b");
  testing::MountOptions o;
  o.login_collections = {"alpha"};  // no token for beta's data
  MountOrDie(o);
  EXPECT_EQ(Sh("ls beta").out, "b.txt\n");
  RunResult r = Sh("cat beta/b.txt");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Permission denied"), std::string::npos) << r.all();
  EXPECT_NE(mount_->Log().find("globusfs-auth login --collection " + emu_->collection_id("beta")), std::string::npos)
      << mount_->Log();
  // Fixed with the tool, without a remount.
  RunResult login = mount_->Auth({"login", "--collection", emu_->collection_id("beta")});
  ASSERT_EQ(login.exit_code, 0) << login.all();
  EXPECT_EQ(Sh("cat beta/b.txt").out, "b");
}

TEST_F(Contents, AStalledReadTimesOutAndIsRetried) {
  std::string data = Pattern(2 * kBlock, 12);
  WriteFile(a_ / "slow.bin", data);
  testing::MountOptions o;
  o.extra_env = {{"GLOBUS_SDK_HTTP_TIMEOUT", "2"}};
  MountOrDie(o);
  // One response stalls (16 KiB, then nothing for a minute): the client
  // gives up on it after the timeout and asks again.
  emu_->AddFault({{"route", "https.get"}, {"body_delay_ms", 60000}, {"count", 1}});
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(ShaOf("alpha/slow.bin"), Sha256(data));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s) << "not held for the stall";
}

TEST_F(Contents, ACollectionWithoutHttpsIsEopnotsuppWithALogLine) {
  WriteFile(emu_->root("nohttps") / "x.txt", "x");
  MountOrDie();
  EXPECT_EQ(Sh("ls nohttps").out, "x.txt\n") << "folders still work";
  RunResult r = Sh("cat nohttps/x.txt");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Operation not supported"), std::string::npos);
  EXPECT_NE(mount_->Log().find("has no HTTPS server"), std::string::npos);
}

TEST_F(Contents, ADaemonKilledDuringAnUploadLosesNothing) {
  std::string data = Pattern(40 * kBlock, 11);
  fs::path local = emu_->dir() / "large.bin";
  WriteFile(local, data);
  MountOrDie();
  fs::path cache = mount_->cache_dir();
  // Hold the upload so the daemon dies in the middle of it.
  emu_->AddFault({{"route", "https.put"}, {"delay_ms", 5000}, {"count", 1}});
  testing::ChildProcess cp({"/bin/cp", local.string(), mount_->path("alpha/large.bin").string()}, {});
  cp.CloseStdin();
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (emu_->RequestCount("https.put") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_GE(emu_->RequestCount("https.put"), 1u) << "the upload started";
  mount_->KillDaemon();
  cp.Wait(30s);  // cp sees the mount die; what close accepted is journaled
  mount_.reset();
  EXPECT_FALSE(fs::exists(a_ / "large.bin") && ReadFile(a_ / "large.bin") == data) << "not yet uploaded";
  testing::MountOptions o;
  o.login = false;
  o.cache_dir = cache.string();
  MountOrDie(o);
  deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline &&
         !(fs::exists(a_ / "large.bin") && fs::file_size(a_ / "large.bin") == data.size())) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(Sha256(ReadFile(a_ / "large.bin")), Sha256(data)) << mount_->Log();
  EXPECT_NE(mount_->Log().find("from the journal"), std::string::npos);
}

TEST_F(Contents, AConflictAtReplayKeepsBoth) {
  WriteFile(a_ / "c.txt", "original\n");
  MountOrDie();
  fs::path cache = mount_->cache_dir();
  // The held upload is long enough that the dead daemon's request (whose
  // few bytes already reached the server) cannot land during the test.
  emu_->AddFault({{"route", "https.put"}, {"delay_ms", 60000}, {"count", 1}});
  // cp opens, writes and closes once (a shell redirection would first
  // upload the truncated file, from the close after its dup2).
  WriteFile(emu_->dir() / "mine.txt", "mine\n");
  testing::ChildProcess w({"/bin/cp", (emu_->dir() / "mine.txt").string(), mount_->path("alpha/c.txt").string()}, {});
  w.CloseStdin();
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (emu_->RequestCount("https.put") == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  mount_->KillDaemon();
  w.Wait(30s);
  mount_.reset();
  std::this_thread::sleep_for(1100ms);  // a later mtime
  WriteFile(a_ / "c.txt", "theirs\n");  // changed elsewhere meanwhile
  testing::MountOptions o;
  o.login = false;
  o.cache_dir = cache.string();
  MountOrDie(o);
  deadline = std::chrono::steady_clock::now() + 30s;
  fs::path conflict;
  while (conflict.empty() && std::chrono::steady_clock::now() < deadline) {
    for (const auto& e : fs::directory_iterator(a_)) {
      if (e.path().filename().string().rfind("c.txt.globusfs-conflict-", 0) == 0) conflict = e.path();
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_FALSE(conflict.empty()) << mount_->Log();
  EXPECT_EQ(ReadFile(a_ / "c.txt"), "theirs\n");
  EXPECT_EQ(ReadFile(conflict), "mine\n");
  EXPECT_NE(mount_->Log().find("conflict"), std::string::npos);
}

}  // namespace
}  // namespace globusfs
