// TransferApi: the namespace operations globusfs needs from Globus Transfer,
// as an interface so the filesystem core can run on an in-process fake in
// unit tests and on the real libcurl client (TransferClient) in production.
//
// Paths are collection paths as Transfer takes them ("/~/a/b", "/data/x"):
// absolute, '/'-separated, no trailing slash except the root "/" or "/~/".
// Every method blocks until the service has answered (retries for 429/5xx
// and the 401 refresh happen inside the real client); failures come back as
// http::Error, which Classify() (remote_error.h) reduces to a RemoteErrc.
//
// Thread-safety: implementations must allow concurrent calls.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "auth/collection_info.h"
#include "auth/http/result.h"
#include "cache/file_entry.h"

namespace globusfs::fs {

using cache::EntryType;
using cache::FileEntry;

struct DeleteRequest {
  std::string collection_id;
  std::vector<std::string> paths;
  bool recursive = false;  // must be true if any path is a directory
  bool ignore_missing = true;
  std::string label;
  std::string submission_id;  // SubmitDelete: required (recorded before sending)
};

struct TransferItem {
  std::string source_path;
  std::string destination_path;  // the full destination path (not its folder)
  bool recursive = false;        // a folder
};

struct TransferRequest {
  std::string submission_id;  // required: recorded in the journal before sending
  std::string source_collection;
  std::string destination_collection;
  std::vector<TransferItem> items;
  std::string label;
  bool verify_checksum = true;
  bool preserve_timestamp = true;
  // Absolute deadline ("YYYY-MM-DD HH:MM:SS+00:00"); empty = the service default.
  std::string deadline;
};

// A task as GET /task/{id} reports it (the fields globusfs uses).
struct TaskStatus {
  std::string task_id;
  std::string type;    // "TRANSFER" or "DELETE"
  std::string status;  // ACTIVE, INACTIVE, SUCCEEDED, FAILED
  std::string fatal_code, fatal_description;
  // Why a task in progress is not going well ("Queued", "OK", or a code such
  // as PERMISSION_DENIED); "" once it has ended (null in the document).
  std::string nice_status, nice_status_short_description;
  int64_t faults = 0;
  int64_t files = 0, files_transferred = 0, files_skipped = 0;
  int64_t bytes_transferred = 0;
  double effective_bytes_per_second = 0;  // Transfer's own rate figure
  int64_t subtasks_total = 0, subtasks_succeeded = 0, subtasks_pending = 0, subtasks_failed = 0;
  std::string label;
  // Only SUCCEEDED and FAILED are final (globus-api.md §2.9). INACTIVE is a
  // task suspended until someone acts (expired credentials on an endpoint,
  // a pause): it may still run and finish, so it is in progress, like
  // ACTIVE (and like any status this client does not know).
  bool done() const { return status == "SUCCEEDED" || status == "FAILED"; }
  bool inactive() const { return status == "INACTIVE"; }
};

struct TaskEvent {
  std::string code;  // FILE_NOT_FOUND, PERMISSION_DENIED, STARTED, ...
  std::string description;
  std::string details;
  bool is_error = false;
  std::string time;
};

// The end state of a task globusfs waited for.
struct TaskOutcome {
  std::string task_id;
  std::string status;       // "SUCCEEDED" or "FAILED" (a final status, never INACTIVE)
  std::string fatal_code;   // fatal_error.code when FAILED, e.g. "FILE_NOT_FOUND"
  std::string fatal_description;
  bool succeeded() const { return status == "SUCCEEDED"; }
};

class TransferApi {
 public:
  virtual ~TransferApi() = default;

  // GET /endpoint/{id}.
  virtual http::Result<auth::CollectionInfo> GetCollection(const std::string& collection_id) = 0;

  // The whole listing of a directory (all pages), sorted by name, hidden
  // files included. Errors: NotFound, NotDirectory, permission, auth
  // requirements, ...
  virtual http::Result<std::vector<FileEntry>> List(const std::string& collection_id,
                                                    const std::string& path) = 0;

  // What "/~/" (the user's home folder on the collection) is, as an
  // absolute path without '~' ("/home/ada", "/" for the collection's root),
  // as far as Transfer tells; "" when it cannot be told. The HTTPS servers
  // need it (fs/remote/home_paths.h). Blocks on one or two ls requests.
  // Errors: only what may pass (Transfer unreachable, an authentication
  // requirement: RetryLater); a folder Transfer refuses to list is "".
  virtual http::Result<std::string> HomePath(const std::string& collection_id) = 0;

  // One entry (Transfer's stat operation); name is the last component.
  virtual http::Result<FileEntry> Stat(const std::string& collection_id, const std::string& path) = 0;

  // Not recursive: the parent must exist.
  virtual http::Result<void> Mkdir(const std::string& collection_id, const std::string& path) = 0;

  // The target must not exist (Transfer never overwrites).
  virtual http::Result<void> Rename(const std::string& collection_id, const std::string& from,
                                    const std::string& to) = 0;

  // Submits a delete task (with the request's submission_id, or a fresh one
  // when it has none) and waits for it to end (SUCCEEDED or FAILED: an
  // INACTIVE task is waited for like an ACTIVE one). A task that ends FAILED
  // is returned as a TaskOutcome, not an error; errors are for the
  // submission or the polling itself, and for a wait that reached its bound
  // (kTimeout: the task is left running at Globus).
  virtual http::Result<TaskOutcome> DeleteAndWait(const DeleteRequest& request) = 0;

  // --- tasks, for batched copies and deletes (no waiting here) ---
  // GET /submission_id.
  virtual http::Result<std::string> NewSubmissionId() = 0;
  // POST /transfer and /delete with the request's submission_id; returns the
  // task id. "Duplicate" (the id was accepted before) is success with the
  // original task id, so a replayed submission never runs twice.
  virtual http::Result<std::string> SubmitTransfer(const TransferRequest& request) = 0;
  virtual http::Result<std::string> SubmitDelete(const DeleteRequest& request) = 0;
  virtual http::Result<TaskStatus> GetTask(const std::string& task_id) = 0;
  // Newest first, at most `limit`.
  virtual http::Result<std::vector<TaskEvent>> GetTaskEvents(const std::string& task_id, int limit) = 0;
  // POST /task/{id}/cancel; a task already finished is not an error.
  virtual http::Result<void> CancelTask(const std::string& task_id) = 0;
};

}  // namespace globusfs::fs
