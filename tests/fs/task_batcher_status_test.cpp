// TaskBatcher::Status (fs/task_batcher.h), the document `globusfs status`,
// `status --watch` and `globusfs wait` read: the mount paths of what each
// item and task changes, the totals the daemon knows (files queued, their
// bytes), work on its way to Globus never missing from it, and a bounded
// listing of pending items.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "fs/filesystem.h"
#include "fs/status_view.h"
#include "fs/task_batcher.h"
#include "tests/fakes/fake_transfer.h"
#include "tests/fs/task_batcher_fixture.h"

namespace globusfs::fs {
namespace {

using namespace batcher_testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

// kA's paths show under /alpha, kB's under /beta.
std::vector<std::string> Namer(const std::string& coll, const std::string& path) {
  if (coll == kA) return {"/alpha" + path};
  if (coll == kB) return {"/beta" + path};
  return {};
}

TEST_F(TaskBatcherTest, StatusCarriesMountPathsAndTheTotalsOfAnActiveTask) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.set_run_tasks_immediately(false);  // the task stays ACTIVE
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/d/one", false, 100), 0);
  ASSERT_EQ(b.QueueCopy(kA, "/src/two", kB, "/d/two", false, 200), 0);
  json s = b.Status(Namer);
  ASSERT_EQ(s["pending"].size(), 2u) << s.dump(2);
  EXPECT_EQ(s["pending"][0]["mount_paths"], json::array({"/beta/d/one"}));
  EXPECT_EQ(s["pending"][0]["destination"], "/d/one") << "the existing fields stay";
  EXPECT_EQ(s["pending_total"], 2);
  EXPECT_EQ(s["pending_batches"][0]["bytes_total"], 300);

  std::atomic<int> rc{-1};
  std::thread waiter([&] { rc = b.WaitAll(In(30s)); });  // bounded: a failure never hangs
  // Submitted: Globus has the task (a task still SUBMITTING has no id yet,
  // and the fake could not run it).
  bool submitted = WaitFor([&] {
    json now = b.Status();
    return now["active"].size() == 1 && now["pending"].empty() && !now["active"][0]["task_id"].get<std::string>().empty();
  });
  s = b.Status(Namer);
  EXPECT_TRUE(submitted) << s.dump(2);
  const json& t = s["active"][0];
  EXPECT_EQ(t["paths"], json::array({"/beta/d/one", "/beta/d/two"})) << t.dump();
  EXPECT_EQ(t["paths_total"], 2);
  EXPECT_EQ(t["paths_common"], "/beta/d");
  EXPECT_EQ(t["files_expected"], 2);
  EXPECT_EQ(t["bytes_total"], 300);
  for (const char* key : {"task_id", "submission_id", "type", "status", "items", "files", "files_transferred",
                          "bytes_transferred", "faults", "effective_bytes_per_second", "subtasks_total"}) {
    EXPECT_TRUE(t.contains(key)) << key;
  }
  EXPECT_EQ(WorkUnder(s, "/beta/d/two")["active"].size(), 1u);
  EXPECT_TRUE(WorkUnder(s, "/alpha")["active"].empty());

  EXPECT_TRUE(WaitFor([&] {
    fake_.RunPendingTasks();
    return rc != -1;
  }));
  waiter.join();
  EXPECT_EQ(rc, 0);
  s = b.Status(Namer);
  ASSERT_EQ(s["recent"].size(), 1u);
  EXPECT_EQ(s["recent"][0]["paths"], json::array({"/beta/d/one", "/beta/d/two"}));
  EXPECT_EQ(s["recent"][0]["finished_at"].get<std::string>().size(), 25u) << s["recent"][0].dump();
}

TEST_F(TaskBatcherTest, ABatchOnItsWayToGlobusIsStillPending) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.SetLatency(600ms);  // the worker sits in NewSubmissionId with the batch
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false, 100), 0);
  EXPECT_EQ(b.WaitAll(In(150ms)), ETIMEDOUT);
  json s = b.Status(Namer);
  EXPECT_TRUE(s["active"].empty()) << "no task yet: " << s.dump();
  ASSERT_EQ(s["pending"].size(), 1u) << "in no batch and no task, yet pending: " << s.dump();
  EXPECT_EQ(s["pending"][0]["mount_paths"], json::array({"/beta/one"}));
  EXPECT_EQ(WorkUnder(s, "/beta/one")["pending"].size(), 1u);
  fake_.SetLatency(0s);
  EXPECT_EQ(b.WaitAll(), 0);
}

TEST_F(TaskBatcherTest, AFailedTaskIsListedWithItsPathsAndTime) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.FailNextTask(FakeTransfer::kTransfer, "PERMISSION_DENIED");
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  EXPECT_EQ(b.WaitAll(), EIO);
  json s = b.Status(Namer);
  ASSERT_EQ(s["failed"].size(), 1u) << s.dump(2);
  EXPECT_EQ(s["failed"][0]["paths"], json::array({"/beta/one"}));
  EXPECT_EQ(FailuresUnder(s, "/beta", "").size(), 1u);
  EXPECT_TRUE(FailuresUnder(s, "/alpha", "").empty());
  EXPECT_EQ(s["active"].size(), 0u);
  EXPECT_TRUE(s["pending_batches"].empty());
}

TEST_F(TaskBatcherTest, ThePendingListIsBoundedAndEachBatchSummarised) {
  TaskBatcher& b = NewBatcher(/*start=*/false);
  for (int i = 0; i < 30; ++i) ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/many/f" + std::to_string(i), false), 0);
  ASSERT_EQ(b.QueueDelete(kA, "/src/two", false), 0);
  json s = b.Status(Namer, 5);
  EXPECT_EQ(s["pending"].size(), 5u);
  EXPECT_EQ(s["pending_total"], 31);
  ASSERT_EQ(s["pending_batches"].size(), 2u) << s.dump(2);
  const json& copies = s["pending_batches"][0]["type"] == "copy" ? s["pending_batches"][0] : s["pending_batches"][1];
  EXPECT_EQ(copies["items"], 30);
  EXPECT_EQ(copies["paths_common"], "/beta/many");
  EXPECT_EQ(copies["bytes_total"], nullptr) << "sizes not given: unknown, not 0";
  EXPECT_EQ(WorkUnder(s, "/beta/many/f29")["pending"].size(), 1u) << "unlisted, still found";
  EXPECT_EQ(WorkUnder(s, "/alpha/src/two")["pending"].size(), 1u);
}

// The document the mount root serves: mount paths from the mount table,
// and never over the 64 KiB the kernel passes back for an xattr.
std::vector<MountedCollection> Mounts() {
  std::vector<MountedCollection> mounts(2);
  mounts[0].entry = MountEntry{"alpha", kA, "/data"};
  mounts[0].info.id = kA;
  mounts[0].root_path = "/data";
  mounts[1].entry = MountEntry{"beta", kB, ""};
  mounts[1].info.id = kB;
  mounts[1].root_path = "/";
  return mounts;
}

TEST_F(TaskBatcherTest, MountPathsComeFromTheMountTable) {
  Filesystem fs(FsOptions{}, Mounts(), *ns_, log_);
  EXPECT_EQ(fs.MountPathsOf(kA, "/data/x/y"), std::vector<std::string>{"/alpha/x/y"});
  EXPECT_EQ(fs.MountPathsOf(kA, "/data"), std::vector<std::string>{"/alpha"});
  EXPECT_TRUE(fs.MountPathsOf(kA, "/database/x").empty()) << "not under /data";
  EXPECT_TRUE(fs.MountPathsOf(kA, "/other").empty());
  EXPECT_EQ(fs.MountPathsOf(kB, "/b/c"), std::vector<std::string>{"/beta/b/c"});
  EXPECT_TRUE(fs.MountPathsOf("cccccccc-0000-4000-8000-000000000003", "/x").empty());
  FsOptions single;
  single.single = true;
  auto one = Mounts();
  one.resize(1);
  Filesystem just_alpha(single, one, *ns_, log_);
  EXPECT_EQ(just_alpha.MountPathsOf(kA, "/data/x"), std::vector<std::string>{"/x"});
  EXPECT_EQ(just_alpha.MountPathsOf(kA, "/data"), std::vector<std::string>{"/"});
}

TEST_F(TaskBatcherTest, TheStatusDocumentFitsInAnXattrWhateverIsPending) {
  TaskBatcher& b = NewBatcher(/*start=*/false);  // everything stays pending
  Filesystem fs(FsOptions{}, Mounts(), *ns_, log_, nullptr, &b);
  const std::string dir = "/" + std::string(400, 'd');
  for (int i = 0; i < 250; ++i) {
    ASSERT_EQ(b.QueueCopy(kA, "/data/src/f" + std::to_string(i), kB, dir + "/f" + std::to_string(i), false, 10), 0);
  }
  ASSERT_GT(b.Status([&](const std::string& c, const std::string& p) { return fs.MountPathsOf(c, p); }).dump().size(),
            Filesystem::kMaxStatusBytes)
      << "listed in full it would not fit";
  std::string doc = fs.StatusDocument();
  EXPECT_LE(doc.size(), Filesystem::kMaxStatusBytes);
  json s = json::parse(doc);
  EXPECT_EQ(s["pending_total"], 250);
  EXPECT_LT(s["pending"].size(), 100u) << "not even 100 fit";
  EXPECT_EQ(WorkUnder(s, "/beta" + dir + "/f249")["pending"].size(), 1u) << "still found by its batch";
  EXPECT_EQ(s["pending_batches"][0]["bytes_total"], 2500);
}

}  // namespace
}  // namespace globusfs::fs
