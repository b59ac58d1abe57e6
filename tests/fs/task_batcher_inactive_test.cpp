// TaskBatcher and INACTIVE tasks (globus-api.md §2.9: suspended until
// someone acts, e.g. expired credentials; not final): a copy or delete
// whose task is INACTIVE keeps its journal record, is followed with the
// usual polls, is neither undone nor reported as failed, shows in Status()
// with why and what resumes it (logged once), finishes when Globus lets it;
// waiters give up after held_wait (EIO, the work stays), and a drain leaves
// it for the next mount.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "tests/fakes/fake_transfer.h"
#include "fs/task_batcher.h"
#include "tests/fs/task_batcher_fixture.h"

namespace globusfs::fs {
namespace {

using namespace batcher_testing;
using namespace std::chrono_literals;
using nlohmann::json;

// The one active task of `status`, or null.
const json* OnlyActive(const json& status) {
  const json& active = status["active"];
  return active.size() == 1 ? &active[0] : nullptr;
}

// Runs the fake's tasks until `rc` is set (a WaitAll on another thread).
bool RunTasksUntilSet(FakeTransfer& fake, const std::atomic<int>& rc) {
  return WaitFor(
      [&] {
        fake.RunPendingTasks();
        return rc != -1;
      },
      5s);
}

TEST_F(TaskBatcherTest, AnInactiveCopyIsFollowedNotUndoneAndFinishesWhenGlobusLetsIt) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.InactivateNextTask(FakeTransfer::kTransfer, "NO_CREDENTIALS", 600ms);
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  EXPECT_EQ(b.WaitAll(In(200ms)), ETIMEDOUT) << "in progress, not failed";
  fake_.ResetCalls();
  std::this_thread::sleep_for(100ms);
  EXPECT_GE(fake_.calls(FakeTransfer::kOpGetTask), 2u) << "still followed";

  json status = b.Status();
  const json* t = OnlyActive(status);
  ASSERT_NE(t, nullptr) << status.dump(2);
  EXPECT_EQ((*t)["status"], "INACTIVE");
  EXPECT_EQ((*t)["nice_status"], "NO_CREDENTIALS");
  EXPECT_EQ((*t)["reason"], "NO_CREDENTIALS (no credentials)");
  const std::string task_id = (*t)["task_id"];
  const std::string remedy = (*t)["remedy"];
  EXPECT_NE(
      remedy.find(std::string("globusfs-auth login --collection ") + kA + " --collection " + kB),
      std::string::npos)
      << remedy;
  EXPECT_NE(remedy.find("https://app.globus.org/activity/" + task_id), std::string::npos) << remedy;
  EXPECT_EQ((*t)["activity_url"], "https://app.globus.org/activity/" + task_id);
  EXPECT_TRUE((*t)["inactive_since"].is_string());
  for (const char* kept : {"submission_id", "type", "items", "files", "files_transferred",
                           "bytes_transferred", "faults"}) {
    EXPECT_TRUE(t->contains(kept)) << "existing field " << kept << " kept: " << t->dump();
  }
  EXPECT_TRUE(status["failed"].empty());
  EXPECT_EQ(SentRecords().size(), 1u) << "its journal record stays";
  EXPECT_TRUE(b.IsPending(kB, "/one")) << "the destination is not undone";
  EXPECT_TRUE(LogLines("copy failed").empty());
  EXPECT_EQ(LogLines("is INACTIVE").size(), 1u) << "logged once, not per poll";

  std::atomic<int> rc{-1};
  std::thread waiter([&] { rc = b.WaitAll(); });
  EXPECT_TRUE(RunTasksUntilSet(fake_, rc));
  waiter.join();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_TRUE(journal_->PendingTasks().empty());
  EXPECT_EQ(LogLines("is INACTIVE").size(), 1u);
  EXPECT_TRUE(b.Status()["active"].empty());
}

TEST_F(TaskBatcherTest, AnInactiveDeleteIsKeptAndDeletesWhenItRuns) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.InactivateNextTask(FakeTransfer::kDelete, "NO_CREDENTIALS", 500ms);
  ASSERT_EQ(b.QueueDelete(kA, "/src/two", false), 0);
  EXPECT_EQ(b.WaitAll(In(200ms)), ETIMEDOUT);
  EXPECT_TRUE(fake_.Exists(kA, "/src/two")) << "suspended: not deleted yet";
  json status = b.Status();
  const json* t = OnlyActive(status);
  ASSERT_NE(t, nullptr) << status.dump(2);
  EXPECT_EQ((*t)["status"], "INACTIVE");
  EXPECT_EQ((*t)["type"], "DELETE");
  EXPECT_NE((*t)["remedy"].get<std::string>().find(std::string("--collection ") + kA),
            std::string::npos);
  EXPECT_TRUE(LogLines("delete failed").empty());

  std::atomic<int> rc{-1};
  std::thread waiter([&] { rc = b.WaitAll(); });
  EXPECT_TRUE(RunTasksUntilSet(fake_, rc));
  waiter.join();
  EXPECT_EQ(rc, 0);
  EXPECT_FALSE(fake_.Exists(kA, "/src/two"));
  EXPECT_TRUE(journal_->PendingTasks().empty());
}

TEST_F(TaskBatcherTest, WaitersGiveUpOnAnInactiveTaskAfterHeldWaitAndTheWorkStays) {
  held_wait_ = 300ms;
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.InactivateNextTask(FakeTransfer::kTransfer, "NO_CREDENTIALS", 60s);
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(b.WaitPath(kB, "/one"), EIO) << "held up: fsync answers EIO";
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(waited, 300ms);
  EXPECT_LT(waited, 3s) << "bounded";
  EXPECT_EQ(LogLines("held up (Globus task").size(), 1u);
  t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(b.WaitAll(), EIO) << "a folder's fsync too";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 3s);
  EXPECT_TRUE(b.IsPending(kB, "/one")) << "still queued";
  EXPECT_EQ(SentRecords().size(), 1u);
  EXPECT_EQ(b.Status()["active"][0]["status"], "INACTIVE");
  EXPECT_TRUE(LogLines("copy failed").empty());
}

TEST_F(TaskBatcherTest, ADrainLeavesAnInactiveTaskForTheNextMount) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.InactivateNextTask(FakeTransfer::kTransfer, "NO_CREDENTIALS", 1s);
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  EXPECT_EQ(b.WaitAll(In(150ms)), ETIMEDOUT);
  DrainReport r = b.Drain(In(200ms));
  EXPECT_TRUE(r.left());
  EXPECT_EQ(r.unfinished, 1u);
  EXPECT_EQ(r.tasks, 1u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_NE(r.waiting_on.find("INACTIVE"), std::string::npos) << r.waiting_on;
  EXPECT_NE(r.waiting_on.find("globusfs-auth login"), std::string::npos) << r.waiting_on;
  EXPECT_NE(r.Describe().find("1 in 1 unfinished Globus task"), std::string::npos) << r.Describe();
  auto sent = SentRecords();
  ASSERT_EQ(sent.size(), 1u);

  // The next mount resumes it with the same submission id (Duplicate: the
  // same task) and follows it to its end.
  OpenJournal();
  NewBatcher(/*start=*/true);
  std::atomic<int> rc{-1};
  std::thread waiter([&] { rc = batcher_->WaitAll(); });
  EXPECT_TRUE(RunTasksUntilSet(fake_, rc));
  waiter.join();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kTransfer), 1u) << "never run twice";
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_TRUE(journal_->PendingTasks().empty());
}

// A TransferApi that reports tasks without a nice_status (as a service
// might): the batcher then takes the latest event's description.
class WithoutNiceStatus final : public TransferApi {
 public:
  explicit WithoutNiceStatus(TransferApi& api) : api_(api) {}
  http::Result<auth::CollectionInfo> GetCollection(const std::string& id) override {
    return api_.GetCollection(id);
  }
  http::Result<std::vector<FileEntry>> List(const std::string& c, const std::string& p) override {
    return api_.List(c, p);
  }
  http::Result<FileEntry> Stat(const std::string& c, const std::string& p) override {
    return api_.Stat(c, p);
  }
  http::Result<std::string> HomePath(const std::string& c) override { return api_.HomePath(c); }
  http::Result<void> Mkdir(const std::string& c, const std::string& p) override {
    return api_.Mkdir(c, p);
  }
  http::Result<void> Rename(const std::string& c, const std::string& f,
                            const std::string& t) override {
    return api_.Rename(c, f, t);
  }
  http::Result<TaskOutcome> DeleteAndWait(const DeleteRequest& r) override {
    return api_.DeleteAndWait(r);
  }
  http::Result<std::string> NewSubmissionId() override { return api_.NewSubmissionId(); }
  http::Result<std::string> SubmitTransfer(const TransferRequest& r) override {
    return api_.SubmitTransfer(r);
  }
  http::Result<std::string> SubmitDelete(const DeleteRequest& r) override {
    return api_.SubmitDelete(r);
  }
  http::Result<TaskStatus> GetTask(const std::string& id) override {
    auto st = api_.GetTask(id);
    if (st) st->nice_status = st->nice_status_short_description = "";
    return st;
  }
  http::Result<std::vector<TaskEvent>> GetTaskEvents(const std::string& id, int limit) override {
    ++event_calls;
    return api_.GetTaskEvents(id, limit);
  }
  http::Result<void> CancelTask(const std::string& id) override { return api_.CancelTask(id); }

  std::atomic<int> event_calls{0};

 private:
  TransferApi& api_;
};

TEST_F(TaskBatcherTest, WithoutANiceStatusTheReasonIsTheLatestEvent) {
  WithoutNiceStatus api(fake_);
  BatcherOptions o;
  o.window = std::chrono::hours(1);
  o.poll_initial = 1ms;
  o.poll_max = 5ms;
  TaskBatcher b(api, *journal_, *ns_, log_, batcher_clock_, o);
  b.Start();
  fake_.InactivateNextTask(FakeTransfer::kTransfer, "GC_PAUSED", 60s);
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  EXPECT_EQ(b.WaitAll(In(300ms)), ETIMEDOUT);
  json status = b.Status();
  const json* t = OnlyActive(status);
  ASSERT_NE(t, nullptr) << status.dump(2);
  EXPECT_EQ((*t)["reason"], "gc paused") << "the event's description";
  EXPECT_NE((*t)["remedy"].get<std::string>().find("paused"), std::string::npos) << (*t)["remedy"];
  EXPECT_EQ(api.event_calls, 1) << "read once, not at every poll";
  b.Stop();
}

}  // namespace
}  // namespace globusfs::fs
