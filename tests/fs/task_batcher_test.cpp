// TaskBatcher (fs/task_batcher.h) on FakeTransfer and a real (temporary)
// LMDB journal: what is accepted is journaled before it is acknowledged,
// survives a restart, and a failed copy keeps its source.
#include "fs/task_batcher.h"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "fs/remote/fake_transfer.h"

namespace globusfs::fs {
namespace {

constexpr const char* kA = "aaaaaaaa-0000-4000-8000-000000000001";
constexpr const char* kB = "bbbbbbbb-0000-4000-8000-000000000002";

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

}  // namespace
}  // namespace globusfs::fs
