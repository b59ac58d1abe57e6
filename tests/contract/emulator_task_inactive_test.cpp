// Contract tests of globus-emulator's INACTIVE tasks (globus-api.md §2.9):
// a task fault with "inactive_ms" suspends the next task of its type when
// the worker starts it. While suspended, the task document says INACTIVE
// with the fault's nice_status, is_ok false and no completion time, the
// event list has a matching error event, the task is still in progress (it
// can be updated and cancelled, it expires at its deadline, its successful
// transfers are not yet available), and a restarted emulator keeps it
// suspended; once the time is up it runs on and finishes. Also: what the
// fault accepts. Each test starts its own emulator (alpha, beta) and logs in.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>

#include "auth/http/http_client.h"
#include "tests/support/emulator_process.h"

namespace globusfs {
namespace {

using json = nlohmann::json;
using testing::EmulatorProcess;
using SteadyClock = std::chrono::steady_clock;

constexpr auto kTaskTimeout = std::chrono::seconds(20);
constexpr const char* kTransferRs = "transfer.api.globus.org";

class EmulatorTaskInactive : public ::testing::Test {
 protected:
  void SetUp() override {
    emu_ = EmulatorProcess::Start();
    tt_ = testing::Login(*emu_, testing::FullScopes(*emu_, {"alpha", "beta"}))
              .access_tokens.at(kTransferRs);
  }

  std::string Url(const std::string& path) { return emu_->base_url() + path; }
  http::HeaderList Bearer() { return {{"Authorization", "Bearer " + tt_}}; }
  http::Result<json> Get(const std::string& path) {
    return emu_->http().GetJson(Url(path), nullptr, Bearer());
  }
  // One request, no retries. An error answer (4xx, 5xx) is an error whose
  // http_status is the answer's: see Status().
  http::Result<http::HttpResponse> Call(const std::string& method, const std::string& path,
                                        const json& body = nullptr, bool token = true) {
    http::HttpRequest req;
    req.method = method;
    req.url = Url(path);
    req.retry = false;
    if (token) req.headers = Bearer();
    req.headers.emplace_back("Accept", "application/json");
    if (!body.is_null()) {
      req.body = body.dump();
      req.headers.emplace_back("Content-Type", "application/json");
    }
    return emu_->http().Send(req);
  }

  static long Status(const http::Result<http::HttpResponse>& r) {
    return r.ok() ? r->status : r.error().http_status;
  }

  // Submits a transfer of alpha:/f to beta:/f, or a delete of alpha:/f.
  std::string Submit(bool is_delete) {
    auto sid = Get("/v0.10/submission_id");
    if (!sid) {
      ADD_FAILURE() << sid.error().Summary();
      return "";
    }
    json doc = {{"DATA_TYPE", is_delete ? "delete" : "transfer"},
                {"submission_id", (*sid)["value"]},
                {"notify_on_succeeded", false},
                {"notify_on_failed", false},
                {"notify_on_inactive", false}};
    if (is_delete) {
      doc["endpoint"] = emu_->collection_id("alpha");
      doc["DATA"] = json::array({{{"DATA_TYPE", "delete_item"}, {"path", "/f"}}});
    } else {
      doc["source_endpoint"] = emu_->collection_id("alpha");
      doc["destination_endpoint"] = emu_->collection_id("beta");
      doc["DATA"] = json::array(
          {{{"DATA_TYPE", "transfer_item"}, {"source_path", "/f"}, {"destination_path", "/f"}}});
    }
    auto r = Call("POST", is_delete ? "/v0.10/delete" : "/v0.10/transfer", doc);
    if (!r || r->status != 202) {
      ADD_FAILURE() << "submit: " << (r ? r->body : r.error().Summary());
      return "";
    }
    return json::parse(r->body).value("task_id", "");
  }

  // Polls the task (bounded) until `done(doc)`; fails with the last document.
  json WaitUntil(const std::string& id, const std::function<bool(const json&)>& done,
                 const std::string& what) {
    const auto give_up = SteadyClock::now() + kTaskTimeout;
    json doc;
    while (true) {
      auto r = Get("/v0.10/task/" + id);
      if (!r) {
        ADD_FAILURE() << r.error().Summary();
        return doc;
      }
      doc = *r;
      if (done(doc)) return doc;
      if (SteadyClock::now() > give_up) {
        ADD_FAILURE() << "task " << id << " never reached '" << what << "': " << doc.dump();
        return doc;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  static bool Inactive(const json& d) { return d["status"] == "INACTIVE"; }
  static bool Final(const json& d) { return d["status"] == "SUCCEEDED" || d["status"] == "FAILED"; }

  std::unique_ptr<EmulatorProcess> emu_;
  std::string tt_;
};

TEST_F(EmulatorTaskInactive, ATransferIsSuspendedWithItsReasonThenRunsOnAndSucceeds) {
  std::ofstream(emu_->root("alpha") / "f") << "payload";
  emu_->AddFault({{"route", "task.transfer"}, {"inactive_ms", 1500}, {"count", 1}});
  const auto submitted = SteadyClock::now();
  std::string id = Submit(false);
  json d = WaitUntil(id, Inactive, "INACTIVE");
  EXPECT_EQ(d["nice_status"], "NO_CREDENTIALS");  // the default
  EXPECT_EQ(d["nice_status_short_description"], "no credentials");
  EXPECT_TRUE(d["nice_status_details"].is_string());
  EXPECT_EQ(d["is_ok"], false);
  EXPECT_TRUE(d["completion_time"].is_null());
  EXPECT_TRUE(d["fatal_error"].is_null());
  EXPECT_FALSE(std::filesystem::exists(emu_->root("beta") / "f")) << "suspended: nothing copied";

  // The newest event says why.
  auto events = Get("/v0.10/task/" + id + "/event_list");
  ASSERT_TRUE(events.ok()) << events.error().Summary();
  ASSERT_FALSE((*events)["DATA"].empty());
  const json& newest = (*events)["DATA"][0];
  EXPECT_EQ(newest["code"], "NO_CREDENTIALS");
  EXPECT_EQ(newest["description"], "no credentials");
  EXPECT_EQ(newest["is_error"], true);
  // The task list filters on it like any status.
  auto listed = Get("/v0.10/task_list?filter=status:INACTIVE");
  ASSERT_TRUE(listed.ok()) << listed.error().Summary();
  ASSERT_EQ((*listed)["DATA"].size(), 1u);
  EXPECT_EQ((*listed)["DATA"][0]["task_id"], id);
  // Still in progress: successful transfers are not available yet.
  auto partial = Call("GET", "/v0.10/task/" + id + "/successful_transfers");
  EXPECT_EQ(Status(partial), 400);

  d = WaitUntil(id, Final, "a final status");
  EXPECT_EQ(d["status"], "SUCCEEDED") << d.dump();
  EXPECT_GE(SteadyClock::now() - submitted, std::chrono::milliseconds(1500));
  EXPECT_TRUE(d["nice_status"].is_null());
  EXPECT_TRUE(d["is_ok"].is_null());
  std::ifstream copied(emu_->root("beta") / "f");
  std::string text((std::istreambuf_iterator<char>(copied)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "payload");
}

TEST_F(EmulatorTaskInactive, ASuspendedDeleteCanBeUpdatedAndCancelledAndDeletesNothing) {
  std::ofstream(emu_->root("alpha") / "f") << "keep me";
  emu_->AddFault({{"route", "task.delete"},
                  {"inactive_ms", 60000},
                  {"nice_status", "GC_PAUSED"},
                  {"count", 1}});
  std::string id = Submit(true);
  json d = WaitUntil(id, Inactive, "INACTIVE");
  EXPECT_EQ(d["nice_status"], "GC_PAUSED");
  EXPECT_EQ(d["nice_status_short_description"], "gc paused");
  auto events = Get("/v0.10/task/" + id + "/event_list?filter=is_error:1");
  ASSERT_TRUE(events.ok());
  ASSERT_FALSE((*events)["DATA"].empty());
  EXPECT_EQ((*events)["DATA"][0]["code"], "GC_PAUSED");

  auto updated = Call("PUT", "/v0.10/task/" + id, {{"DATA_TYPE", "task"}, {"label", "renamed"}});
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->status, 200) << updated->body;
  auto cancel = Call("POST", "/v0.10/task/" + id + "/cancel", json::object());
  ASSERT_TRUE(cancel.ok());
  EXPECT_EQ(json::parse(cancel->body)["code"], "Canceled") << cancel->body;
  d = WaitUntil(id, Final, "a final status");
  EXPECT_EQ(d["status"], "FAILED");
  EXPECT_EQ(d["fatal_error"]["code"], "CANCELED");
  EXPECT_EQ(d["label"], "renamed");
  EXPECT_TRUE(std::filesystem::exists(emu_->root("alpha") / "f"));
}

TEST_F(EmulatorTaskInactive, ASuspendedTaskExpiresAtItsDeadline) {
  std::ofstream(emu_->root("alpha") / "f") << "x";
  emu_->AddFault({{"route", "task.transfer"}, {"inactive_ms", 60000}, {"count", 1}});
  std::string id = Submit(false);
  WaitUntil(id, Inactive, "INACTIVE");
  const std::time_t soon = std::time(nullptr) + 1;
  char deadline[40];
  std::tm tm{};
  gmtime_r(&soon, &tm);
  std::strftime(deadline, sizeof deadline, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  auto updated = Call("PUT", "/v0.10/task/" + id, {{"deadline", deadline}});
  ASSERT_TRUE(updated.ok());
  ASSERT_EQ(updated->status, 200) << updated->body;
  json d = WaitUntil(id, Final, "a final status");
  EXPECT_EQ(d["status"], "FAILED");
  EXPECT_EQ(d["fatal_error"]["code"], "EXPIRED");
  EXPECT_FALSE(std::filesystem::exists(emu_->root("beta") / "f"));
}

TEST_F(EmulatorTaskInactive, ARestartedEmulatorKeepsTheTaskSuspendedThenRunsIt) {
  std::ofstream(emu_->root("alpha") / "f") << "across a restart";
  emu_->AddFault({{"route", "task.transfer"}, {"inactive_ms", 5000}, {"count", 1}});
  std::string id = Submit(false);
  WaitUntil(id, Inactive, "INACTIVE");
  emu_->Restart();
  json d = WaitUntil(
      id, [](const json&) { return true; }, "any");
  EXPECT_EQ(d["status"], "INACTIVE") << d.dump();
  d = WaitUntil(id, Final, "a final status");
  EXPECT_EQ(d["status"], "SUCCEEDED") << d.dump();
  EXPECT_TRUE(std::filesystem::exists(emu_->root("beta") / "f"));
}

TEST_F(EmulatorTaskInactive, TheFaultIsCheckedAndListed) {
  const auto add = [&](const json& fault) {
    return Status(Call("POST", "/_emulator/faults", fault, /*token=*/false));
  };
  EXPECT_EQ(add({{"route", "transfer.task"}, {"inactive_ms", 100}}), 400) << "not a task route";
  EXPECT_EQ(add({{"route", "task.transfer"}, {"inactive_ms", -1}}), 400);
  EXPECT_EQ(add({{"route", "task.delete"}, {"nice_status", "GC_PAUSED"}}), 400)
      << "nice_status without inactive_ms";
  EXPECT_EQ(add({{"route", "task.delete"}, {"inactive_ms", 100}, {"count", 2}}), 200);
  auto listed = Call("GET", "/_emulator/faults", nullptr, /*token=*/false);
  ASSERT_TRUE(listed.ok());
  json faults = json::parse(listed->body)["faults"];
  ASSERT_EQ(faults.size(), 1u);
  EXPECT_EQ(faults[0]["route"], "task.delete");
  EXPECT_EQ(faults[0]["inactive_ms"], 100);
}

}  // namespace
}  // namespace globusfs
