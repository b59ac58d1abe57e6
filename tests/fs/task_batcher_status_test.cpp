// TaskBatcher::Status (fs/task_batcher.h), the document `globusfs status`,
// `status --watch` and `globusfs wait` read: the mount paths of what each
// item and task changes, the totals the daemon knows (files queued, their
// bytes), work on its way to Globus never missing from it, and a bounded
// listing of pending items.
#include <gtest/gtest.h>

#include <thread>

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

  std::thread waiter([&] { EXPECT_EQ(b.WaitAll(), 0); });
  ASSERT_TRUE(WaitFor([&] { return b.Status()["active"].size() == 1 && b.Status()["pending"].empty(); }));
  s = b.Status(Namer);
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

  while (fake_.RunPendingTasks() > 0) ::usleep(1000);
  waiter.join();
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

}  // namespace
}  // namespace globusfs::fs
