// TaskBatcher (fs/task_batcher.h) on FakeTransfer and a real (temporary)
// LMDB journal: what is accepted is journaled before it is acknowledged,
// survives a restart, and a failed copy keeps its source. What cannot be
// sent (Globus unreachable, no login) is kept and retried with backoff,
// never in a loop; an unmount drains for a bounded time and the next mount
// resumes the rest with the same submission ids.
#include "fs/task_batcher.h"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include <gtest/gtest.h>

#include "tests/fakes/fake_transfer.h"
#include "fs/retry_backoff.h"
#include "tests/fs/task_batcher_fixture.h"

namespace globusfs::fs {
namespace {

using namespace batcher_testing;
using namespace std::chrono_literals;

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
  std::atomic<int> rc{-1};
  std::thread waiter([&] { rc = b.WaitAll(In(30s)); });  // bounded: a failure never hangs
  EXPECT_TRUE(WaitFor([&] { return fake_.tasks_submitted(FakeTransfer::kTransfer) > 0; }));
  auto pending = journal_->PendingTasks();
  ASSERT_EQ(pending.size(), 1u) << "one record for the sent batch, none left for its items";
  EXPECT_EQ(pending[0].items.size(), 2u);
  EXPECT_EQ(pending[0].submission_id.rfind("queued-", 0), std::string::npos);
  EXPECT_TRUE(WaitFor([&] {
    fake_.RunPendingTasks();
    return rc != -1;
  }));
  waiter.join();
  EXPECT_EQ(rc, 0);
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
  std::thread waiter([&] { rc = batcher_->WaitAll(In(30s)); });  // bounded: a failure never hangs
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

TEST_F(TaskBatcherTest, AStopWithADeadlineDoesNotWaitForARequestInFlight) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.SetLatency(1s);  // every Transfer call takes a second
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  EXPECT_EQ(b.WaitAll(In(100ms)), ETIMEDOUT);  // the worker is inside NewSubmissionId
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(b.Stop(In(100ms))) << "still in the call";
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 800ms);
  EXPECT_TRUE(b.Stop()) << "without a deadline it waits for the call; nothing more is sent";
  EXPECT_EQ(fake_.calls(FakeTransfer::kOpSubmitTransfer), 0u);
  ASSERT_EQ(journal_->PendingTasks().size(), 1u) << "the batch, with its submission id";

  fake_.SetLatency(0s);
  OpenJournal();  // the next mount sends it
  EXPECT_EQ(NewBatcher(/*start=*/true).WaitAll(), 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_EQ(fake_.calls(FakeTransfer::kOpSubmissionId), 1u) << "the same submission id";
}

TEST(RetryBackoff, DoublesToItsCapWithJitterAndSaysWhenToLog) {
  const SteadyTime t0{std::chrono::hours(1)};
  RetryBackoff r(1s, 5s);
  EXPECT_TRUE(r.Ready(t0)) << "nothing failed yet";
  EXPECT_TRUE(r.Failed(t0, 0.0, "down")) << "the first failure is news";
  EXPECT_EQ(r.wait(), 1s);
  EXPECT_FALSE(r.Ready(t0 + 999ms));
  EXPECT_TRUE(r.Ready(t0 + 1s));
  EXPECT_TRUE(r.Failed(t0, 0.0, "down")) << "the step grew to 2 s";
  EXPECT_EQ(r.wait(), 2s);
  EXPECT_TRUE(r.Failed(t0, 0.0, "down"));
  EXPECT_EQ(r.wait(), 4s);
  EXPECT_TRUE(r.Failed(t0, 0.0, "down")) << "4 s -> 5 s (the cap) still grew";
  EXPECT_EQ(r.wait(), 5s);
  EXPECT_FALSE(r.Failed(t0, 0.0, "down")) << "at the cap: not news";
  EXPECT_TRUE(r.Failed(t0, 0.0, "log in")) << "a new cause is news";
  EXPECT_FALSE(r.Failed(t0, 0.999, "log in"));
  EXPECT_GT(r.wait(), 2500ms) << "jitter takes at most half the step off";
  EXPECT_LT(r.wait(), 2600ms);
  EXPECT_EQ(r.failures(), 7);
  EXPECT_EQ(r.Succeeded(), 7);
  EXPECT_EQ(r.Succeeded(), 0);
  EXPECT_TRUE(r.Ready(t0));
  EXPECT_TRUE(r.Failed(t0, 0.0, "log in")) << "after a success it starts over";
  EXPECT_EQ(r.wait(), 1s);
}

TEST_F(TaskBatcherTest, WithoutALoginTheSubmissionIdIsRetriedWithBackoffNotInALoop) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.FailAlways(FakeTransfer::kOpSubmissionId, MissingLogin());
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);

  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(b.WaitAll(In(1000ms)), ETIMEDOUT);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 1000ms) << "returns at its deadline";
  EXPECT_LT(took, 2000ms);
  // Tries at 0, 50, 150, 350, 550, 750, 950 ms: a handful, not thousands.
  EXPECT_GE(fake_.calls(FakeTransfer::kOpSubmissionId), 3u);
  EXPECT_LE(fake_.calls(FakeTransfer::kOpSubmissionId), 12u);
  // One line per backoff step (50, 100, 200 ms), each with the fix.
  auto lines = LogLines("cannot get a submission id");
  EXPECT_GE(lines.size(), 1u);
  EXPECT_LE(lines.size(), 4u);
  for (const auto& l : lines) {
    EXPECT_NE(l.find("run `globusfs-auth login`"), std::string::npos) << l;
  }
  EXPECT_EQ(journal_->PendingTasks().size(), 1u) << "the copy is still journaled";
  EXPECT_TRUE(b.IsPending(kB, "/one"));

  fake_.ClearFailures();  // globusfs-auth login wrote the tokens
  EXPECT_EQ(b.WaitAll(), 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_TRUE(journal_->PendingTasks().empty());
  EXPECT_EQ(LogLines("recovered").size(), 1u);
}

TEST_F(TaskBatcherTest, ABatchWaitingForItsRetryIsNotReadyEvenWhenFlushed) {
  auto clock = std::make_shared<http::FakeClock>();
  clock->SetDefaultRandom(0);  // no jitter: waits of exactly 50, 100, 200, 200 ms
  TaskBatcher& b = NewBatcher(/*start=*/true, clock);
  fake_.FailAlways(FakeTransfer::kOpSubmissionId,
                   http::MakeError(http::ErrorKind::kNetwork, "no route"));
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  std::atomic<int> rc{-1};
  std::thread waiter([&] { rc = b.WaitAll(clock->Now() + std::chrono::hours(1)); });
  auto calls = [&] { return fake_.calls(FakeTransfer::kOpSubmissionId); };

  ASSERT_TRUE(WaitFor([&] { return calls() == 1; }));
  ::usleep(200'000);  // the old loop made thousands of calls in this time
  EXPECT_EQ(calls(), 1u) << "time stands still: nothing is due, flushed or not";
  clock->Advance(49ms);
  ::usleep(150'000);
  EXPECT_EQ(calls(), 1u);
  clock->Advance(1ms);
  EXPECT_TRUE(WaitFor([&] { return calls() == 2; }));
  clock->Advance(100ms);
  EXPECT_TRUE(WaitFor([&] { return calls() == 3; }));
  clock->Advance(200ms);
  EXPECT_TRUE(WaitFor([&] { return calls() == 4; }));
  clock->Advance(200ms);
  EXPECT_TRUE(WaitFor([&] { return calls() == 5; }));
  auto lines = LogLines("cannot get a submission id");
  EXPECT_EQ(lines.size(), 3u) << "one line per step (50, 100, 200 ms), none once it stops growing";
  for (const auto& l : lines) EXPECT_NE(l.find("Globus is unreachable"), std::string::npos) << l;

  fake_.ClearFailures();
  clock->Advance(200ms);
  EXPECT_TRUE(WaitFor([&] {
    clock->Advance(10ms);  // the task's polls are on this clock too
    return rc != -1;
  }));
  waiter.join();
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(calls(), 6u);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_EQ(LogLines("recovered").size(), 1u);
}

struct SubmitFault {
  const char* name;
  std::function<http::Error()> error;
  const char* log_says;
};

class TaskBatcherSubmitFaultTest : public TaskBatcherTest,
                                   public ::testing::WithParamInterface<SubmitFault> {};

TEST_P(TaskBatcherSubmitFaultTest, TheWorkIsKeptAndGoesWhenTheFaultClears) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.FailAlways(FakeTransfer::kOpSubmitTransfer, GetParam().error());
  fake_.FailAlways(FakeTransfer::kOpSubmitDelete, GetParam().error());
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  ASSERT_EQ(b.QueueDelete(kA, "/src/two", false), 0);

  EXPECT_EQ(b.WaitAll(In(400ms)), ETIMEDOUT) << "not failed: waiting";
  EXPECT_LE(fake_.calls(FakeTransfer::kOpSubmitTransfer), 8u) << "tries at 0, 50, 150, 350 ms";
  EXPECT_LE(fake_.calls(FakeTransfer::kOpSubmitDelete), 8u);
  auto sent = SentRecords();
  ASSERT_EQ(sent.size(), 2u) << "both tasks stay journaled, with their submission ids";
  EXPECT_EQ(journal_->PendingTasks().size(), 2u);
  EXPECT_FALSE(fake_.Exists(kB, "/one"));
  EXPECT_TRUE(fake_.Exists(kA, "/src/two"));
  auto active = b.Status()["active"];
  ASSERT_EQ(active.size(), 2u);
  EXPECT_EQ(active[0]["status"], "SUBMITTING");
  EXPECT_NE(active[0].value("detail", std::string()).find(GetParam().log_says), std::string::npos);
  auto lines = LogLines("cannot submit");
  EXPECT_GE(lines.size(), 2u);
  EXPECT_LE(lines.size(), 8u) << "one line per task and backoff step";
  for (const auto& l : lines) EXPECT_NE(l.find(GetParam().log_says), std::string::npos) << l;

  fake_.ClearFailures();
  EXPECT_EQ(b.WaitAll(), 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_FALSE(fake_.Exists(kA, "/src/two"));
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kTransfer), 1u);
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kDelete), 1u);
  EXPECT_TRUE(journal_->PendingTasks().empty());
  EXPECT_EQ(LogLines("recovered").size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    Faults, TaskBatcherSubmitFaultTest,
    ::testing::Values(
        SubmitFault{"ServiceUnavailable", Unavailable, "Globus is unreachable"},
        SubmitFault{"NetworkDown",
                    [] { return http::MakeError(http::ErrorKind::kNetwork, "refused"); },
                    "Globus is unreachable"},
        SubmitFault{"MissingLogin", MissingLogin, "run `globusfs-auth login`"},
        SubmitFault{"RefreshRefused",
                    [] { return http::ParseErrorDocument(400, R"({"error": "invalid_grant"})"); },
                    "run `globusfs-auth login`"},
        SubmitFault{
            "ConsentRequired",
            [] {
              return http::ParseErrorDocument(
                  403,
                  R"({"code": "ConsentRequired", "message": "Missing required data_access consent",
                                   "required_scopes": ["urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/bbbbbbbb-0000-4000-8000-000000000002/data_access]"]})");
            },
            "run `globusfs-auth session consent"},
        SubmitFault{
            "SessionRequired",
            [] {
              return http::ParseErrorDocument(
                  403,
                  R"({"code": "AuthPolicyFailed", "message": "Failing collection authentication policy",
                                   "authorization_parameters": {"session_required_policies": "p1,p2"}})");
            },
            "run `globusfs-auth session update --policy"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(TaskBatcherTest, ADefinitiveRefusalStillFailsTheTask) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  const http::Error refusals[] = {
      http::ParseErrorDocument(400, R"({"code": "ClientError.BadRequest", "message": "bad"})"),
      http::ParseErrorDocument(404,
                               R"({"code": "EndpointNotFound", "message": "no such collection"})"),
      http::ParseErrorDocument(403, R"({"code": "PermissionDenied", "message": "no"})"),
  };
  int n = 0;
  for (const auto& e : refusals) {
    std::string dst = "/refused" + std::to_string(++n);
    fake_.FailAlways(FakeTransfer::kOpSubmitTransfer, e);
    ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, dst, false), 0);
    EXPECT_EQ(b.WaitAll(), EIO) << e.Summary();
    EXPECT_FALSE(fake_.Exists(kB, dst));
    EXPECT_EQ(fake_.calls(FakeTransfer::kOpSubmitTransfer), static_cast<uint64_t>(n))
        << "not retried";
    EXPECT_TRUE(journal_->PendingTasks().empty()) << "nothing to resume";
    fake_.ClearFailures();
  }
  EXPECT_EQ(LogLines("copy failed").size(), 3u);
  EXPECT_TRUE(LogLines("will retry").empty());
}

TEST_F(TaskBatcherTest, PollingErrorsBackOffAndTheTaskIsKept) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.set_run_tasks_immediately(false);  // the task stays ACTIVE
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  EXPECT_EQ(b.WaitAll(In(50ms)), ETIMEDOUT);
  ASSERT_EQ(fake_.tasks_submitted(FakeTransfer::kTransfer), 1u);
  fake_.FailAlways(FakeTransfer::kOpGetTask, Unavailable());
  fake_.ResetCalls();
  EXPECT_EQ(b.WaitAll(In(500ms)), ETIMEDOUT);
  // Polled every 5 ms that would be ~100 calls; backing off: 0, 50, 150, 350 ms.
  EXPECT_LE(fake_.calls(FakeTransfer::kOpGetTask), 8u);
  EXPECT_LE(LogLines("cannot follow Globus task").size(), 3u);
  EXPECT_EQ(SentRecords().size(), 1u);

  fake_.ClearFailures();
  fake_.RunPendingTasks();
  EXPECT_EQ(b.WaitAll(), 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_EQ(LogLines("recovered").size(), 1u);
}

TEST_F(TaskBatcherTest, WorkHeldUpByGlobusOrALoginResumesAtTheNextMountWithItsSubmissionIds) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  fake_.set_run_tasks_immediately(false);
  // 1. Accepted by Globus, not finished.
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  EXPECT_EQ(b.WaitAll(In(100ms)), ETIMEDOUT);
  // 2. Has its submission id, but Globus is unreachable.
  fake_.FailAlways(FakeTransfer::kOpSubmitTransfer, Unavailable());
  ASSERT_EQ(b.QueueCopy(kA, "/src/two", kB, "/two", false), 0);
  EXPECT_EQ(b.WaitAll(In(100ms)), ETIMEDOUT);
  // 3. Queued: not even a submission id without a login.
  fake_.FailAlways(FakeTransfer::kOpSubmissionId, MissingLogin());
  fake_.AddFile(kA, "/src/three", 3);
  ASSERT_EQ(b.QueueDelete(kA, "/src/three", false), 0);

  auto t0 = std::chrono::steady_clock::now();
  DrainReport r = b.Drain(In(300ms));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1300ms) << "bounded";
  EXPECT_TRUE(r.left());
  EXPECT_EQ(r.queued, 1u);
  EXPECT_EQ(r.unfinished, 2u);
  EXPECT_EQ(r.tasks, 2u);
  EXPECT_EQ(r.copies, 2u);
  EXPECT_EQ(r.deletes, 1u);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.examples.size(), 3u);
  EXPECT_NE(r.waiting_on, "");
  std::string text = r.Describe();
  EXPECT_NE(text.find("2 copies and 1 delete in the journal for the next mount (1 not yet sent, 2 "
                      "in 2 unfinished "
                      "Globus tasks)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("copy /src/two -> /two"), std::string::npos) << text;
  EXPECT_NE(text.find("delete /src/three"), std::string::npos) << text;
  auto sent = SentRecords();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(journal_->PendingTasks().size(), 3u);

  // The next mount, with Globus back and a login.
  OpenJournal();
  fake_.ClearFailures();
  fake_.ResetCalls();
  NewBatcher(/*start=*/true);
  std::atomic<int> rc{-1};
  std::thread waiter([&] { rc = batcher_->WaitAll(In(30s)); });  // bounded: a failure never hangs
  EXPECT_TRUE(WaitFor([&] {
    fake_.RunPendingTasks();
    return rc != -1;
  }));
  waiter.join();
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(fake_.Exists(kB, "/one"));
  EXPECT_TRUE(fake_.Exists(kB, "/two"));
  EXPECT_FALSE(fake_.Exists(kA, "/src/three"));
  EXPECT_EQ(fake_.calls(FakeTransfer::kOpSubmissionId), 1u)
      << "only the queued delete needed an id";
  EXPECT_EQ(fake_.calls(FakeTransfer::kOpSubmitTransfer), 2u) << "both sent again, with their ids";
  EXPECT_EQ(fake_.tasks_submitted(FakeTransfer::kTransfer), 2u)
      << "the accepted one answered Duplicate";
  EXPECT_TRUE(journal_->PendingTasks().empty());
}

TEST_F(TaskBatcherTest, ADrainDescribesWhatIsLeftAndCountsFailuresNobodyWasToldOf) {
  TaskBatcher& b = NewBatcher(/*start=*/true);
  DrainReport none = b.Drain(In(0ms));
  EXPECT_FALSE(none.left());
  EXPECT_EQ(none.failed, 0u);
  EXPECT_EQ(none.Describe(), "nothing in the journal for the next mount");
  fake_.FailAlways(FakeTransfer::kOpSubmissionId, Unavailable());
  ASSERT_EQ(b.QueueDelete(kA, "/src/two", false), 0);
  EXPECT_EQ(b.Drain(In(0ms)).Describe(),
            "1 delete in the journal for the next mount (1 not yet sent): delete /src/two")
      << "a zero-second drain sends nothing; no parts that are zero";
  fake_.ClearFailures();
  EXPECT_EQ(b.WaitAll(), 0);
  fake_.FailNextTask(FakeTransfer::kTransfer, "PERMISSION_DENIED");
  ASSERT_EQ(b.QueueCopy(kA, "/src/one", kB, "/one", false), 0);
  DrainReport r = b.Drain(In(2000ms));
  EXPECT_FALSE(r.left());
  EXPECT_EQ(r.failed, 1u) << "the daemon exits 1 for it";
}

}  // namespace
}  // namespace globusfs::fs
