// The TaskBatcher tests' fixture (task_batcher_test.cpp,
// task_batcher_inactive_test.cpp): FakeTransfer with collections kA (files
// /src/one and /src/two) and kB, tasks run as soon as they are submitted, a
// real (temporary) LMDB journal and metadata store, and a batcher whose
// window never closes by itself (only a flush sends). Its log goes to a
// file the test can read; a failing test prints it.
//
// Not thread-safe: one test thread sets it up.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "auth/token_source.h"
#include "tests/fakes/fake_transfer.h"
#include "fs/task_batcher.h"

namespace globusfs::fs::batcher_testing {

inline constexpr const char* kA = "aaaaaaaa-0000-4000-8000-000000000001";
inline constexpr const char* kB = "bbbbbbbb-0000-4000-8000-000000000002";

using namespace std::chrono_literals;
using SteadyTime = std::chrono::steady_clock::time_point;

// Real time without jitter: each retry waits its whole backoff step.
class SteadyNoJitterClock final : public http::Clock {
 public:
  SteadyTime Now() override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point SystemNow() override {
    return std::chrono::system_clock::now();
  }
  void SleepFor(std::chrono::nanoseconds d) override { std::this_thread::sleep_for(d); }
  double Random() override { return 0; }
};

// Polls `done` every millisecond for up to `limit`; its last answer.
inline bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds limit = 3s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > end) return false;
    ::usleep(1000);
  }
  return true;
}

inline http::Error Unavailable() {
  return http::ParseErrorDocument(
      503, R"({"code": "ServiceUnavailable", "message": "maintenance", "request_id": "r503"})");
}
inline http::Error MissingLogin() { return auth::MissingLoginError("transfer.api.globus.org"); }

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
    ASSERT_TRUE(log_.OpenFile((dir_ / "batcher.log").string()));
    std::string why;
    store_ = cache::MetadataStore::Open(cache::MetadataStoreOptions{dir_ / "meta"}, &why);
    ASSERT_TRUE(store_) << why;
    ns_ = std::make_unique<Namespace>(fake_, *store_, clock_);
    OpenJournal();
  }
  void TearDown() override {
    batcher_.reset();
    if (HasFailure()) {  // what the batcher said, to see why
      std::ifstream in(dir_ / "batcher.log");
      std::cerr << "--- batcher log ---\n" << in.rdbuf();
    }
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
  // Retries wait 50 ms, then 100 ms, then 200 ms each (on `clock`; by
  // default real time without jitter).
  TaskBatcher& NewBatcher(bool start, std::shared_ptr<http::Clock> clock = nullptr) {
    BatcherOptions o;
    o.window = std::chrono::hours(1);
    o.poll_initial = std::chrono::milliseconds(1);
    o.poll_max = std::chrono::milliseconds(5);
    o.retry_initial = std::chrono::milliseconds(50);
    o.retry_max = std::chrono::milliseconds(200);
    o.held_wait = held_wait_;
    batcher_ = std::make_unique<TaskBatcher>(fake_, *journal_, *ns_, log_,
                                             clock ? clock : batcher_clock_, o);
    if (start) batcher_->Start();
    return *batcher_;
  }
  SteadyTime In(std::chrono::milliseconds d) { return batcher_clock_->Now() + d; }

  // The log's lines that contain `text`.
  std::vector<std::string> LogLines(const std::string& text) {
    std::ifstream in(dir_ / "batcher.log");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      if (line.find(text) != std::string::npos) out.push_back(line);
    }
    return out;
  }
  // The journal's records of sent tasks (not of queued items).
  std::vector<cache::PendingTask> SentRecords() {
    std::vector<cache::PendingTask> out;
    for (auto& rec : journal_->PendingTasks()) {
      if (rec.submission_id.rfind("queued-", 0) != 0) out.push_back(rec);
    }
    return out;
  }

  std::filesystem::path dir_;
  std::shared_ptr<http::Clock> clock_ = std::make_shared<http::RealClock>();  // the namespace's
  std::shared_ptr<http::Clock> batcher_clock_ = std::make_shared<SteadyNoJitterClock>();
  FakeTransfer fake_;
  Logger log_{nullptr, LogLevel::kInfo};
  std::unique_ptr<cache::MetadataStore> store_;
  std::unique_ptr<Namespace> ns_;
  std::unique_ptr<cache::Journal> journal_;
  std::unique_ptr<TaskBatcher> batcher_;
  std::chrono::milliseconds held_wait_{std::chrono::seconds(60)};  // NewBatcher's BatcherOptions
};

}  // namespace globusfs::fs::batcher_testing
