// A mount without a BASEPATH shows what `globus ls COLLECTION` shows: the
// collection's default_directory, or (null, the GCSv5 default) "/~/", the
// user's home folder, here /home/researcher/ under the collection's root.
// Its files are read and written over HTTPS at the folder Transfer names
// for "/~/" (the HTTPS server does not understand '~'); when Transfer does
// not name it, they fail with EOPNOTSUPP and a log line naming the
// collection and the fix, which works.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/support/emulator_process.h"
#include "tests/support/mounted_fs.h"

namespace globusfs {
namespace {

using testing::EmulatorProcess;
using testing::MountedFs;
using testing::RunResult;
namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string Read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class Home : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = testing::FuseUnavailableReason(); !why.empty()) GTEST_SKIP() << "needs FUSE: " << why;
  }
  // alpha's home folder is /home/researcher/ (the emulator's default
  // identity is researcher@example.org), not its root.
  void Start(std::vector<std::string> emulator_args) {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha"};
    opts.extra_args = std::move(emulator_args);
    emu_ = EmulatorProcess::Start(opts);
    root_ = emu_->root("alpha");
    home_ = root_ / "home" / "researcher";
    Write(root_ / "top.txt", "top\n");
    Write(home_ / "notes.txt", "my notes\n");
    Write(root_ / "projects" / "plan.txt", "plan\n");
  }
  void MountOrDie(std::vector<std::string> extra_args = {}) {
    testing::MountOptions options;
    options.collections = {"alpha"};
    options.extra_args = std::move(extra_args);
    mount_ = std::make_unique<MountedFs>(*emu_, options);
    std::string why;
    ASSERT_TRUE(mount_->Mount(&why)) << why;
  }
  void TearDown() override {
    if (mount_) {
      EXPECT_TRUE(mount_->Unmount()) << "unmount was not clean; log:\n" << mount_->Log();
    }
  }
  RunResult Sh(const std::string& cmd) { return mount_->Sh(cmd); }

  std::unique_ptr<EmulatorProcess> emu_;
  std::unique_ptr<MountedFs> mount_;
  fs::path root_, home_;
};

TEST_F(Home, WithoutABasepathTheHomeFolderIsShownReadAndWritten) {
  // The emulator names "/~/" in its ls answers (absolute_path), the variant
  // globusfs reads; the recorded answers do not (next test).
  Start({"--ls-absolute-path", "alpha"});
  MountOrDie();
  RunResult r = Sh("ls alpha");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "notes.txt\n") << "the home folder, not the collection's root";
  r = Sh("cat alpha/notes.txt");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "my notes\n");
  r = Sh("echo 'written through the mount' > alpha/new.txt && mkdir alpha/sub && "
         "printf deep > alpha/sub/deep.txt && sync alpha");
  ASSERT_EQ(r.exit_code, 0) << r.all() << "\n" << mount_->Log();
  EXPECT_EQ(Read(home_ / "new.txt"), "written through the mount\n");
  EXPECT_EQ(Read(home_ / "sub" / "deep.txt"), "deep");
  EXPECT_FALSE(fs::exists(root_ / "new.txt"));
  EXPECT_FALSE(fs::exists(root_ / "~"));
  r = Sh("getfattr --only-values -n user.globus.path alpha/notes.txt; echo; "
         "getfattr --only-values -n user.globus.url alpha/notes.txt");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "/~/notes.txt\n" + emu_->base_url() + "/c/" + emu_->collection_id("alpha") +
                       "/home/researcher/notes.txt");
}

TEST_F(Home, WhenTransferDoesNotNameTheHomeFolderFilesFailAndTheLogSaysWhatToDo) {
  Start({});
  MountOrDie({"--collection", "mine=" + emu_->collection_id("alpha") + ":/home/researcher/"});
  RunResult r = Sh("ls alpha");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "notes.txt\n") << "listing goes through Transfer, which knows '~'";
  r = Sh("cat alpha/notes.txt");
  EXPECT_NE(r.exit_code, 0) << r.all();
  EXPECT_NE(r.err.find("Operation not supported"), std::string::npos) << r.all();
  const std::string log = mount_->Log();
  const std::string id = emu_->collection_id("alpha");
  EXPECT_NE(log.find("collection " + id + ": its HTTPS server does not understand '~'"), std::string::npos)
      << log;
  EXPECT_NE(log.find("--collection NAME=" + id + ":/path/of/your/home/"), std::string::npos) << log;
  // The fix: the same folder by its absolute path.
  r = Sh("cat mine/notes.txt && echo fixed > mine/fixed.txt && sync mine");
  ASSERT_EQ(r.exit_code, 0) << r.all() << "\n" << mount_->Log();
  EXPECT_EQ(r.out, "my notes\n");
  EXPECT_EQ(Read(home_ / "fixed.txt"), "fixed\n");
}

TEST_F(Home, ACollectionsDefaultDirectoryIsShown) {
  Start({"--default-directory", "alpha=/projects/"});
  MountOrDie();
  RunResult r = Sh("ls alpha && cat alpha/plan.txt && echo more > alpha/more.txt && sync alpha");
  ASSERT_EQ(r.exit_code, 0) << r.all() << "\n" << mount_->Log();
  EXPECT_EQ(r.out, "plan.txt\nplan\n");
  EXPECT_EQ(Read(root_ / "projects" / "more.txt"), "more\n");
}

}  // namespace
}  // namespace globusfs
