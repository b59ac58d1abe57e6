// The TransferApi contract for INACTIVE tasks (globus-api.md §2.9), run
// against FakeTransfer and against TransferClient + globus-emulator like
// the rest of the contract (transfer_api_contract_test.cpp): a task
// suspended when it first runs reads INACTIVE with its nice_status and a
// matching error event, is in progress (not done) and can be cancelled;
// once the suspension is over it runs on and succeeds, and DeleteAndWait
// waits through it instead of returning INACTIVE as an outcome (and, in
// TransferClient, no longer than its task_wait_timeout).
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "tests/fs/transfer_api_backends.h"

namespace globusfs::fs::contract {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

class TransferApiInactive : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "fake") {
      backend_ = MakeFakeBackend();
    } else {
      auto emulator = std::make_unique<EmulatorBackend>();
      emulator_ = emulator.get();
      backend_ = std::move(emulator);
    }
    a_ = backend_->CollectionId("alpha");
    b_ = backend_->CollectionId("beta");
  }
  void TearDown() override {
    if (emulator_ != nullptr) emulator_->emu().ClearFaults();  // the emulator is shared
  }
  static void TearDownTestSuite() { StopSharedEmulator(); }

  TransferApi& api() { return backend_->Api(); }

  std::string SubmitCopy(const std::string& path) {
    auto sid = api().NewSubmissionId();
    EXPECT_TRUE(sid.ok());
    TransferRequest r;
    r.submission_id = sid.ok() ? *sid : "";
    r.source_collection = a_;
    r.destination_collection = b_;
    r.items = {{path, path, false}};
    auto id = api().SubmitTransfer(r);
    EXPECT_TRUE(id.ok()) << id.error().Summary();
    return id.ok() ? *id : "";
  }
  // Polls GetTask (letting tasks run) until `want` or 20 s; the last answer.
  http::Result<TaskStatus> PollUntil(const std::string& task_id,
                                     const std::function<bool(const TaskStatus&)>& want) {
    const auto give_up = SteadyClock::now() + std::chrono::seconds(20);
    while (true) {
      backend_->LetTasksRun();
      auto st = api().GetTask(task_id);
      if (!st.ok() || want(*st) || SteadyClock::now() > give_up) return st;
    }
  }

  std::unique_ptr<Backend> backend_;
  EmulatorBackend* emulator_ = nullptr;
  std::string a_, b_;
};

TEST_P(TransferApiInactive, ASuspendedTransferIsInProgressWithItsReasonThenSucceeds) {
  backend_->MakeFile("alpha", "/f", "data");
  backend_->HoldNextTaskInactive("transfer", "NO_CREDENTIALS", milliseconds(1500));
  const std::string id = SubmitCopy("/f");
  auto st = PollUntil(id, [](const TaskStatus& s) { return s.inactive() || s.done(); });
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "INACTIVE");
  EXPECT_TRUE(st->inactive());
  EXPECT_FALSE(st->done()) << "INACTIVE is not final";
  EXPECT_EQ(st->nice_status, "NO_CREDENTIALS");
  EXPECT_EQ(st->nice_status_short_description, "no credentials");
  EXPECT_EQ(st->fatal_code, "");
  EXPECT_FALSE(backend_->Exists("beta", "/f")) << "suspended: nothing copied yet";
  auto events = api().GetTaskEvents(id, 10);
  ASSERT_TRUE(events.ok()) << events.error().Summary();
  ASSERT_FALSE(events->empty());
  EXPECT_EQ(events->front().code, "NO_CREDENTIALS");  // newest first
  EXPECT_EQ(events->front().description, "no credentials");
  EXPECT_TRUE(events->front().is_error);

  st = PollUntil(id, [](const TaskStatus& s) { return s.done(); });
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "SUCCEEDED");
  EXPECT_EQ(st->nice_status, "") << "null once the task has ended";
  EXPECT_TRUE(backend_->Exists("beta", "/f"));
}

TEST_P(TransferApiInactive, DeleteAndWaitWaitsThroughASuspension) {
  backend_->MakeFile("alpha", "/gone", "x");
  backend_->HoldNextTaskInactive("delete", "NO_CREDENTIALS", milliseconds(1000));
  const auto start = SteadyClock::now();
  auto out = api().DeleteAndWait(DeleteRequest{a_, {"/gone"}, false, true, ""});
  ASSERT_TRUE(out.ok()) << out.error().Summary();
  EXPECT_EQ(out->status, "SUCCEEDED") << "never INACTIVE as an outcome";
  EXPECT_GE(SteadyClock::now() - start, milliseconds(1000));
  EXPECT_FALSE(backend_->Exists("alpha", "/gone"));
}

TEST_P(TransferApiInactive, ASuspendedTaskCanBeCancelled) {
  backend_->MakeFile("alpha", "/f", "data");
  backend_->HoldNextTaskInactive("transfer", "GC_PAUSED", milliseconds(60000));
  const std::string id = SubmitCopy("/f");
  auto st = PollUntil(id, [](const TaskStatus& s) { return s.inactive() || s.done(); });
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  ASSERT_EQ(st->status, "INACTIVE");
  EXPECT_EQ(st->nice_status, "GC_PAUSED");
  ASSERT_TRUE(api().CancelTask(id).ok());
  st = PollUntil(id, [](const TaskStatus& s) { return s.done(); });
  ASSERT_TRUE(st.ok()) << st.error().Summary();
  EXPECT_EQ(st->status, "FAILED");
  EXPECT_EQ(st->fatal_code, "CANCELED");
  EXPECT_FALSE(backend_->Exists("beta", "/f"));
}

INSTANTIATE_TEST_SUITE_P(Backends, TransferApiInactive, ::testing::Values("fake", "emulator"),
                         [](const auto& info) { return info.param; });

// TransferClient only: its wait is bounded by task_wait_timeout, INACTIVE
// or not, and the timeout names what the task was doing.
TEST(TransferApiClientInactive, DeleteAndWaitOnASuspendedTaskEndsAtItsTimeoutNamingWhy) {
  EmulatorBackend backend;
  backend.MakeFile("alpha", "/held-delete", "x");
  backend.HoldNextTaskInactive("delete", "NO_CREDENTIALS", milliseconds(60000));
  TransferClientOptions o = FastPolling();
  o.task_wait_timeout = milliseconds(1500);
  TransferClient client(backend.http(), backend.authorizer(), backend.emu().base_url() + "/",
                        std::make_shared<http::RealClock>(), o);
  auto out = client.DeleteAndWait(DeleteRequest{backend.CollectionId("alpha"), {"/held-delete"}});
  ASSERT_FALSE(out.ok()) << "never INACTIVE as an outcome";
  EXPECT_EQ(out.error().kind, http::ErrorKind::kTimeout);
  EXPECT_NE(out.error().message.find("still INACTIVE (NO_CREDENTIALS)"), std::string::npos)
      << out.error().Summary();
  EXPECT_TRUE(backend.Exists("alpha", "/held-delete"));
  backend.emu().ClearFaults();
  StopSharedEmulator();
}

}  // namespace
}  // namespace globusfs::fs::contract
