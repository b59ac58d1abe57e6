// Server-side copies and batched deletes through a real mount: cp, cp -r,
// cp -a and mv between collections become Globus transfer tasks (no bytes
// through this machine), rm -r becomes few delete tasks, fsync waits, a
// failed task is EIO, and a daemon killed with copies pending finishes them
// after a remount without running anything twice. A task Globus holds
// INACTIVE is shown by `globusfs status`, kept, and finishes later.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <functional>
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
namespace fs = std::filesystem;
using namespace std::chrono_literals;

class Copies : public testing::MountFixture {
 protected:
  void SetUp() override {
    MountFixture::SetUp();
    if (IsSkipped()) return;
    Start(50);
  }
  void Start(int64_t task_delay_ms) {
    testing::EmulatorOptions opts;
    opts.collections = {"alpha", "beta"};
    opts.task_delay_ms = task_delay_ms;
    emu_ = EmulatorProcess::Start(opts);
    a_ = emu_->root("alpha");
    b_ = emu_->root("beta");
  }
  fs::path a_, b_;
};

TEST_F(Copies, APersonalCollectionCopiesThroughTransferButHasNoContents) {
  // Globus Connect Personal: no HTTPS server, no https scope. Logging in
  // with it works, its names and copies to and from it go through Transfer,
  // and its contents answer EOPNOTSUPP with one log line saying why.
  testing::EmulatorOptions opts;
  opts.collections = {"alpha"};
  opts.personal_collections = {"laptop"};
  opts.task_delay_ms = 50;
  emu_ = EmulatorProcess::Start(opts);
  fs::path laptop = emu_->root("laptop"), alpha = emu_->root("alpha");
  WriteFile(laptop / "notes.txt", "from the laptop");
  WriteFile(alpha / "data.bin", Pattern(100000, 7));
  testing::MountOptions o;
  o.collections = {"alpha", "laptop"};
  MountOrDie(o);
  EXPECT_EQ(Sh("ls laptop").out, "notes.txt\n");
  RunResult cat = Sh("cat laptop/notes.txt");
  EXPECT_NE(cat.exit_code, 0);
  EXPECT_NE(cat.err.find("Operation not supported"), std::string::npos) << cat.all();

  uint64_t before = Tasks("transfer");
  RunResult cp = Sh("cp laptop/notes.txt alpha/notes.txt && cp alpha/data.bin laptop/data.bin && sync alpha laptop");
  ASSERT_EQ(cp.exit_code, 0) << cp.all();
  EXPECT_EQ(ReadFile(alpha / "notes.txt"), "from the laptop");
  EXPECT_EQ(ReadFile(laptop / "data.bin"), Pattern(100000, 7));
  EXPECT_GE(Tasks("transfer") - before, 1u);
  EXPECT_EQ(emu_->Stats()["https_bytes_sent"], 0u) << "no byte through this machine";

  // Writing contents there cannot work; nothing is left behind.
  RunResult w = Sh("printf hi | dd of=laptop/new.txt status=none");
  EXPECT_NE(w.exit_code, 0);
  EXPECT_NE(w.err.find("Operation not supported"), std::string::npos) << w.all();
  EXPECT_FALSE(fs::exists(laptop / "new.txt"));
  EXPECT_EQ(Sh("ls laptop").out, "data.bin\nnotes.txt\n");
  std::string log = mount_->Log();
  const std::string why = "has no HTTPS server: its files cannot be read or written through globusfs";
  auto first = log.find(why);
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find(why, first + 1), std::string::npos) << "one log line";
}

TEST_F(Copies, CpOfALargeFileIsOneTransferWithNoBytesThroughThisMachine) {
  std::string data = Pattern(100 << 20, 1);
  WriteFile(a_ / "big.bin", data);
  MountOrDie();
  ASSERT_EQ(Sh("ls alpha beta >/dev/null").exit_code, 0);
  emu_->ResetStats();
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = Sh("cp alpha/big.bin beta/big.bin");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s) << "cp returns at once";
  EXPECT_EQ(Sh("stat -c %s beta/big.bin").out, std::to_string(data.size()) + "\n") << "shown at once";
  // fsync of the destination returns when the task is done.
  r = Sh("sync beta/big.bin");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(fs::file_size(b_ / "big.bin"), data.size()) << "landed when fsync returned";
  EXPECT_TRUE(ReadFile(b_ / "big.bin") == data);
  auto stats = emu_->Stats();
  EXPECT_EQ(stats["tasks"]["transfer"], 1);
  EXPECT_EQ(stats["https_bytes_sent"], 0) << "no byte of the file came to this machine";
  EXPECT_EQ(stats["https_bytes_received"], 0);
}

TEST_F(Copies, CpRecursiveOf300FilesIsAHandfulOfTasks) {
  for (int i = 0; i < 300; ++i) {
    WriteFile(a_ / "tree" / ("d" + std::to_string(i % 10)) / ("f" + std::to_string(i)), "file " + std::to_string(i) + "\n");
  }
  MountOrDie();
  emu_->ResetStats();
  RunResult r = Sh("cp -r alpha/tree beta/ && sync beta");
  ASSERT_EQ(r.exit_code, 0) << r.all() << mount_->Log();
  EXPECT_LE(Tasks("transfer"), 5u);
  EXPECT_GE(Tasks("transfer"), 1u);
  for (int i = 0; i < 300; ++i) {
    fs::path rel = fs::path("tree") / ("d" + std::to_string(i % 10)) / ("f" + std::to_string(i));
    ASSERT_EQ(ReadFile(b_ / rel), "file " + std::to_string(i) + "\n") << rel;
  }
  EXPECT_EQ(emu_->Stats()["https_bytes_sent"], 0);
}

TEST_F(Copies, CpDashAAndStatus) {
  WriteFile(a_ / "keep" / "x.txt", "x\n");
  WriteFile(a_ / "keep" / "y.txt", "y\n");
  MountOrDie();
  RunResult r = Sh("cp -a alpha/keep beta/kept && sync beta");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(ReadFile(b_ / "kept" / "y.txt"), "y\n");
  RunResult st = testing::Run({GLOBUSFS_BIN, "status", mount_->mountpoint().string(), "--json"}, {});
  ASSERT_EQ(st.exit_code, 0) << st.all();
  auto j = nlohmann::json::parse(st.out);
  ASSERT_FALSE(j["recent"].empty());
  EXPECT_EQ(j["recent"][0]["type"], "TRANSFER");
  EXPECT_EQ(j["recent"][0]["status"], "SUCCEEDED");
  EXPECT_EQ(j["recent"][0]["task_id"].get<std::string>().size(), 36u);
  st = testing::Run({GLOBUSFS_BIN, "status", mount_->mountpoint().string()}, {});
  EXPECT_NE(st.out.find("recent:"), std::string::npos);
}

TEST_F(Copies, MvOfAFolderAcrossCollectionsIsATransferThenADelete) {
  for (int i = 0; i < 20; ++i) WriteFile(a_ / "proj" / "sub" / ("f" + std::to_string(i)), Pattern(1000 + i, i));
  MountOrDie();
  emu_->ResetStats();
  RunResult r = Sh("mv alpha/proj beta/ && sync beta alpha");
  ASSERT_EQ(r.exit_code, 0) << r.all() << mount_->Log();
  EXPECT_FALSE(fs::exists(a_ / "proj")) << "source gone";
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(ReadFile(b_ / "proj" / "sub" / ("f" + std::to_string(i))), Pattern(1000 + i, i));
  }
  EXPECT_LE(Tasks("transfer"), 3u);
  EXPECT_LE(Tasks("delete"), 3u);
  EXPECT_EQ(Sh("ls alpha").out, "");
  EXPECT_EQ(emu_->Stats()["https_bytes_sent"], 0);
}

TEST_F(Copies, RmRecursiveOf300FilesIsAHandfulOfDeleteTasks) {
  for (int i = 0; i < 300; ++i) WriteFile(a_ / "junk" / ("d" + std::to_string(i % 7)) / ("f" + std::to_string(i)), "x");
  MountOrDie();
  emu_->ResetStats();
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = Sh("rm -r alpha/junk");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 20s) << "rm -r returns at once";
  EXPECT_EQ(Sh("ls alpha").out, "") << "entries disappear at once";
  ASSERT_EQ(Sh("sync alpha").exit_code, 0);
  EXPECT_FALSE(fs::exists(a_ / "junk"));
  EXPECT_LE(Tasks("delete"), 5u);
  EXPECT_GE(Tasks("delete"), 1u);
}

TEST_F(Copies, AFailedCopyIsEioAtFsyncAndLeavesTheListing) {
  emu_.reset();
  Start(1500);  // time to take the source away before the task runs
  WriteFile(a_ / "doomed.txt", "soon gone\n");
  MountOrDie();
  RunResult r = Sh("cp alpha/doomed.txt beta/doomed.txt");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  fs::remove(a_ / "doomed.txt");  // behind the mount's back: the task will fault
  r = Sh("sync beta/doomed.txt");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Input/output error"), std::string::npos) << r.all();
  EXPECT_EQ(Sh("ls beta").out, "") << "the failed destination is no longer listed";
  std::string log = mount_->Log();
  EXPECT_NE(log.find("copy failed, Globus task "), std::string::npos) << log;
  EXPECT_NE(log.find("FILE_NOT_FOUND"), std::string::npos) << log;
}

TEST_F(Copies, AFailedDeleteBringsTheEntriesBackAndIsLogged) {
  WriteFile(a_ / "keep" / "a.txt", "a");
  WriteFile(a_ / "keep" / "b.txt", "b");
  MountOrDie();
  emu_->AddFault({{"route", "task.delete"}, {"code", "PERMISSION_DENIED"}, {"count", 1}});
  ASSERT_EQ(Sh("rm -r alpha/keep").exit_code, 0);
  EXPECT_EQ(Sh("ls alpha").out, "") << "hidden at once";
  RunResult r = Sh("sync alpha");
  EXPECT_NE(r.exit_code, 0) << "the failure is reported";
  EXPECT_TRUE(fs::exists(a_ / "keep" / "a.txt"));
  EXPECT_EQ(Sh("ls alpha/keep").out, "a.txt\nb.txt\n") << "and the entries are back";
  EXPECT_NE(mount_->Log().find("delete failed, Globus task "), std::string::npos);
  EXPECT_NE(mount_->Log().find("PERMISSION_DENIED"), std::string::npos);
}

// `globusfs status --json` until `done(the parsed answer)`, for up to 20 s.
nlohmann::json StatusUntil(const fs::path& mountpoint,
                           const std::function<bool(const nlohmann::json&)>& done) {
  nlohmann::json j;
  for (auto give_up = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < give_up; std::this_thread::sleep_for(100ms)) {
    RunResult st = testing::Run({GLOBUSFS_BIN, "status", mountpoint.string(), "--json"}, {});
    if (st.exit_code != 0) continue;
    j = nlohmann::json::parse(st.out, nullptr, false);
    if (!j.is_discarded() && done(j)) return j;
  }
  ADD_FAILURE() << "status never reached what the test waits for: " << j.dump();
  return j;
}

bool HasInactiveTask(const nlohmann::json& j) {
  return j.is_object() && j["active"].size() == 1 && j["active"][0]["status"] == "INACTIVE";
}

// Polls `what` every 100 ms for up to 20 s.
bool Eventually(const std::function<bool()>& what) {
  for (auto give_up = std::chrono::steady_clock::now() + 20s;
       std::chrono::steady_clock::now() < give_up; std::this_thread::sleep_for(100ms)) {
    if (what()) return true;
  }
  return what();
}

TEST_F(Copies, ACopyWhoseTaskIsInactiveIsShownKeptAndLandsWhenGlobusLetsIt) {
  WriteFile(a_ / "held.txt", "held up, not lost\n");
  MountOrDie();
  // Globus suspends the task (expired credentials) for 4 s, then runs it.
  emu_->AddFault({{"route", "task.transfer"}, {"inactive_ms", 4000}, {"count", 1}});
  RunResult r = Sh("cp alpha/held.txt beta/held.txt");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  nlohmann::json j = StatusUntil(mount_->mountpoint(), HasInactiveTask);
  ASSERT_TRUE(HasInactiveTask(j)) << j.dump(2);
  const nlohmann::json& t = j["active"][0];
  EXPECT_EQ(t["type"], "TRANSFER");
  EXPECT_NE(t["reason"].get<std::string>().find("NO_CREDENTIALS"), std::string::npos) << t.dump();
  EXPECT_NE(t["remedy"].get<std::string>().find("globusfs-auth login --collection " +
                                                emu_->collection_id("alpha")),
            std::string::npos)
      << t.dump();
  EXPECT_TRUE(j["failed"].empty());
  RunResult text = testing::Run({GLOBUSFS_BIN, "status", mount_->mountpoint().string()}, {});
  EXPECT_NE(text.out.find("INACTIVE since"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("to resume it: "), std::string::npos) << text.out;
  EXPECT_EQ(Sh("ls beta").out, "held.txt\n") << "the copy is not undone while suspended";
  EXPECT_FALSE(fs::exists(b_ / "held.txt"));

  // Globus lets it run: the file lands, and fsync of the folder is clean.
  EXPECT_TRUE(Eventually([&] { return fs::exists(b_ / "held.txt"); })) << mount_->Log();
  r = Sh("sync beta");
  EXPECT_EQ(r.exit_code, 0) << r.all() << mount_->Log();
  EXPECT_EQ(ReadFile(b_ / "held.txt"), "held up, not lost\n");
  EXPECT_EQ(Sh("cat beta/held.txt").out, "held up, not lost\n");
  std::string log = mount_->Log();
  EXPECT_EQ(log.find("copy failed"), std::string::npos) << log;
  size_t first = log.find("is INACTIVE");
  ASSERT_NE(first, std::string::npos) << log;
  EXPECT_EQ(log.find("is INACTIVE", first + 1), std::string::npos) << "logged once: " << log;
}

TEST_F(Copies, RmWhileTheDeleteTaskIsInactiveSucceedsAndTheFileGoesOnceItRuns) {
  WriteFile(a_ / "victim.txt", "x");
  MountOrDie();
  emu_->AddFault({{"route", "task.delete"}, {"inactive_ms", 3000}, {"count", 1}});
  RunResult r = Sh("rm alpha/victim.txt");
  ASSERT_EQ(r.exit_code, 0) << "queued: " << r.all();
  EXPECT_EQ(Sh("ls alpha").out, "");
  nlohmann::json j = StatusUntil(mount_->mountpoint(), HasInactiveTask);
  ASSERT_TRUE(HasInactiveTask(j)) << j.dump(2);
  EXPECT_EQ(j["active"][0]["type"], "DELETE");
  EXPECT_TRUE(fs::exists(a_ / "victim.txt")) << "suspended: not deleted yet";
  EXPECT_TRUE(Eventually([&] { return !fs::exists(a_ / "victim.txt"); })) << mount_->Log();
  r = Sh("sync alpha");
  EXPECT_EQ(r.exit_code, 0) << r.all() << mount_->Log();
  EXPECT_EQ(Sh("ls alpha").out, "");
  EXPECT_EQ(mount_->Log().find("delete failed"), std::string::npos) << mount_->Log();
}

TEST_F(Copies, CopiesPendingAtACrashRunExactlyOnceAfterARemount) {
  emu_.reset();
  Start(3000);  // tasks wait 3 s before they run
  for (int i = 0; i < 20; ++i) WriteFile(a_ / "src" / ("f" + std::to_string(i)), Pattern(5000 + i, 100 + i));
  MountOrDie();
  fs::path cache = mount_->cache_dir();
  ASSERT_EQ(Sh("mkdir beta/dst && cp alpha/src/* beta/dst/").exit_code, 0);
  // Wait until Globus has accepted the batch, then crash.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (Tasks("transfer") == 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(Tasks("transfer"), 1u);
  mount_->KillDaemon();
  mount_.reset();
  uint64_t submissions = emu_->RequestCount("transfer.transfer");
  testing::MountOptions o;
  o.login = false;
  o.cache_dir = cache.string();
  MountOrDie(o);
  ASSERT_EQ(Sh("sync beta").exit_code, 0) << mount_->Log();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(ReadFile(b_ / "dst" / ("f" + std::to_string(i))), Pattern(5000 + i, 100 + i)) << i;
  }
  EXPECT_GT(emu_->RequestCount("transfer.transfer"), submissions) << "resubmitted after the remount";
  EXPECT_EQ(Tasks("transfer"), 1u) << "Globus answered Duplicate: the copy ran once";
  EXPECT_NE(mount_->Log().find("from the journal"), std::string::npos);
}

TEST_F(Copies, CopyModeWaitMakesEachCopyWait) {
  WriteFile(a_ / "w.txt", "wait for me\n");
  testing::MountOptions o;
  o.extra_args = {"--copy-mode", "wait"};
  MountOrDie(o);
  RunResult r = Sh("cp alpha/w.txt beta/w.txt");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(ReadFile(b_ / "w.txt"), "wait for me\n") << "there when cp returned";
}

TEST_F(Copies, ReadingAPendingDestinationWaitsForIt) {
  WriteFile(a_ / "r.txt", "read me after the copy\n");
  MountOrDie();
  RunResult r = Sh("cp alpha/r.txt beta/r.txt && cat beta/r.txt");
  ASSERT_EQ(r.exit_code, 0) << r.all();
  EXPECT_EQ(r.out, "read me after the copy\n");
}

}  // namespace
}  // namespace globusfs
