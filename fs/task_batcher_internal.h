// The TaskBatcher's own records (fs/task_batcher.h), shared by its source
// files: task_batcher.cpp (queueing, batches, waiting, the worker),
// task_batcher_tasks.cpp (submitting and following Globus tasks, replaying
// the journal) and task_batcher_status.cpp (the status view).
//
// Not a public header: only those files include it. Every record is
// guarded by TaskBatcher::mu_ like the rest of the batcher's state.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "auth/http/error.h"
#include "fs/mount_table.h"
#include "fs/namespace.h"
#include "fs/retry_backoff.h"
#include "fs/task_batcher.h"

namespace globusfs::fs {

// The journal key of a copy or delete accepted but not yet in a sent batch.
inline const std::string kQueuedPrefix = "queued-";

// One path is the other, or under it.
inline bool Overlap(const std::string& a, const std::string& b) {
  return IsUnder(a, b) || IsUnder(b, a);
}

struct TaskBatcher::Item {
  uint64_t id = 0;
  Kind kind = Kind::kCopy;
  std::string src_coll, src_path, dst_coll, dst_path;
  bool recursive = false;
  int64_t bytes = -1;  // a copy's source size, when known (not journaled)
  State state = State::kQueued;
  std::string submission_id;
  std::string journal_key;  // its own record while queued (kQueuedPrefix...)
  std::string why;
  std::vector<uint64_t> folded;  // deletes covered by this recursive delete
  uint64_t folded_into = 0;
  bool reported = false;  // a failure already returned to a waiter
  TimePoint finished_at{};
  bool done() const { return state == State::kSucceeded || state == State::kFailed; }
};

struct TaskBatcher::Batch {
  std::string key;
  Kind kind = Kind::kCopy;
  std::string src_coll, dst_coll;
  std::vector<uint64_t> ids;
  TimePoint last_add{};
  bool flush_now = false;
  RetryBackoff retry;  // getting a submission id; not due before retry.not_before()
};

struct TaskBatcher::Task {
  std::string submission_id, task_id;
  Kind kind = Kind::kCopy;
  std::vector<uint64_t> ids;
  TimePoint next_poll{};
  std::chrono::milliseconds interval{0};
  TaskStatus last;
  RetryBackoff retry;  // submitting, and polling errors
  // INACTIVE at Globus (suspended until someone acts): still followed, kept
  // in the journal, never undone; waiters count it as held up.
  bool inactive = false;
  std::string inactive_reason;  // nice_status (short description), or the latest event
  std::string inactive_remedy;  // what resumes it
  std::chrono::system_clock::time_point inactive_since{};
  bool inactive_logged = false;  // the log says so once per task
};

// "2026-12-07T10:00:00+00:00", as Transfer writes times.
std::string IsoTimeUtc(std::chrono::system_clock::time_point t);

// The deepest folder holding both normalised paths ("/" at worst).
std::string CommonFolder(const std::string& a, const std::string& b);

// What the log says about a failure that is retried later: the fix for an
// authentication requirement (auth/guidance.h), else that Globus cannot be
// reached. One line.
std::string RetryCause(const http::Error& error);

// "750ms", "4s", "5min".
std::string ShortDuration(std::chrono::steady_clock::duration d);

// Why an INACTIVE task is suspended, from its document: "NICE_STATUS (short
// description)", either alone when the other is missing or the same; "" when
// the document says neither (the caller then takes the latest event's).
std::string InactiveReason(const TaskStatus& st);

// What resumes an INACTIVE task, for the log and `globusfs status`: for
// expired credentials (the usual cause), a login with the collections
// concerned; for a pause, resuming it; always the task's page in the Globus
// web app. `code` is the nice_status (or the latest event's code).
std::string InactiveRemedy(const std::string& code, const std::string& task_id,
                           const std::vector<std::string>& collections);

// The task's page in the Globus web app.
std::string ActivityUrl(const std::string& task_id);

}  // namespace globusfs::fs
