// Transfer and delete tasks (globus-api.md §2.6-§2.9): submission with
// submission-id deduplication, task documents, event_list, task_list,
// cancel, successful_transfers, and the background worker that runs tasks
// against the collections' folders.
//
// Tasks live in State (doc, request, events). The worker's bookkeeping
// (items done, trees expanded, files completed, next retry) sits in
// request["_emulator"], so a restarted emulator resumes a task where it
// stopped. A TRANSFER never fails on a source error: it records a fault
// and an error event and retries every 2 s until its deadline (§2.9); a
// DELETE fails at the first error. A task an injected fault suspends is
// INACTIVE (still in progress: it can be cancelled, updated, and it
// expires) until the fault's time is up, then runs on
// (request["_emulator"]["inactive_until_ms"]).
//
// TaskRunner (transfer_tasks.cpp) owns the API side and the scheduling;
// submissions are in transfer_task_submit.cpp; one attempt of one task is
// RunTaskAttempt (transfer_task_run.cpp).
//
// Thread-safety: the public methods run concurrently on connection
// threads; the worker is one thread. mu_ guards the worker's queue and
// flags and is never held while calling into State; State's lock is never
// held during file I/O.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "config.h"
#include "http_server.h"
#include "state.h"

namespace emu {

class Emulator;

// Whether the caller may use a collection (data_access consent): the error
// response, or nullopt when allowed.
using AccessCheck = std::function<std::optional<Response>(const Collection&)>;

// The GCS endpoint hosting a collection (stable per collection id), and the
// collection's canonical_name "<endpoint id>#<collection id>" (§2.10).
std::string HostEndpointId(const Collection& c);
std::string CanonicalName(const Collection& c);

// How long a TRANSFER waits before retrying after a fault.
constexpr int64_t kRetryIntervalMs = 2000;

// A deadline in any ISO 8601 offset, as epoch seconds; -1 if unreadable.
int64_t ParseDeadline(const std::string& s);

// Runs one attempt of task `id` (TRANSFER or DELETE): marks it started,
// works through the items not done yet, and leaves it SUCCEEDED, FAILED, or
// ACTIVE with a retry scheduled. Returns early when `aborted()` turns true
// (checked between files and between 1 MiB chunks) or the task stops being
// ACTIVE. Never holds State's lock during file I/O.
void RunTaskAttempt(Emulator& emu, const std::string& id, const std::function<bool()>& aborted);
// Ends a task in progress (call under State's lock): FAILED with
// fatal_error EXPIRED / CANCELED, the matching event, pending subtasks moved
// over.
void ExpireTask(Task& t);
void CancelTask(Task& t);

// The nice_status of a task an "inactive_ms" fault suspends, unless the
// fault names one: the event code Globus lists for missing credentials
// (docs/emulator.md says why this one).
inline constexpr const char* kDefaultInactiveStatus = "NO_CREDENTIALS";
// Suspends an ACTIVE task (call under State's lock), as Transfer suspends
// one whose credentials expired (globus-api.md §2.9): status INACTIVE,
// nice_status `code`, nice_status_short_description its words, is_ok
// false, an error event of that code; the worker leaves it alone until
// `until_ms` (epoch ms), then ResumeTask.
void SuspendTask(Task& t, const std::string& code, int64_t until_ms);
// An INACTIVE task goes on: ACTIVE, nice_status "OK", is_ok true.
void ResumeTask(Task& t);
// Whether the task is still in progress (ACTIVE or INACTIVE).
bool InProgress(const Task& t);

// A task event document with the time now, and a code's words
// ("FILE_NOT_FOUND" -> "file not found", as the real events describe codes).
nlohmann::json Event(const std::string& code, const std::string& description,
                     const std::string& details, bool is_error);
std::string Describe(const std::string& code);

class TaskRunner {
 public:
  explicit TaskRunner(Emulator& emu);
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  void Start();  // queues every ACTIVE task in State and starts the worker
  void Stop();   // stops and joins the worker (within ~100 ms); idempotent

  // POST /v0.10/transfer (is_delete false) and /v0.10/delete.
  Response Submit(Request& req, const AccessToken& token, bool is_delete,
                  const AccessCheck& check);
  // GET /v0.10/task/{id}; PUT /v0.10/task/{id} (label, deadline).
  Response GetTask(const Request& req, const AccessToken& token, const std::string& id);
  Response UpdateTask(Request& req, const AccessToken& token, const std::string& id);
  // GET /v0.10/task/{id}/event_list, /v0.10/task_list,
  // /v0.10/task/{id}/successful_transfers; POST /v0.10/task/{id}/cancel.
  Response EventList(const Request& req, const AccessToken& token, const std::string& id);
  Response TaskList(const Request& req, const AccessToken& token);
  Response Cancel(const Request& req, const AccessToken& token, const std::string& id);
  Response SuccessfulTransfers(const Request& req, const AccessToken& token,
                               const std::string& id);

 private:
  void Loop();
  // The next task due (expiring overdue ones on the way); sets running_.
  std::optional<std::string> PickTask(int64_t* wait_ms);
  void Run(const std::string& id);  // one attempt of one task
  bool Aborted() const { return stop_ || abort_current_; }
  void Kick();

  Emulator& emu_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> abort_current_{false};  // Cancel() of the task being run

  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;       // wakes the worker
  std::condition_variable idle_cv_;  // tells Cancel() the worker left a task
  bool kicked_ = false;
  bool started_ = false;
  std::deque<std::string> active_;  // ACTIVE task ids, submission order
  std::string running_;             // the task the worker is in, or ""
};

}  // namespace emu
