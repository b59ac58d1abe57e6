// TaskBatcher (fs/task_batcher.h) on FakeTransfer and a real (temporary)
// LMDB journal: what is accepted is journaled before it is acknowledged,
// survives a restart, and a failed copy keeps its source. An unmount drains
// for a bounded time and the next mount resumes the rest with the same
// submission ids.
#include "fs/task_batcher.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <functional>

#include <gtest/gtest.h>

#include "fs/remote/fake_transfer.h"

namespace globusfs::fs {
namespace {

constexpr const char* kA = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kB = "bbbbbbbb-0000-4000-8000-000000000002";

using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock::time_point;

// Polls `done` every millisecond for up to `limit`; its last answer.
bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    ::usleep(1000);
  }
  return true;
}

class TaskBatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string t = (std::filesystem::temp_directory_path() / "globusfs-batcher-XXXXXX").string();
    dir_ = ::mkdtemp(t.data());
    fake_.AddCollection(kA);
    fake_.AddCollection(kB);
    fake_.AddFile(kA, "/src/one", 100);
    fake_.AddFile(kA, "/src/two", 200);
    fake_.set_run_tasks_immediately(true);
    std::string why;
    store_ = cache::MetadataStore::Open(cache::MetadataStoreOptions{dir_ / "meta"}, &why);
    ASSERT_TRUE(store_) << why;
    ns_ = std::make_unique<Namespace>(fake_, *store_, clock_);
    OpenJournal();
  }
  void TearDown() override {
    batcher_.reset();
    journal_.reset();
    std::filesystem::remove_all(dir_);
  }

  void OpenJournal() {
    batcher_.reset();
    journal_.reset();
    std::string why;
    journal_ = cache::Journal::Open(dir_ / "journal", &why);
    ASSERT_TRUE(journal_) << why;
  }
  // A batcher whose window never closes by itself: only WaitAll sends.
  TaskBatcher& NewBatcher(bool start) {
    BatcherOptions o;
    o.window = std::chrono::hours(1);
    o.poll_initial = std::chrono::milliseconds(1);
    o.poll_max = std::chrono::milliseconds(5);
    batcher_ = std::make_unique<TaskBatcher>(fake_, *journal_, *ns_, log_, clock_, o);
    if (start) batcher_->Start();
    return *batcher_;
  }
  SteadyTime In(std::chrono::milliseconds d) { return clock_->Now() + d; }

  std::filesystem::path dir_;
  std::shared_ptr<http::Clock> clock_ = std::make_shared<http::RealClock>();
  FakeTransfer fake_;
  Logger log_{nullptr, LogLevel::kError};
  std::unique_ptr<cache::MetadataStore> store_;
  std::unique_ptr<Namespace> ns_;
  std::unique_ptr<cache::Journal> journal_;
  std::unique_ptr<TaskBatcher> batcher_;
};

TEST_F(TaskBatcherTest, AnAcceptedCopyIsJournaledBeforeItReturnsAndSurvivesARestart) {
  TaskBatcher& b = NewBatcher(/*start=*/false);  // nothing is ever sent by this one
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  ASSERT_EQ(b.QueueDelete(kA, "/src/two", false), 0);
  auto pending = journal_->PendingTasks();
  ASSERT_EQ(pending.size(), 2u) << "each accepted item has a record before Queue* returns";
  EXPECT_EQ(pending[0].kind, "transfer");
  EXPECT_EQ(pending[1].kind, "delete");

  OpenJournal();  // the daemon died with both still in their batch window
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kTransfer), 0u);
  NewBatcher(/*start=*/true);
  EXPECT_EQ(batcher_->WaitAll(), 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_FALSE(fake_.Exists(kA, "/src/two"));
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kTransfer), 1u);
  EXPECT_TRUE(journal_->PendingTasks().empty()) << "the finished tasks leave nothing behind";
}

TEST_F(TaskBatcherTest, OneBatchRecordReplacesItsItemsRecords) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  ASSERT_EQ(b.QueueCopy(kA, "/src/two", kB, "/two", false), 0);
  EXPECT_EQ(journal_->PendingTasks().size(), 2u);
  fake_.set_run_tasks_immediately(false);  // the task stays ACTIVE: its record stays
  std::thread waiter([&] { EXPECT_EQ(b.WaitAll(), 0); });
  for (int i = 0; i < 2000 && fake_.tasks_submitted(FakeTransfer::kTransfer) == 0; ++i) ::usleep(1000);
  auto pending = journal_->PendingTasks();
  ASSERT_EQ(pending.size(), 1u) << "one record for the sent batch, none left for its items";
  EXPECT_EQ(pending[0].items.size(), 2u);
  EXPECT_EQ(pending[0].submission_id.rfind("queued-", 0), std::string::npos);
  while (fake_.RunPendingTasks() > 0) ::usleep(1000);
  waiter.join();
  EXPECT_TRUE(journal_->PendingTasks().empty());
}

TEST_F(TaskBatcherTest, AFailedCopyKeepsItsSource) {
  // mv across collections: a copy, then a delete of the source.
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.FailNextTask(FakeTransfer::kTransfer, "PERMISSION_DENIED");
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  ASSERT_EQ(b.QueueDelete(kA, "/src/one", false), 0);
  EXPECT_EQ(b.WaitAll(), EIO);
  EXPECT_TRUE(fake_.Exists(kA, "/src/one")) << "the delete did not run after its copy failed";
  EXPECT_FALSE(fake_.Exists(kB, "/one"));
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kDelete), 0u);
  EXPECT_TRUE(journal_->PendingTasks().empty()) << "nor will it run after a restart";
  EXPECT_EQ(b.WaitAll(), 0) << "reported once";
}

TEST_F(TaskBatcherTest, WaitAllWithADeadlineReturnsAtItAndTheWorkGoesOn) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.set_run_tasks_immediately(false);  // the task stays ACTIVE
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(b.WaitAll(In(100ms)), ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 100ms);
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kTransfer), 1u) << "flushed at once, then followed";
  EXPECT_EQ(journal_->PendingTasks().size(), 1u);
  fake_.RunPendingTasks();
  EXPECT_EQ(b.WaitAll(), 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_TRUE(journal_->PendingTasks().empty());
}

TEST_F(TaskBatcherTest, WhatADrainLeavesTheNextMountResumesWithTheSameSubmissionId) {
  // mv across collections: a copy (accepted by Globus, not finished) and
  // the delete of its source (held back behind it, so never sent).
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.set_run_tasks_immediately(false);
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  ASSERT_EQ(b.QueueDelete(kA, "/src/one", false), 0);
  DrainReport r = b.Drain(In(200ms));
  EXPECT_TRUE(r.left());
  EXPECT_EQ(r.queued, 1u);
  EXPECT_EQ(r.unfinished, 1u);
  EXPECT_EQ(r.tasks, 1u);
  EXPECT_EQ(r.copies, 1u);
  EXPECT_EQ(r.deletes, 1u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.Describe(),
            "1 copy and 1 delete in the journal for the next mount (1 not yet sent, 1 in 1 "
            "unfinished Globus task): copy /src/one -> /one, delete /src/one");
  EXPECT_EQ(journal_->PendingTasks().size(), 2u);

  OpenJournal();  // unmounted; the next mount
  fake_.ResetCalls();
  NewBatcher(/*start=*/true);
  std::atomic<int> rc{-1};
  std::thread waiter([&] { rc = batcher_->WaitAll(); });
  EXPECT_TRUE(WaitFor([&] {
    fake_.RunPendingTasks();
    return rc != -1;
  }));
  waiter.join();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_FALSE(fake_.Exists(kA, "/src/one"));
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kTransfer), 1u)
      << "sent again with its submission id: Globus answered Duplicate";
  EXPECT_EQ(fake_.calls(FakeTransfer::kOpSubmissionId), 1u) << "only the delete needed an id";
  EXPECT_TRUE(journal_->PendingTasks().empty());
}

TEST_F(TaskBatcherTest, ADrainReportsFailuresNobodyWasToldOf) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  DrainReport none = b.Drain(In(0ms));
  EXPECT_FALSE(none.left());
  EXPECT_EQ(none.failed, 0u);
  fake_.FailNextTask(FakeTransfer::kTransfer, "PERMISSION_DENIED");
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  DrainReport r = b.Drain(In(2000ms));
  EXPECT_FALSE(r.left());
  EXPECT_EQ(r.failed, 1u) << "the daemon exits 1 for it";
}

}  // namespace
}  // namespace globusfs::fs
