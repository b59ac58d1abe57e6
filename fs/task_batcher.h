// TaskBatcher: server-side copies and deletes, batched into few Globus tasks.
//
// A Globus task takes seconds to start, so one task per file would make
// `cp -r` of a thousand files take most of an hour. Instead:
//  - Copies (whole files or folders) and deletes are queued; items that
//    arrive within `window` of each other for the same collections (copies:
//    per source/destination pair; deletes: per collection) are sent as one
//    task. A delete under a folder that is itself being deleted is folded
//    into the folder's recursive delete.
//  - Every batch gets a submission_id that is recorded in the journal
//    BEFORE the request is sent; after a crash the next mount sends it again
//    with the same id, and Globus answers Duplicate instead of running it
//    twice.
//  - A delete never runs before a pending copy of the same source has
//    finished (mv across collections is copy, then delete): it is held back,
//    and dropped if the copy fails.
//  - A poller follows the tasks; a task that reports error events (a source
//    that vanished, a permission refused) is cancelled rather than left
//    ACTIVE until its deadline. Failures are logged with the Globus task id;
//    a failed copy's destination is removed from the listing, a failed
//    delete's entries come back.
//  - A task Globus reports INACTIVE (suspended until someone acts: expired
//    credentials on an endpoint, a pause) is in progress, not failed: it
//    may still run and finish, so it keeps its journal record, is followed
//    with the same slowing polls, and nothing is undone. Why (its
//    nice_status, or the latest event) and what resumes it are logged once
//    per task and shown by Status(); waiters count it as held up (below),
//    and Drain leaves it in the journal like any unfinished task.
//  - What cannot be sent now is kept, never dropped or spun on: a failure
//    that is worth retrying (network, timeouts, 429, 5xx, and what a login
//    fixes: a missing login, a consent or session requirement, a refused
//    refresh token; RetryLater in fs/remote/remote_error.h) keeps the work
//    journaled and tries again with a capped exponential backoff
//    (fs/retry_backoff.h): per batch for its submission id, per task for
//    its submission and polling. A persisting failure is logged once per
//    backoff step with its fix (`globusfs-auth login`, ...), and once more
//    when it recovers. Only definitive refusals (400, no such collection,
//    permission denied) fail a task.
//  - WaitPath (a read or fsync of a pending destination, a new file where a
//    delete is pending) and WaitAll (fsync of a folder) flush the batches
//    concerned at once (a batch waiting for its retry time still waits for
//    it) and wait; a failure is EIO. Drain (unmount) waits up to a deadline
//    and reports what is left; it stays in the journal, and the next mount
//    resumes it (queued items, and sent tasks with their submission ids).
//
// Time (windows, polls, backoff, deadlines) and the backoff's jitter come
// from the injected http::Clock.
//
// Thread-safety: all methods are thread-safe. mu_ guards all state and is
// never held across a Transfer or journal call; one worker thread sends
// batches and polls tasks.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth/http/clock.h"
#include "cache/journal.h"
#include "fs/log.h"
#include "fs/namespace.h"
#include "fs/remote/transfer_api.h"

namespace globusfs::fs {

struct BatcherOptions {
  std::chrono::milliseconds window{400};  // items this close together share a task
  size_t max_items = 10000;               // a batch this big is sent at once
  std::chrono::milliseconds poll_initial{250};
  std::chrono::milliseconds poll_max{2000};
  bool wait_each = false;  // --copy-mode wait: each copy waits for its own task
  // After a failure that is retried later: the first wait, doubling up to
  // the cap, less up to half at random (fs/retry_backoff.h).
  std::chrono::milliseconds retry_initial{1000};
  std::chrono::milliseconds retry_max{std::chrono::minutes(5)};
  // How long WaitPath (fsync, open of a pending destination) waits for work
  // that is held up by such a failure before it answers EIO; the work stays
  // queued. Work that is merely running is waited for as long as it runs.
  // Work in an INACTIVE task counts as held up.
  std::chrono::milliseconds held_wait{std::chrono::seconds(60)};
};

// What Drain leaves for the next mount: the work still in the journal.
struct DrainReport {
  size_t queued = 0;      // items accepted but not yet in a task
  size_t unfinished = 0;  // items in tasks sent (or being submitted), not finished
  size_t tasks = 0;       // those tasks
  size_t copies = 0;      // queued + unfinished, by kind
  size_t deletes = 0;
  size_t failed = 0;                  // items that failed, not yet reported to a waiter
  std::vector<std::string> examples;  // a few of those left: "copy /a -> /b", "delete /c"
  std::string waiting_on;  // why work waits for a retry (the fix, if any); "" if none does

  bool left() const { return queued + unfinished > 0; }
  // "2 copies and 1 delete in the journal for the next mount (1 not yet
  // sent, 2 in 1 unfinished Globus task): copy /a -> /b, ...; waiting on: ..."
  std::string Describe() const;
};

class TaskBatcher {
 public:
  // Times (deadlines) are on the clock given to the constructor.
  using TimePoint = std::chrono::steady_clock::time_point;

  TaskBatcher(TransferApi& api, cache::Journal& journal, Namespace& ns, Logger& log,
              std::shared_ptr<http::Clock> clock, BatcherOptions options);
  ~TaskBatcher();
  TaskBatcher(const TaskBatcher&) = delete;
  TaskBatcher& operator=(const TaskBatcher&) = delete;

  // Starts the worker and picks up the journal's tasks from a previous run.
  void Start();
  // Stops the worker; unsent and unfinished work stays journaled. The
  // worker may be inside a Transfer request (with the HTTP client's retries
  // and timeouts, that can take minutes): Stop waits for it until
  // `deadline` and returns false if it is still in it. Then the batcher must
  // not be destroyed (its destructor waits): the process may exit, as after
  // a crash, which the journal is made for. Without a deadline it waits.
  bool Stop(std::optional<TimePoint> deadline = std::nullopt);

  // Paths are normalised collection paths. QueueCopy returns 0, or (with
  // wait_each) the copy's errno.
  // `bytes`: the source's size when known (-1: unknown), for the progress
  // figures of `globusfs status` (not journaled: unknown after a remount).
  int QueueCopy(const std::string& src_coll, const std::string& src_path, const std::string& dst_coll,
                const std::string& dst_path, bool recursive, int64_t bytes = -1);
  // Both are durable (journaled) when they return 0; EIO when the journal
  // cannot record them.
  // `held_key`: the record HoldDelete made for this delete (else a new one).
  int QueueDelete(const std::string& coll, const std::string& path, bool is_dir,
                  const std::string& held_key = "");
  // A delete that must wait for something local (a file unlinked while
  // open: its moved-aside copy goes at the last close). Journaled now, so
  // that after a crash the next mount deletes it; sent once QueueDelete is
  // given the returned key. "" when the journal cannot record it.
  std::string HoldDelete(const std::string& coll, const std::string& path);

  // Waits for every pending copy to, and delete of, `path` (or above it).
  // EIO when it failed, or when it has been held up (Globus unreachable, a
  // login missing, its task INACTIVE) for `held_wait` while waiting: it
  // stays queued.
  int WaitPath(const std::string& coll, const std::string& path);
  // Waits for every pending copy *from* `path` (or from below or above it):
  // before the server's copy of a path is moved or removed right away (a
  // rename, or an unlink while open that moves it aside), the copies
  // queued from it must have read it. Their failures are not reported here
  // (the copy's destination reports them). EIO only when one has been held
  // up for `held_wait`.
  int WaitCopiesFrom(const std::string& coll, const std::string& path);
  bool IsPending(const std::string& coll, const std::string& path);
  // Flushes every batch and waits for everything (fsync of a folder), or
  // until `deadline`. EIO if anything failed since the last WaitAll (or the
  // batcher stopped first), or when work has been held up (as for WaitPath)
  // for `held_wait` while waiting (it stays queued); else ETIMEDOUT if the
  // deadline came first (the rest goes on, and stays journaled); else 0.
  int WaitAll(std::optional<TimePoint> deadline = std::nullopt);
  // For unmount: flushes every batch and waits until everything is done or
  // `deadline` passes; returns what is left (it stays in the journal) and
  // the failures nobody was told of. Does not stop the worker (Stop does).
  DrainReport Drain(TimePoint deadline);

  // The mount paths ("/NAME/dir/file") that show a collection path; empty
  // when no mounted folder does.
  using PathNamer =
      std::function<std::vector<std::string>(const std::string& coll, const std::string& path)>;

  // Pending, active, failed and recent tasks (for `globusfs status`; read by
  // fs/status_view.h). Each active task has task_id, submission_id, type,
  // status (SUBMITTING, ACTIVE, INACTIVE), items, files, files_transferred,
  // files_skipped, bytes_transferred, effective_bytes_per_second,
  // subtasks_{total,succeeded,pending,failed}, faults, files_expected (the
  // files queued, when no item is a folder) and bytes_total (their sizes,
  // null when one is unknown), "detail" while it waits for a retry, and
  // "activity_url" once it has a task id; an INACTIVE one also nice_status,
  // reason, remedy and inactive_since. Finished tasks (recent, failed) have
  // finished_at. With a `namer`, pending items carry "mount_paths" (what
  // they change: a copy's destination, a delete's path) and tasks "paths"
  // (at most kPathsListed), "paths_total" and "paths_common" (the deepest
  // mount folder holding them all). At most `max_pending_listed` pending
  // items are listed; "pending_total" counts them all, and
  // "pending_batches" summarises each batch (type, items, listed, paths,
  // paths_total, paths_common, bytes_total).
  nlohmann::json Status(const PathNamer& namer = {}, size_t max_pending_listed = SIZE_MAX);
  static constexpr size_t kPathsListed = 5;

 private:
  enum class Kind { kCopy, kDelete };
  enum class State { kQueued, kSent, kSucceeded, kFailed };
  struct Item;
  struct Batch;
  struct Task;
  // A finished task as Status lists it: its document, and what it changed
  // (collection, path) for the mount paths Status adds.
  struct Finished {
    nlohmann::json doc;
    std::vector<std::pair<std::string, std::string>> targets;  // at most kPathsListed
    size_t targets_total = 0;
    std::string common_coll, common_path;  // the deepest folder holding them all ("" coll: none)
  };

  void Loop();
  bool Stopping();  // takes mu_
  void SendBatch(Batch batch);
  // Puts a batch that could not get its submission id back, to be retried.
  void RetryBatch(Batch batch, const http::Error& error);
  // Submits a sent task (see Submit) or follows it at Globus.
  void Poll(const std::string& submission_id);
  // Sends the journaled request with its submission id (again: Globus
  // answers Duplicate if it had it); keeps it for a retry, or fails it.
  void Submit(const std::string& submission_id);
  // The next poll in the task's interval (`slower`: doubled, to poll_max).
  void Reschedule(const std::string& submission_id, bool slower);
  // Schedules the task's next submission or poll after a failure that is
  // retried later; `what` names it in the log.
  void RetryTask(const std::string& submission_id, const std::string& what,
                 const http::Error& error);
  // Ends the task's backoff after a success; logs the recovery.
  void TaskRecovered(const std::string& submission_id, const std::string& what);
  // Globus reports the task INACTIVE (`st`): records why (its nice_status,
  // else the latest event) and what resumes it, logs it once per task.
  void NoteInactive(const std::string& submission_id, const TaskStatus& st);
  // The task is in progress again (not INACTIVE): logs it if it was.
  void NoteActiveAgain(const std::string& submission_id);
  void Finish(const std::string& submission_id, bool ok, const std::string& why);
  // Caller holds mu_.
  // Puts a batch taken out to be sent back into batches_, before what was
  // queued since.
  void PutBack(Batch batch);
  uint64_t AddItem(Kind kind, const std::string& src_coll, const std::string& src_path,
                   const std::string& dst_coll, const std::string& dst_path, bool recursive);
  bool Covers(const Item& item, const std::string& coll, const std::string& path) const;
  bool BlockedByCopy(const Item& del) const;
  void Complete(uint64_t id, State state, const std::string& why);
  // Takes the queued deletes of the failed copies' sources out of their
  // batches (failed); returns them.
  std::vector<Item> DropDeletesOf(const std::vector<uint64_t>& failed_copies);
  // Records one accepted item in the journal; its key, or "" on failure.
  std::string JournalQueued(Kind kind, const std::string& src_coll, const std::string& src_path,
                            const std::string& dst_coll, const std::string& dst_path, bool recursive);
  void FlushCovering(const std::string& coll, const std::string& path);
  // Waits, under `lock` (on mu_), until every item of `ids` is done; false
  // when one has been held up for held_wait (logged once).
  bool WaitDone(std::unique_lock<std::mutex>& lock, const std::vector<uint64_t>& ids, const std::string& coll,
                const std::string& path);
  // The item waits for a retry after a failure (its batch or task backs
  // off); *cause says why. Caller holds mu_.
  bool HeldUp(uint64_t id, std::string* cause) const;
  bool AnyHeldUp(std::string* cause) const;  // of the unfinished items; caller holds mu_
  // Waits on done_cv_ (releasing `lock` on mu_) until `done`, stop_ or
  // `deadline`; true when done.
  bool WaitDone(std::unique_lock<std::mutex>& lock, std::optional<TimePoint> deadline,
                const std::function<bool()>& done);
  bool AllDone() const;          // caller holds mu_
  DrainReport Leftover() const;  // caller holds mu_
  nlohmann::json ItemJson(const Item& i) const;
  void Replay();

  TransferApi& api_;
  cache::Journal& journal_;
  Namespace& ns_;
  Logger& log_;
  std::shared_ptr<http::Clock> clock_;
  const BatcherOptions options_;

  // Orders the records of items accepted in the same millisecond; starts
  // from the clock so a restart does not go back.
  std::atomic<uint64_t> queued_seq_;
  std::mutex mu_;  // guards everything below
  std::condition_variable work_cv_;  // wakes the worker
  std::condition_variable done_cv_;  // wakes waiters when items finish
  bool stop_ = false;
  bool worker_exited_ = false;  // Loop has returned
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Item>> items_;
  std::map<std::string, std::unique_ptr<Batch>> batches_;  // not yet sent, by key
  std::map<std::string, std::unique_ptr<Task>> tasks_;     // sent, by submission id
  std::deque<Finished> recent_;                             // finished tasks, newest first
  uint64_t failures_ = 0;                                   // since the last WaitAll
  int flushing_all_ = 0;  // WaitAll/Drain calls waiting: every batch is due (at its retry time)
  std::thread worker_;
};

}  // namespace globusfs::fs
