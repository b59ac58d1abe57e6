// FakeTransfer: an in-process TransferApi over an in-memory tree per
// collection, for unit tests of the filesystem core.
//
// It answers exactly as Transfer (and globus-emulator) would: the same HTTP
// status and Globus code for every failure, with the GridFTP detail
// ("GlobusError: v=1 c=PATH_NOT_FOUND") in the message, each error built by
// http::ParseErrorDocument from a Transfer-shaped body so it is parsed like
// a real one; delete failures are FAILED TaskOutcomes with Transfer's fatal
// codes. tests/fs/transfer_api_contract_test.cpp runs the same suite against
// this fake and against TransferClient + the emulator, so the two cannot
// drift. Paths are normalised like Transfer's ("/~/" is the root, "." and
// ".." resolved); symbolic links are followed in the middle of a path and
// by List, never by Stat, Rename or delete.
//
// Test hooks: counters per operation, FailNext (inject an error into the
// next calls of one operation), FailAlways / ClearFailures (an error in
// every call of one operation until cleared: Globus unreachable, a login
// missing), SetLatency (sleep on the injected Clock before each call),
// SetMaxListEntries (Transfer's listing size limit).
//
// Tasks (SubmitTransfer, SubmitDelete) live in a task table and run only
// when the test says so, so a test decides what a poller sees:
//   - RunPendingTasks() runs one attempt of every ACTIVE task (and of every
//     INACTIVE one whose hold is over), in submission order (the emulator's
//     worker, without the clock);
//   - set_run_tasks_immediately(true) also runs a new task's first attempt
//     inside its submission (later attempts still need RunPendingTasks).
// DeleteAndWait always runs its task at once (it is the one waiting; a task
// held INACTIVE by InactivateNextTask is waited for, sleeping on the clock).
// An attempt behaves like the emulator's (globus-api.md §2.7-§2.9): a
// transfer copies the fake's entries (files keep their size, and their
// mtime with preserve_timestamp, and get mode 0644; folders are merged
// recursively, symbolic links inside them are left out as with
// recursive_symlinks "ignore"; missing destination parents are created),
// but never fails on a source or destination error: it counts a fault,
// records one error event per item (FILE_NOT_FOUND, NOT_A_DIRECTORY,
// IS_A_DIRECTORY, ...) and stays ACTIVE, to be retried by the next
// attempt. A delete ends FAILED at its first error. A task whose deadline
// (the request's, or submission + 24 h) has passed on the clock ends FAILED
// with EXPIRED at its next attempt. nice_status is "Queued" until the first
// attempt, "OK" from then on, and "" (null) once the task has ended, as the
// emulator reports it. Submission ids are deduplicated: the
// same id again answers the original task ("Duplicate").
// Task hooks: FailNextTask (the next task of a kind ends FAILED with a
// given fatal code when it first runs), InactivateNextTask (the next task
// of a kind is held INACTIVE for a while) and tasks_submitted (tasks created,
// duplicates not counted, DeleteAndWait's included) like the emulator's
// Stats()["tasks"].
//
// Thread-safety: every method may be called from many threads. One mutex
// (mu_) guards all state, tasks included (an attempt runs under it); it is
// never held while sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/http/clock.h"
#include "tests/fakes/fake_hooks.h"
#include "fs/remote/transfer_api.h"

namespace globusfs::fs {

class FakeTransfer final : public TransferApi {
 public:
  // Operation names for calls(), FailNext().
  static constexpr std::string_view kOpCollection = "collection";
  static constexpr std::string_view kOpList = "ls";
  static constexpr std::string_view kOpStat = "stat";
  static constexpr std::string_view kOpMkdir = "mkdir";
  static constexpr std::string_view kOpRename = "rename";
  static constexpr std::string_view kOpDelete = "delete";  // DeleteAndWait
  static constexpr std::string_view kOpSubmissionId = "submission_id";
  static constexpr std::string_view kOpSubmitTransfer = "submit_transfer";
  static constexpr std::string_view kOpSubmitDelete = "submit_delete";
  static constexpr std::string_view kOpGetTask = "task";
  static constexpr std::string_view kOpTaskEvents = "event_list";
  static constexpr std::string_view kOpCancelTask = "cancel";
  // Task kinds for FailNextTask() and tasks_submitted().
  static constexpr std::string_view kTransfer = "transfer";
  static constexpr std::string_view kDelete = "delete";

  // The tree and the tasks (defined in fake_transfer_internal.h; opaque to
  // users).
  struct Node;
  struct Collection;
  struct Task;

  // A null `clock` means RealClock (used only for latency and new mtimes).
  explicit FakeTransfer(std::shared_ptr<http::Clock> clock = nullptr);
  ~FakeTransfer() override;
  FakeTransfer(const FakeTransfer&) = delete;
  FakeTransfer& operator=(const FakeTransfer&) = delete;

  // --- TransferApi ---
  http::Result<auth::CollectionInfo> GetCollection(const std::string& collection_id) override;
  http::Result<std::vector<FileEntry>> List(const std::string& collection_id,
                                            const std::string& path) override;
  // "/": the fake reads "/~/" as its root (as the emulator does without a
  // home folder).
  http::Result<std::string> HomePath(const std::string& collection_id) override;
  http::Result<FileEntry> Stat(const std::string& collection_id, const std::string& path) override;
  http::Result<void> Mkdir(const std::string& collection_id, const std::string& path) override;
  http::Result<void> Rename(const std::string& collection_id, const std::string& from,
                            const std::string& to) override;
  http::Result<TaskOutcome> DeleteAndWait(const DeleteRequest& request) override;
  // A UUID-shaped id from a counter ("fa4e0000-0000-4000-8000-<n>").
  http::Result<std::string> NewSubmissionId() override;
  http::Result<std::string> SubmitTransfer(const TransferRequest& request) override;
  http::Result<std::string> SubmitDelete(const DeleteRequest& request) override;
  http::Result<TaskStatus> GetTask(const std::string& task_id) override;
  // `limit` is clamped to 1..1000, as TransferClient does.
  http::Result<std::vector<TaskEvent>> GetTaskEvents(const std::string& task_id,
                                                     int limit) override;
  http::Result<void> CancelTask(const std::string& task_id) override;

  // --- setting up state (missing parent directories are created, 0755, as
  // is an unknown collection) ---
  // An empty collection. info.id is set to `id`; an empty entity_type
  // becomes "GCSv5_mapped_collection". Replaces an existing one.
  void AddCollection(const std::string& id, auth::CollectionInfo info = {});
  // Each replaces whatever is at `path`, except that AddDir on an existing
  // directory (or the root) only sets its mtime and mode.
  void AddFile(const std::string& collection_id, const std::string& path, uint64_t size = 0,
               int64_t mtime = 0, uint32_t mode = 0644);
  void AddDir(const std::string& collection_id, const std::string& path, int64_t mtime = 0,
              uint32_t mode = 0755);
  // `type` is what the link is meant to be: kFile or kDir for a valid link
  // (listed as kSymlink or kSymlinkDir with the target's absolute real path,
  // as GCS reports it; one that does not resolve is listed invalid),
  // kInvalidSymlink for a broken one. size, mtime and mode are the reported
  // ones (the target's, for a valid link).
  void AddSymlink(const std::string& collection_id, const std::string& path,
                  const std::string& target, EntryType type, uint64_t size = 0, int64_t mtime = 0,
                  uint32_t mode = 0777);
  // A special file: kCharDevice, kBlockDevice, kPipe or kOther.
  void AddSpecial(const std::string& collection_id, const std::string& path, EntryType type, uint64_t size = 0,
                  int64_t mtime = 0, uint32_t mode = 0644);
  // Removes `path` and everything under it; false if it was not there.
  bool Remove(const std::string& collection_id, const std::string& path);
  // What Stat would answer, without counting a call or applying faults.
  std::optional<FileEntry> Lookup(const std::string& collection_id, const std::string& path) const;
  bool Exists(const std::string& collection_id, const std::string& path) const {
    return Lookup(collection_id, path).has_value();
  }

  // --- test hooks ---
  // Calls made to `op` (one of the kOp* names), failed ones included.
  uint64_t calls(std::string_view op) const;
  void ResetCalls();
  // The next `count` calls of `op` fail with `error` before touching state.
  void FailNext(std::string_view op, http::Error error, int count = 1);
  // Every call of `op` fails with `error` (once the FailNext errors queued
  // for it are used up) until ClearFailures.
  void FailAlways(std::string_view op, http::Error error);
  // Drops the queued and standing errors of `op`; of every op when empty.
  void ClearFailures(std::string_view op = {});
  // Every call sleeps this long (on the clock) before it runs.
  void SetLatency(std::chrono::nanoseconds latency);
  // List of a folder with more than `max_entries` entries answers 502
  // ExternalError.DirListingFailed.SizeLimit, as globus-emulator
  // --max-ls-entries does; 0 (the default): no limit.
  void SetMaxListEntries(size_t max_entries);

  // --- task hooks (see the file comment) ---
  // One attempt of every ACTIVE task; returns how many ran.
  int RunPendingTasks();
  void set_run_tasks_immediately(bool on);
  // The next task created of `kind` (kTransfer or kDelete) ends FAILED with
  // fatal_error {fatal_code, description} at its first attempt, having
  // done nothing. Queued: two calls fail the next two tasks.
  void FailNextTask(std::string_view kind, std::string fatal_code);
  // The next task created of `kind` is suspended at its first attempt:
  // INACTIVE with nice_status `nice_status` (nice_status_short_description
  // its words, "no credentials" for NO_CREDENTIALS) and an error event of
  // that code, for `hold` on the clock; the first attempt after that makes
  // it ACTIVE again (nice_status "OK") and runs it. Its deadline still
  // applies. Queued like FailNextTask.
  void InactivateNextTask(std::string_view kind, std::string nice_status,
                          std::chrono::milliseconds hold);
  // Tasks created of `kind` (duplicates not counted).
  uint64_t tasks_submitted(std::string_view kind) const;

 private:
  Collection* FindLocked(const std::string& id);
  const Collection* FindLocked(const std::string& id) const;
  // Creates the parents of `path` as directories and returns the slot for
  // its last component; null if `path` is the root or not absolute.
  std::unique_ptr<Node>* SlotForSetupLocked(const std::string& collection_id,
                                            const std::string& path);
  int64_t Now() const;
  // Transfer's checks of a submission (after the client-side ones), then
  // the task: created, or the original one for a known submission_id.
  // Sets *created. Runs nothing.
  http::Result<std::string> SubmitLocked(std::unique_ptr<Task> task, bool* created);
  Task* FindTaskLocked(std::string_view task_id);
  // One attempt of an ACTIVE task (no-op otherwise).
  void RunAttemptLocked(Task& task);
  void RunTransferLocked(Task& task);
  void RunDeleteLocked(Task& task);
  void FinishLocked(Task& task, const std::string& status, const std::string& fatal_code,
                    const std::string& fatal_description, TaskEvent event);

  const std::shared_ptr<http::Clock> clock_;
  FakeHooks hooks_;  // calls(), FailNext(), SetLatency()

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, std::unique_ptr<Collection>, std::less<>> collections_;
  uint64_t next_task_ = 1;
  uint64_t next_submission_ = 1;
  std::map<std::string, std::unique_ptr<Task>, std::less<>> tasks_;  // by task id
  std::vector<std::string> task_order_;                              // submission order
  std::map<std::string, std::string, std::less<>> submissions_;      // submission id → task id
  std::map<std::string, std::deque<std::string>, std::less<>> task_failures_;  // by kind
  std::map<std::string, std::deque<std::pair<std::string, std::chrono::milliseconds>>, std::less<>>
      task_holds_;  // InactivateNextTask, by kind
  std::map<std::string, uint64_t, std::less<>> tasks_submitted_;               // by kind
  bool run_tasks_immediately_ = false;
  size_t max_list_entries_ = 0;  // 0: no SizeLimit
};

}  // namespace globusfs::fs
