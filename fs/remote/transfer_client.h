// TransferClient: the real TransferApi, speaking Transfer v0.10 over the
// shared libcurl HttpClient (globus-api.md §2).
//
// What it adds to the HTTP core (which does retries of 429/5xx/network
// failures and the 401 refresh):
//   - ls paging: limit/offset pages until a short (or empty) page; a full
//     page is always followed by another request, whatever `total` says
//     (ListingComplete), and a server that answers the same full page
//     again (it ignores offset) is a kMalformed error, not an endless loop;
//   - tolerant parsing of file documents (transfer_json.h), sorted by name;
//   - HomePath: one page of ls "/~/": its absolute_path, or its path, when
//     that is an absolute path without '~' (the recorded answers give
//     neither: "path": "/~/", "absolute_path": null); else one page of ls
//     "/" with the same limit: the same total and DATA, item for item, mean
//     "/~/" is the root ("/"); else "" (Transfer cannot tell). A "/~/" or
//     "/" that cannot be listed (too large, no permission) is "" too; if
//     Transfer is unreachable or a login is missing, the error.
//   - task submissions (SubmitTransfer, SubmitDelete) with the caller's
//     submission_id: the HTTP core resends a POST whose answer was lost
//     with the same body, so Transfer answers "Duplicate" (200) with the
//     original task id; that is success exactly like "Accepted" (202).
//     Labels are "<prefix> cp <first source>" / "<prefix> rm <first path>"
//     (or "<prefix> <label>"), passed through SanitizeLabel;
//     every notify_on_* flag is false.
//   - DeleteAndWait: SubmitDelete (with a fresh submission_id unless the
//     request carries one), then polling GET /task/{id} with doubling
//     sleeps on the injected Clock until the status is final (SUCCEEDED or
//     FAILED; an INACTIVE task is still in progress), or until
//     task_wait_timeout (a kTimeout error naming the last status; the task
//     is left running).
//   - CancelTask: both "Canceled" and "TaskComplete" answers are success.
//   - Mkdir and Rename are not idempotent, yet the HTTP core resends them
//     when an answer is lost: when the resend (after a transport failure)
//     answers Exists (mkdir) or NotFound (rename), a Stat checks whether the
//     first attempt took effect (the folder exists as a dir; the source is
//     gone and the destination exists) and reports success if so, else the
//     resend's error.
//   - every path is checked before it goes into a URL or a JSON body: a path
//     that is not valid UTF-8 (or holds NUL) is a kConfig "InvalidName"
//     error, never a mangled request.
// Errors carry what the HTTP core gave them; no token is ever put in one.
//
// Thread-safety: all methods may be called concurrently (the HttpClient is
// thread-safe; this class has no mutable state). The HttpClient and the
// Authorizer are not owned and must outlive the client.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "auth/http/clock.h"
#include "auth/http/http_client.h"
#include "fs/remote/transfer_api.h"

namespace globusfs::fs {

struct TransferClientOptions {
  // Items per ls request: 1..100000 (the API's maximum and default).
  int64_t ls_page_size = 100000;
  // Task polling: first sleep, doubled after each ACTIVE answer up to the max.
  std::chrono::milliseconds task_poll_initial{200};
  std::chrono::milliseconds task_poll_max{2000};
  // How long DeleteAndWait waits for a task to end; 0 = forever.
  std::chrono::milliseconds task_wait_timeout{std::chrono::minutes(10)};
  // Task labels read "<prefix> cp <path>", "<prefix> rm <path>" or
  // "<prefix> <request label>" (see SanitizeLabel).
  std::string task_label_prefix = "globusfs";
};

class TransferClient final : public TransferApi {
 public:
  // `transfer_base` ends with '/' (e.g. "https://transfer.api.globus.org/").
  // `authorizer` is for the Transfer resource server
  // (TokenSource::AuthorizerFor("transfer.api.globus.org")). A null `clock`
  // means RealClock.
  TransferClient(http::HttpClient& http, http::Authorizer* authorizer, std::string transfer_base,
                 std::shared_ptr<http::Clock> clock, TransferClientOptions options = {});

  http::Result<auth::CollectionInfo> GetCollection(const std::string& collection_id) override;
  http::Result<std::vector<FileEntry>> List(const std::string& collection_id,
                                            const std::string& path) override;
  http::Result<std::string> HomePath(const std::string& collection_id) override;
  http::Result<FileEntry> Stat(const std::string& collection_id, const std::string& path) override;
  http::Result<void> Mkdir(const std::string& collection_id, const std::string& path) override;
  http::Result<void> Rename(const std::string& collection_id, const std::string& from,
                            const std::string& to) override;
  http::Result<TaskOutcome> DeleteAndWait(const DeleteRequest& request) override;

  http::Result<std::string> NewSubmissionId() override;
  http::Result<std::string> SubmitTransfer(const TransferRequest& request) override;
  http::Result<std::string> SubmitDelete(const DeleteRequest& request) override;
  http::Result<TaskStatus> GetTask(const std::string& task_id) override;
  // `limit` is clamped to 1..1000 (event_list's page limits).
  http::Result<std::vector<TaskEvent>> GetTaskEvents(const std::string& task_id,
                                                     int limit) override;
  http::Result<void> CancelTask(const std::string& task_id) override;

  const TransferClientOptions& options() const { return options_; }

 private:
  // base + "v0.10/operation/endpoint/{id}/{op}".
  std::string OperationUrl(const std::string& collection_id, const char* op) const;
  // base + "v0.10/task/{id}" + suffix.
  std::string TaskUrl(const std::string& task_id, const char* suffix = "") const;
  http::Result<TaskOutcome> WaitForTask(const std::string& task_id);

  http::HttpClient& http_;
  http::Authorizer* const authorizer_;
  const std::string base_;
  const std::shared_ptr<http::Clock> clock_;
  const TransferClientOptions options_;
};

}  // namespace globusfs::fs
