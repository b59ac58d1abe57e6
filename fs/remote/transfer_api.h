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
};

// The end state of a task globusfs waited for.
struct TaskOutcome {
  std::string task_id;
  std::string status;       // "SUCCEEDED" or "FAILED" (or "INACTIVE")
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

  // One entry (Transfer's stat operation); name is the last component.
  virtual http::Result<FileEntry> Stat(const std::string& collection_id, const std::string& path) = 0;

  // Not recursive: the parent must exist.
  virtual http::Result<void> Mkdir(const std::string& collection_id, const std::string& path) = 0;

  // The target must not exist (Transfer never overwrites).
  virtual http::Result<void> Rename(const std::string& collection_id, const std::string& from,
                                    const std::string& to) = 0;

  // Submits a delete task (with a fresh submission_id) and waits for it to
  // end. A task that ends FAILED is returned as a TaskOutcome, not an
  // error; errors are for the submission or the polling itself.
  virtual http::Result<TaskOutcome> DeleteAndWait(const DeleteRequest& request) = 0;
};

}  // namespace globusfs::fs
