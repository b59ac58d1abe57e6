// Folders bigger than one Transfer page, through a real mount: `ls | wc -l`
// of a 150,000-entry folder counts them all (globusfs pages ls with
// limit/offset), and a folder over the emulator's --max-ls-entries (502
// ExternalError.DirListingFailed.SizeLimit) fails with EFBIG ("File too
// large") and one log line saying what to do, while its files and
// subfolders still open by path.
#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "tests/support/emulator_process.h"
#include "tests/support/mounted_fs.h"
#include "tests/support/test_files.h"

namespace globusfs {
namespace {

using testing::EmulatorProcess;
using testing::MountedFs;
using testing::RunResult;
using namespace std::chrono_literals;

using testing::MakeEmptyFiles;

class Listing : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> emulator_args) {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha"};
    opts.extra_args = std::move(emulator_args);
    emu_ = EmulatorProcess::Start(opts);
  }
  void MountOrDie() {
    testing::MountOptions options;
    options.collections = {"alpha"};
    mount_ = std::make_unique<MountedFs>(*emu_, options);
    std::string why;
    ASSERT_TRUE(mount_->Mount(&why)) << why;
  }
  void SetUp() override {
    if (auto why = testing::FuseUnavailableReason(); !why.empty()) GTEST_SKIP() << "needs FUSE: " << why;
  }
  void TearDown() override {
    if (mount_) {
      EXPECT_TRUE(mount_->Unmount()) << "unmount was not clean; log:\n" << mount_->Log();
    }
  }

  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<MountedFs> mount_;
};

TEST_F(Listing, LsOfA150000EntryFolderCountsThemAll) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "a 150,000-entry listing under ASan takes minutes; this test runs in the plain build (tests/run.sh)";
#endif
  Start({});
  MakeEmptyFiles(emu_->dir() / "seeds", emu_->root("alpha") / "big", 150000);
  MountOrDie();
  RunResult r = mount_->Sh("ls alpha");  // alpha's own listing, out of the count
  ASSERT_EQ(r.exit_code, 0) << r.all();
  const uint64_t before = emu_->RequestCount("transfer.ls");
  const auto start = std::chrono::steady_clock::now();
  r = mount_->Sh("ls alpha/big | wc -l", 60s);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "150000\n");
  EXPECT_EQ(emu_->RequestCount("transfer.ls") - before, 2u)
      << "a page of 100,000 and a short one of 50,000";
  EXPECT_LT(took, 30s);
  RecordProperty("ls_ms", std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()));
  // Listed once: the names are cached with their attributes.
  r = mount_->Sh("stat -c %s alpha/big/f149999 && ls alpha/big | tail -1");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "0\nf149999\n");
  EXPECT_EQ(emu_->RequestCount("transfer.ls") - before, 2u);
}

TEST_F(Listing, AFolderOverTheListingLimitIsFileTooLargeWithOneLogLine) {
  Start({"--max-ls-entries", "100"});
  MakeEmptyFiles(emu_->dir() / "seeds", emu_->root("alpha") / "over", 101);
  std::filesystem::create_directories(emu_->root("alpha") / "over" / "sub");
  MakeEmptyFiles(emu_->dir() / "seeds", emu_->root("alpha") / "over" / "sub", 3);
  MountOrDie();
  RunResult r = mount_->Sh("ls alpha/over");
  EXPECT_NE(r.exit_code, 0) << r.all();
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.all();
  r = mount_->Sh("ls alpha/over");
  EXPECT_NE(r.err.find("File too large"), std::string::npos) << r.all();
  const std::string log = mount_->Log();
  const std::string line = "/over: this folder has more entries than Globus Transfer lists";
  const size_t at = log.find(line);
  ASSERT_NE(at, std::string::npos) << log;
  EXPECT_EQ(log.find(line, at + 1), std::string::npos) << "one line, not one per ls:\n" << log;
  EXPECT_NE(log.find("Directory too large to list (102 entries, more than 100)"), std::string::npos) << log;
  EXPECT_NE(log.find("globus ls --filter"), std::string::npos) << log;
  // What still works: a subfolder, and a file, opened by path.
  r = mount_->Sh("ls alpha/over/sub && stat -c %s alpha/over/f000042");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "f000000\nf000001\nf000002\n0\n");
}

}  // namespace
}  // namespace globusfs
