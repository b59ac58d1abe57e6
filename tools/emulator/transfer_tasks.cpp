#include "transfer_tasks.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "emulator.h"
#include "paths.h"
#include "transfer_listing.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;

namespace {

constexpr int64_t kSuccessfulPage = 1000;  // successful_transfers page size

Response BadRequest(const Request& req, const std::string& message) {
  return GlobusError(req, 400, "ClientError.BadRequest", message);
}

Response TaskNotFound(const Request& req, const std::string& id) {
  return GlobusError(req, 404, "ClientError.NotFound", "No task found with id '" + id + "'");
}

json Result(const Request& req, const std::string& code, const std::string& message) {
  return {{"DATA_TYPE", "result"},
          {"code", code},
          {"message", message},
          {"request_id", NewRequestId()},
          {"resource", req.raw_path}};
}

// Task-list filter clause match (status, type, task_id: comma lists; label:
// exact or ~glob alternatives; request_time, completion_time: "start,end").
bool TaskMatches(const json& doc, const std::vector<FilterClause>& clauses) {
  for (const auto& cl : clauses) {
    const json& v = doc.contains(cl.field) ? doc.at(cl.field) : json();
    bool hit = false;
    if (cl.field == "request_time" || cl.field == "completion_time") {
      auto comma = cl.value.find(',');
      std::string a = cl.value.substr(0, comma);
      std::string b = comma == std::string::npos ? a : cl.value.substr(comma + 1);
      int64_t t = v.is_string() ? ParseTime(v.get<std::string>()) : -1;
      hit = t >= 0 && (a.empty() || t >= ParseTime(a)) && (b.empty() || t <= ParseTime(b));
    } else {
      std::string text = v.is_string() ? v.get<std::string>() : "";
      size_t i = 0;
      while (!hit && i <= cl.value.size()) {
        size_t j = cl.value.find(',', i);
        if (j == std::string::npos) j = cl.value.size();
        std::string alt = cl.value.substr(i, j - i);
        hit = cl.field == "label" && !alt.empty() && alt[0] == '~'
                  ? FullGlobMatch(alt.substr(1), text)
                  : alt == text;
        i = j + 1;
      }
    }
    if (!hit) return false;
  }
  return true;
}

bool ValidTaskFilter(const std::vector<FilterClause>& clauses, std::string* error) {
  static const std::vector<std::string> kFields = {"status", "type", "task_id", "label",
                                                   "request_time", "completion_time"};
  for (const auto& cl : clauses) {
    if (std::find(kFields.begin(), kFields.end(), cl.field) == kFields.end()) {
      *error = "Invalid filter field '" + cl.field + "'";
      return false;
    }
    if (cl.field == "request_time" || cl.field == "completion_time") {
      for (const auto& side : {cl.value.substr(0, cl.value.find(',')),
                               cl.value.find(',') == std::string::npos
                                   ? std::string()
                                   : cl.value.substr(cl.value.find(',') + 1)}) {
        if (!side.empty() && ParseTime(side) < 0) {
          *error = "Invalid time in filter '" + cl.field + ":" + cl.value + "'";
          return false;
        }
      }
    }
  }
  return true;
}

}  // namespace

bool InProgress(const Task& t) {
  const std::string status = t.doc.value("status", "");
  return status == "ACTIVE" || status == "INACTIVE";
}

void SuspendTask(Task& t, const std::string& code, int64_t until_ms) {
  json& d = t.doc;
  d["status"] = "INACTIVE";
  d["is_ok"] = false;
  d["nice_status"] = code;
  d["nice_status_short_description"] = Describe(code);
  d["nice_status_details"] =
      "injected by globus-emulator: the task is suspended until " + IsoTime(until_ms / 1000);
  t.request["_emulator"]["inactive_until_ms"] = until_ms;
  t.events.push_back(Event(code, Describe(code),
                           "Error: the task is suspended (injected by globus-emulator)", true));
}

void ResumeTask(Task& t) {
  json& d = t.doc;
  d["status"] = "ACTIVE";
  d["is_ok"] = true;
  d["nice_status"] = "OK";
  d["nice_status_short_description"] = "OK";
  d["nice_status_details"] = nullptr;
  t.request["_emulator"].erase("inactive_until_ms");
}

std::string HostEndpointId(const Collection& c) { return NameUuid("gcs-endpoint:" + c.id); }
std::string CanonicalName(const Collection& c) { return HostEndpointId(c) + "#" + c.id; }

TaskRunner::TaskRunner(Emulator& emu) : emu_(emu) {}

TaskRunner::~TaskRunner() { Stop(); }

void TaskRunner::Start() {
  std::vector<std::string> ids = emu_.state().With([](StateData& d) {
    std::vector<std::string> out;
    for (const auto& id : d.task_order) {
      auto it = d.tasks.find(id);
      if (it != d.tasks.end() && InProgress(it->second)) out.push_back(id);
    }
    return out;
  });
  std::lock_guard lock(mu_);
  if (started_) return;
  active_.assign(ids.begin(), ids.end());
  started_ = true;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void TaskRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!started_) return;
    started_ = false;
    stop_ = true;
  }
  cv_.notify_all();
  idle_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void TaskRunner::Kick() {
  std::lock_guard lock(mu_);
  kicked_ = true;
  cv_.notify_all();
}

void TaskRunner::Loop() {
  while (!stop_) {
    int64_t wait_ms = 100;
    auto id = PickTask(&wait_ms);
    if (id) {
      Run(*id);
      {
        std::lock_guard lock(mu_);
        running_.clear();
      }
      idle_cv_.notify_all();
      continue;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::milliseconds(std::clamp<int64_t>(wait_ms, 1, 100)),
                 [&] { return stop_ || kicked_; });
    kicked_ = false;
  }
}

std::optional<std::string> TaskRunner::PickTask(int64_t* wait_ms) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(mu_);
    ids.assign(active_.begin(), active_.end());
  }
  int64_t now_ms = NowEpochMs();
  std::vector<std::string> gone;
  std::optional<std::string> pick;
  bool dirty = false;
  emu_.state().With([&](StateData& d) {
    for (const auto& id : ids) {
      auto it = d.tasks.find(id);
      if (it == d.tasks.end() || !InProgress(it->second)) {
        gone.push_back(id);
        continue;
      }
      Task& t = it->second;
      if (now_ms / 1000 >= t.deadline) {  // a suspended task expires too
        ExpireTask(t);
        dirty = true;
        gone.push_back(id);
        continue;
      }
      if (t.doc.value("status", "") == "INACTIVE") {
        int64_t until = t.request["_emulator"].value("inactive_until_ms", int64_t{0});
        if (until > now_ms) {
          *wait_ms = std::min(*wait_ms, until - now_ms);
          continue;
        }
        ResumeTask(t);  // the injected suspension is over
        dirty = true;
      }
      int64_t next = t.request.contains("_emulator")
                         ? t.request["_emulator"].value("next_attempt_ms", int64_t{0})
                         : 0;
      int64_t due = std::max(t.run_after_ms, next);
      if (due <= now_ms) {
        if (!pick) pick = id;
      } else {
        *wait_ms = std::min(*wait_ms, due - now_ms);
      }
    }
  });
  if (dirty) emu_.state().MarkDirty();
  std::lock_guard lock(mu_);
  for (const auto& g : gone) active_.erase(std::remove(active_.begin(), active_.end(), g), active_.end());
  if (pick) {
    // Round robin: a task that keeps failing does not starve the others.
    active_.erase(std::remove(active_.begin(), active_.end(), *pick), active_.end());
    active_.push_back(*pick);
    running_ = *pick;
    abort_current_ = false;
  }
  return pick;
}

void TaskRunner::Run(const std::string& id) {
  try {
    RunTaskAttempt(emu_, id, [this] { return Aborted(); });
  } catch (const std::exception& e) {
    // A bug or an unexpected filesystem state: retry later rather than spin.
    std::cerr << "globus-emulator: task " << id << ": " << e.what() << "\n";
    emu_.state().With([&](StateData& d) {
      auto it = d.tasks.find(id);
      if (it != d.tasks.end()) {
        it->second.request["_emulator"]["next_attempt_ms"] = NowEpochMs() + kRetryIntervalMs;
      }
    });
  }
}

Response TaskRunner::GetTask(const Request& req, const AccessToken& token, const std::string& id) {
  auto doc = emu_.state().With([&](StateData& d) -> std::optional<json> {
    auto it = d.tasks.find(id);
    if (it == d.tasks.end() || it->second.owner_sub != token.sub) return std::nullopt;
    return it->second.doc;
  });
  if (!doc) return TaskNotFound(req, id);
  return JsonResponse(200, *doc);
}

Response TaskRunner::UpdateTask(Request& req, const AccessToken& token, const std::string& id) {
  auto body = ReadJsonObject(req);
  if (!body) return BadRequest(req, "The request body must be a JSON object");
  json r;
  std::string error;
  for (auto it = body->begin(); it != body->end(); ++it) {
    if (it.key() != "DATA_TYPE" && it.key() != "label" && it.key() != "deadline") {
      return BadRequest(req, "Only label and deadline can be updated");
    }
  }
  if (body->contains("DATA_TYPE") && (*body)["DATA_TYPE"] != "task") {
    return BadRequest(req, "Expected DATA_TYPE 'task'");
  }
  enum class Outcome { kMissing, kFinished, kUpdated } outcome;
  std::optional<int64_t> deadline;
  if (body->contains("deadline")) {
    json& dl = (*body)["deadline"];
    deadline = dl.is_string() ? ParseDeadline(dl.get<std::string>()) : -1;
    if (*deadline < 0) return BadRequest(req, "Invalid deadline");
  }
  if (body->contains("label") && !(*body)["label"].is_null() && !(*body)["label"].is_string()) {
    return BadRequest(req, "'label' must be a string");
  }
  outcome = emu_.state().With([&](StateData& d) {
    auto it = d.tasks.find(id);
    if (it == d.tasks.end() || it->second.owner_sub != token.sub) return Outcome::kMissing;
    Task& t = it->second;
    if (!InProgress(t)) return Outcome::kFinished;
    if (body->contains("label")) t.doc["label"] = (*body)["label"];
    if (deadline) {
      t.deadline = *deadline;
      t.doc["deadline"] = IsoTime(*deadline);
    }
    return Outcome::kUpdated;
  });
  if (outcome == Outcome::kMissing) return TaskNotFound(req, id);
  if (outcome == Outcome::kFinished) {
    return GlobusError(req, 409, "Conflict", "Task '" + id + "' is not active and cannot be updated");
  }
  emu_.state().MarkDirty();
  return JsonResponse(200, Result(req, "Updated", "Updated successfully"));
}

Response TaskRunner::EventList(const Request& req, const AccessToken& token,
                               const std::string& id) {
  std::string error;
  auto limit = IntParam(req, "limit", 10, 1, 1000, &error);
  auto offset = IntParam(req, "offset", 0, 0, INT64_MAX, &error);
  if (!limit || !offset) return BadRequest(req, error);
  auto clauses = SplitFilter(QueryValues(req, "filter"), &error);
  if (!clauses) return BadRequest(req, error);
  std::optional<bool> want_error;
  for (const auto& cl : *clauses) {
    if (cl.field != "is_error" || (cl.value != "1" && cl.value != "0" && cl.value != "true" &&
                                   cl.value != "false")) {
      return BadRequest(req, "Invalid event filter '" + cl.field + ":" + cl.value + "'");
    }
    want_error = cl.value == "1" || cl.value == "true";
  }
  auto events = emu_.state().With([&](StateData& d) -> std::optional<std::vector<json>> {
    auto it = d.tasks.find(id);
    if (it == d.tasks.end() || it->second.owner_sub != token.sub) return std::nullopt;
    return it->second.events;
  });
  if (!events) return TaskNotFound(req, id);
  std::vector<json> kept;
  for (auto it = events->rbegin(); it != events->rend(); ++it) {  // newest first
    if (!want_error || it->value("is_error", false) == *want_error) kept.push_back(*it);
  }
  size_t begin = std::min<size_t>(kept.size(), static_cast<size_t>(*offset));
  size_t end = std::min<size_t>(kept.size(), begin + static_cast<size_t>(*limit));
  json data = json::array();
  for (size_t i = begin; i < end; ++i) data.push_back(std::move(kept[i]));
  return JsonResponse(200, {{"DATA_TYPE", "event_list"}, {"length", end - begin},
                            {"limit", *limit}, {"offset", *offset}, {"total", kept.size()},
                            {"DATA", data}});
}

Response TaskRunner::TaskList(const Request& req, const AccessToken& token) {
  std::string error;
  auto limit = IntParam(req, "limit", 10, 1, 1000, &error);
  auto offset = IntParam(req, "offset", 0, 0, INT64_MAX, &error);
  if (!limit || !offset) return BadRequest(req, error);
  static const std::vector<std::string> kOrderFields = {
      "task_id", "type", "status", "label", "request_time", "completion_time", "deadline",
      "files", "directories", "bytes_transferred", "faults"};
  auto order = ParseOrderBy(req.QueryParam("orderby").value_or("request_time DESC"),
                            kOrderFields, &error);
  if (!order) return BadRequest(req, error);
  auto clauses = SplitFilter(QueryValues(req, "filter"), &error);
  if (!clauses || !ValidTaskFilter(*clauses, &error)) return BadRequest(req, error);
  std::vector<json> docs = emu_.state().With([&](StateData& d) {
    std::vector<json> out;
    for (const auto& id : d.task_order) {
      auto it = d.tasks.find(id);
      if (it == d.tasks.end() || it->second.owner_sub != token.sub) continue;
      if (TaskMatches(it->second.doc, *clauses)) out.push_back(it->second.doc);
    }
    return out;
  });
  // Ties keep submission order in the direction of the first key.
  if (!order->empty() && order->front().descending) std::reverse(docs.begin(), docs.end());
  SortDocs(&docs, *order);
  size_t begin = std::min<size_t>(docs.size(), static_cast<size_t>(*offset));
  size_t end = std::min<size_t>(docs.size(), begin + static_cast<size_t>(*limit));
  json data = json::array();
  for (size_t i = begin; i < end; ++i) data.push_back(std::move(docs[i]));
  return JsonResponse(200, {{"DATA_TYPE", "task_list"}, {"length", end - begin},
                            {"limit", *limit}, {"offset", *offset}, {"total", docs.size()},
                            {"DATA", data}});
}

Response TaskRunner::Cancel(const Request& req, const AccessToken& token, const std::string& id) {
  enum class Outcome { kMissing, kComplete, kCanceled };
  Outcome outcome = emu_.state().With([&](StateData& d) {
    auto it = d.tasks.find(id);
    if (it == d.tasks.end() || it->second.owner_sub != token.sub) return Outcome::kMissing;
    if (!InProgress(it->second)) return Outcome::kComplete;
    CancelTask(it->second);
    return Outcome::kCanceled;
  });
  if (outcome == Outcome::kMissing) return TaskNotFound(req, id);
  if (outcome == Outcome::kComplete) {
    return JsonResponse(200, Result(req, "TaskComplete",
                                    "The task completed before the cancel request was processed."));
  }
  emu_.state().MarkDirty();
  {
    // Answer only once the worker has left the task: nothing it does for
    // the task can land after the cancel is reported.
    std::unique_lock lock(mu_);
    if (running_ == id) {
      abort_current_ = true;
      idle_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return running_ != id || stop_; });
    }
  }
  return JsonResponse(200, Result(req, "Canceled", "The task has been cancelled successfully."));
}

Response TaskRunner::SuccessfulTransfers(const Request& req, const AccessToken& token,
                                         const std::string& id) {
  std::string error;
  auto marker = IntParam(req, "marker", 0, 0, INT64_MAX, &error);
  if (!marker) return BadRequest(req, error);
  enum class Outcome { kMissing, kActive, kOk };
  json page = json::array();
  std::optional<int64_t> next;
  Outcome outcome = emu_.state().With([&](StateData& d) {
    auto it = d.tasks.find(id);
    if (it == d.tasks.end() || it->second.owner_sub != token.sub) return Outcome::kMissing;
    const Task& t = it->second;
    if (InProgress(t)) return Outcome::kActive;
    static const json kEmpty = json::array();
    const json& all = t.request.contains("_emulator") ? t.request["_emulator"]["successful"] : kEmpty;
    int64_t total = static_cast<int64_t>(all.size());
    for (int64_t i = *marker; i < total && i < *marker + kSuccessfulPage; ++i) {
      page.push_back(all[static_cast<size_t>(i)]);
    }
    if (*marker + kSuccessfulPage < total) next = *marker + kSuccessfulPage;
    return Outcome::kOk;
  });
  if (outcome == Outcome::kMissing) return TaskNotFound(req, id);
  if (outcome == Outcome::kActive) {
    // As the live service answered (globus-sdk-python issue #288).
    return BadRequest(req, "Task '" + id +
                               "' is still in progress, successful transfers are not yet available");
  }
  return JsonResponse(200, {{"DATA_TYPE", "successful_transfers"},
                            {"marker", *marker},
                            {"next_marker", next ? json(*next) : json()},
                            {"DATA", page}});
}

}  // namespace emu
