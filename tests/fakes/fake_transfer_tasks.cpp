// FakeTransfer's tasks (see tests/fakes/fake_transfer.h): submissions with
// submission-id deduplication, the task table, attempts (one attempt of a
// transfer or a delete is in fake_transfer_run.cpp), task documents,
// events, cancel, and the task hooks.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <set>
#include <utility>

#include "auth/http/url.h"
#include "tests/fakes/fake_transfer.h"
#include "tests/fakes/fake_transfer_internal.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {

using namespace fake_transfer_internal;

namespace {

using Task = FakeTransfer::Task;

constexpr int64_t kDefaultDeadlineS = 24 * 3600;
constexpr int kMaxEvents = 1000;

bool LooksLikeUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

std::string SubmissionIdFrom(uint64_t n) {
  char id[40];
  std::snprintf(id, sizeof(id), "fa4e0000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n & 0xFFFFFFFFFFFFull));
  return id;
}

http::Error TaskNotFound(const std::string& task_id) {
  return TransferError(404, "ClientError.NotFound", "No task found with id '" + task_id + "'",
                       "/v0.10/task/" + http::UrlEncodeComponent(task_id));
}

}  // namespace

FakeTransfer::Task* FakeTransfer::FindTaskLocked(std::string_view task_id) {
  auto it = tasks_.find(task_id);
  return it == tasks_.end() ? nullptr : it->second.get();
}

http::Result<std::string> FakeTransfer::NewSubmissionId() {
  if (auto e = hooks_.Begin(kOpSubmissionId)) return *e;
  std::lock_guard lock(mu_);
  return SubmissionIdFrom(next_submission_++);
}

http::Result<std::string> FakeTransfer::SubmitTransfer(const TransferRequest& request) {
  if (auto e = hooks_.Begin(kOpSubmitTransfer)) return *e;
  if (auto bad = CheckSubmissionId(request.submission_id)) return *bad;
  for (const auto* text :
       {&request.source_collection, &request.destination_collection, &request.deadline}) {
    if (auto bad = CheckPath(*text)) return *bad;
  }
  for (const TransferItem& item : request.items) {
    for (const auto* text : {&item.source_path, &item.destination_path}) {
      if (auto bad = CheckPath(*text)) return *bad;
    }
  }
  auto task = std::make_unique<Task>();
  task->kind = std::string(kTransfer);
  task->submission_id = request.submission_id;
  task->transfer = request;
  std::lock_guard lock(mu_);
  bool created = false;
  auto id = SubmitLocked(std::move(task), &created);
  if (id && created && run_tasks_immediately_) RunAttemptLocked(*FindTaskLocked(*id));
  return id;
}

http::Result<std::string> FakeTransfer::SubmitDelete(const DeleteRequest& request) {
  if (auto e = hooks_.Begin(kOpSubmitDelete)) return *e;
  if (auto bad = CheckSubmissionId(request.submission_id)) return *bad;
  if (auto bad = CheckPath(request.collection_id)) return *bad;
  for (const auto& path : request.paths) {
    if (auto bad = CheckPath(path)) return *bad;
  }
  auto task = std::make_unique<Task>();
  task->kind = std::string(kDelete);
  task->submission_id = request.submission_id;
  task->remove = request;
  std::lock_guard lock(mu_);
  bool created = false;
  auto id = SubmitLocked(std::move(task), &created);
  if (id && created && run_tasks_immediately_) RunAttemptLocked(*FindTaskLocked(*id));
  return id;
}

http::Result<TaskOutcome> FakeTransfer::DeleteAndWait(const DeleteRequest& request) {
  if (auto e = hooks_.Begin(kOpDelete)) return *e;
  if (auto bad = CheckPath(request.collection_id)) return *bad;
  for (const auto& path : request.paths) {
    if (auto bad = CheckPath(path)) return *bad;
  }
  if (!request.submission_id.empty()) {
    if (auto bad = CheckSubmissionId(request.submission_id)) return *bad;
  }
  auto task = std::make_unique<Task>();
  task->kind = std::string(kDelete);
  task->remove = request;
  std::unique_lock lock(mu_);
  if (task->remove.submission_id.empty()) {
    task->remove.submission_id = SubmissionIdFrom(next_submission_++);
  }
  task->submission_id = task->remove.submission_id;
  bool created = false;
  auto id = SubmitLocked(std::move(task), &created);
  if (!id) return std::move(id).error();
  Task& t = *FindTaskLocked(*id);
  RunAttemptLocked(t);  // one attempt ends a delete, unless it suspends it
  // An INACTIVE task is waited for (it ends once its hold is over), as
  // TransferClient waits for any task that is not SUCCEEDED or FAILED. The
  // lock is not held while sleeping.
  while (t.status.status == "INACTIVE") {
    const auto wait = t.inactive_until - clock_->Now();
    lock.unlock();
    if (wait > std::chrono::steady_clock::duration::zero()) clock_->SleepFor(wait);
    lock.lock();
    RunAttemptLocked(t);
  }
  return TaskOutcome{*id, t.status.status, t.status.fatal_code, t.status.fatal_description};
}

http::Result<std::string> FakeTransfer::SubmitLocked(std::unique_ptr<Task> task, bool* created) {
  *created = false;
  const bool is_delete = task->kind == kDelete;
  const std::string resource = is_delete ? "/v0.10/delete" : "/v0.10/transfer";
  // In the emulator's order: submission id, collections, items, deadline.
  if (!LooksLikeUuid(task->submission_id)) {
    return TransferError(400, "ClientError.BadRequest",
                         "A valid submission_id is required (GET /v0.10/submission_id)", resource);
  }
  const auto bad_path = [&](const char* key, const std::string& path) {
    return TransferError(400, "ClientError.BadRequest",
                         std::string("Invalid ") + key + ": " + path + " (paths must be absolute)",
                         resource);
  };
  size_t items = 0;
  int64_t deadline = Now() + kDefaultDeadlineS;
  if (is_delete) {
    const DeleteRequest& r = task->remove;
    if (FindLocked(r.collection_id) == nullptr) return EndpointNotFound(r.collection_id, resource);
    if (r.paths.empty()) {
      return TransferError(400, "ClientError.BadRequest.NoDeleteItems",
                           "A delete requires at least one item", resource);
    }
    for (const auto& path : r.paths) {
      if (!Components(path)) return bad_path("path", path);
    }
    items = r.paths.size();
  } else {
    const TransferRequest& r = task->transfer;
    for (const auto* id : {&r.source_collection, &r.destination_collection}) {
      if (FindLocked(*id) == nullptr) return EndpointNotFound(*id, resource);
    }
    if (r.items.empty()) {
      return TransferError(400, "ClientError.BadRequest.NoTransferItems",
                           "A transfer requires at least one item", resource);
    }
    for (const auto& item : r.items) {
      if (!Components(item.source_path)) return bad_path("source_path", item.source_path);
      if (!Components(item.destination_path)) {
        return bad_path("destination_path", item.destination_path);
      }
    }
    if (!r.deadline.empty()) {
      deadline = ParseTransferTime(r.deadline);
      if (deadline <= 0) {
        return TransferError(
            400, "ClientError.BadRequest",
            "Invalid deadline: expected an ISO 8601 time such as 2021-01-15T18:13:10+00:00",
            resource);
      }
    }
    items = r.items.size();
  }
  if (auto it = submissions_.find(task->submission_id); it != submissions_.end()) {
    return it->second;  // "Duplicate": the original task, whatever this request holds
  }
  const std::string id = "fake-task-" + std::to_string(next_task_++);
  const std::string& label = is_delete ? task->remove.label : task->transfer.label;
  TaskStatus& s = task->status;
  s.task_id = id;
  s.type = is_delete ? "DELETE" : "TRANSFER";
  s.status = "ACTIVE";
  s.nice_status = s.nice_status_short_description = "Queued";
  s.label = label.empty() ? "" : SanitizeLabel(label);
  s.files = is_delete ? static_cast<int64_t>(items) : 0;
  s.subtasks_total = s.subtasks_pending = static_cast<int64_t>(items);
  task->done.assign(items, false);
  task->expanded.assign(items, false);
  task->item_dirs.assign(items, 0);
  task->deadline = deadline;
  if (auto& queue = task_failures_[task->kind]; !queue.empty()) {
    task->forced_fatal = std::move(queue.front());
    queue.pop_front();
  }
  if (auto& queue = task_holds_[task->kind]; !queue.empty()) {
    task->inactive_status = std::move(queue.front().first);
    task->inactive_hold = queue.front().second;
    queue.pop_front();
  }
  ++tasks_submitted_[task->kind];
  submissions_[task->submission_id] = id;
  task_order_.push_back(id);
  tasks_[id] = std::move(task);
  *created = true;
  return id;
}

void FakeTransfer::FinishLocked(Task& t, const std::string& status, const std::string& fatal_code,
                                const std::string& fatal_description, TaskEvent event) {
  TaskStatus& s = t.status;
  RecountPending(s, t.subtasks_ended);
  if (status == "SUCCEEDED") {
    s.subtasks_succeeded += s.subtasks_pending;
  } else if (fatal_code == "CANCELED" || fatal_code == "EXPIRED") {
    t.subtasks_ended += s.subtasks_pending;
  } else {
    s.subtasks_failed += s.subtasks_pending;
  }
  s.subtasks_pending = 0;
  s.status = status;
  s.fatal_code = fatal_code;
  s.fatal_description = fatal_description;
  s.nice_status.clear();  // null once the task has ended
  s.nice_status_short_description.clear();
  t.events.push_back(std::move(event));
}

void FakeTransfer::RunAttemptLocked(Task& t) {
  TaskStatus& s = t.status;
  if (s.status != "ACTIVE" && s.status != "INACTIVE") return;
  const std::string now = IsoTime(Now());
  if (Now() >= t.deadline) {  // a suspended task expires too
    FinishLocked(t, "FAILED", "EXPIRED", "deadline exceeded",
                 TaskEvent{"EXPIRED", "deadline exceeded",
                           "The task deadline (" + IsoTime(t.deadline) + ") has passed", true, now});
    return;
  }
  if (s.status == "INACTIVE") {
    if (clock_->Now() < t.inactive_until) return;  // still suspended
    s.status = "ACTIVE";  // what was wrong was put right: it goes on
    s.nice_status = s.nice_status_short_description = "OK";
  }
  if (!t.started) {
    t.started = true;
    s.nice_status = s.nice_status_short_description = "OK";
    t.events.push_back(TaskEvent{"STARTED", "started",
                                 t.kind == kDelete
                                     ? "{\n  \"type\": \"Delete\"\n}"
                                     : "{\n  \"type\": \"GridFTP Transfer\",\n"
                                       "  \"concurrency\": 1,\n  \"protocol\": \"Globus\"\n}",
                                 false, now});
  }
  if (!t.inactive_status.empty()) {
    // Suspended, as Transfer suspends a task whose credentials expired
    // (globus-api.md §2.9): INACTIVE with the reason and an error event.
    const std::string code = std::exchange(t.inactive_status, "");
    s.status = "INACTIVE";
    s.nice_status = code;
    s.nice_status_short_description = Describe(code);
    t.inactive_until = clock_->Now() + t.inactive_hold;
    t.events.push_back(TaskEvent{code, Describe(code),
                                 "injected by FakeTransfer::InactivateNextTask", true, now});
    return;
  }
  if (!t.forced_fatal.empty()) {
    const std::string code = t.forced_fatal;
    FinishLocked(t, "FAILED", code, Describe(code),
                 TaskEvent{code, Describe(code), "injected by FakeTransfer::FailNextTask", true,
                           now});
    return;
  }
  if (t.kind == kDelete) {
    RunDeleteLocked(t);
  } else {
    RunTransferLocked(t);
  }
}

http::Result<TaskStatus> FakeTransfer::GetTask(const std::string& task_id) {
  if (auto e = hooks_.Begin(kOpGetTask)) return *e;
  if (auto bad = CheckTaskId(task_id)) return *bad;
  std::lock_guard lock(mu_);
  const Task* t = FindTaskLocked(task_id);
  if (t == nullptr) return TaskNotFound(task_id);
  return t->status;
}

http::Result<std::vector<TaskEvent>> FakeTransfer::GetTaskEvents(const std::string& task_id,
                                                                 int limit) {
  if (auto e = hooks_.Begin(kOpTaskEvents)) return *e;
  if (auto bad = CheckTaskId(task_id)) return *bad;
  std::lock_guard lock(mu_);
  const Task* t = FindTaskLocked(task_id);
  if (t == nullptr) return TaskNotFound(task_id);
  const size_t n = std::min(t->events.size(), static_cast<size_t>(std::clamp(limit, 1, kMaxEvents)));
  return std::vector<TaskEvent>(t->events.rbegin(), t->events.rbegin() + static_cast<ptrdiff_t>(n));
}

http::Result<void> FakeTransfer::CancelTask(const std::string& task_id) {
  if (auto e = hooks_.Begin(kOpCancelTask)) return *e;
  if (auto bad = CheckTaskId(task_id)) return *bad;
  std::lock_guard lock(mu_);
  Task* t = FindTaskLocked(task_id);
  if (t == nullptr) return TaskNotFound(task_id);
  if (!t->status.done()) {  // ACTIVE or INACTIVE; otherwise "TaskComplete": also success
    FinishLocked(*t, "FAILED", "CANCELED", "canceled",
                 TaskEvent{"CANCELED", "canceled", "Canceled by the task owner", true,
                           IsoTime(Now())});
  }
  return {};
}

int FakeTransfer::RunPendingTasks() {
  std::lock_guard lock(mu_);
  int ran = 0;
  for (const std::string& id : task_order_) {
    Task* t = FindTaskLocked(id);
    if (t == nullptr || t->status.done()) continue;
    RunAttemptLocked(*t);
    ++ran;
  }
  return ran;
}

void FakeTransfer::set_run_tasks_immediately(bool on) {
  std::lock_guard lock(mu_);
  run_tasks_immediately_ = on;
}

void FakeTransfer::FailNextTask(std::string_view kind, std::string fatal_code) {
  std::lock_guard lock(mu_);
  task_failures_[std::string(kind)].push_back(std::move(fatal_code));
}

void FakeTransfer::InactivateNextTask(std::string_view kind, std::string nice_status,
                                      std::chrono::milliseconds hold) {
  std::lock_guard lock(mu_);
  task_holds_[std::string(kind)].emplace_back(std::move(nice_status), hold);
}

uint64_t FakeTransfer::tasks_submitted(std::string_view kind) const {
  std::lock_guard lock(mu_);
  auto it = tasks_submitted_.find(kind);
  return it == tasks_submitted_.end() ? 0 : it->second;
}

}  // namespace globusfs::fs
