#include "fs/remote/transfer_client.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "auth/http/url.h"
#include "fs/remote/remote_error.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxLsLimit = 100000;
// Entries compared to tell whether "/~/" is "/" (HomePath).
constexpr int64_t kHomeProbeEntries = 1000;
constexpr int kMaxEventLimit = 1000;  // event_list's largest page

// The first path that cannot be sent, as its InvalidName error.
std::optional<http::Error> CheckAll(std::initializer_list<std::string_view> texts) {
  for (std::string_view text : texts) {
    if (auto bad = CheckPath(text)) return bad;
  }
  return std::nullopt;
}

std::string LastComponent(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  if (path == "/" || path.empty() || path == "/~") return "/";
  const size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// "<prefix> <label>", or "<prefix> <verb> <first path>[ and N more]".
std::string TaskLabel(const std::string& prefix, const std::string& label, const char* verb,
                      const std::string& first, size_t count) {
  if (!label.empty()) return SanitizeLabel(prefix + " " + label);
  std::string text = prefix + " " + verb;
  if (count > 0) text += " " + first;
  if (count > 1) text += " and " + std::to_string(count - 1) + " more";
  return SanitizeLabel(text);
}

}  // namespace

TransferClient::TransferClient(http::HttpClient& http, http::Authorizer* authorizer,
                               std::string transfer_base, std::shared_ptr<http::Clock> clock,
                               TransferClientOptions options)
    : http_(http),
      authorizer_(authorizer),
      base_(transfer_base.ends_with('/') ? std::move(transfer_base) : transfer_base + "/"),
      clock_(clock ? std::move(clock) : std::make_shared<http::RealClock>()),
      options_(std::move(options)) {}

std::string TransferClient::OperationUrl(const std::string& collection_id, const char* op) const {
  return base_ + "v0.10/operation/endpoint/" + http::UrlEncodeComponent(collection_id) + "/" + op;
}

http::Result<auth::CollectionInfo> TransferClient::GetCollection(const std::string& collection_id) {
  if (auto bad = CheckAll({collection_id})) return *bad;
  return auth::FetchCollectionInfo(http_, base_, collection_id, authorizer_);
}

http::Result<std::vector<FileEntry>> TransferClient::List(const std::string& collection_id,
                                                          const std::string& path) {
  if (auto bad = CheckAll({collection_id, path})) return *bad;
  const int64_t limit = std::clamp<int64_t>(options_.ls_page_size, 1, kMaxLsLimit);
  const std::string prefix = OperationUrl(collection_id, "ls") +
                             "?path=" + http::UrlEncodeComponent(path) +
                             "&show_hidden=1&limit=" + std::to_string(limit) + "&offset=";
  std::vector<FileEntry> entries;
  int64_t offset = 0;
  std::string previous_first;  // the first name of the previous full page
  while (true) {
    StreamedListingPage streamed;  // entries made while the page is parsed
    auto body = http_.GetJson(prefix + std::to_string(offset), authorizer_, {}, streamed.Filter());
    if (!body) return std::move(body).error();
    auto page = streamed.Finish(*body);
    if (!page) return std::move(page).error();
    if (offset == 0 && page->total && *page->total > 0) {
      entries.reserve(static_cast<size_t>(std::min<int64_t>(*page->total, 4 * kMaxLsLimit)));
    }
    // A full page that starts where the previous one did: the server
    // ignores offset, and asking on would never end.
    const std::string first = page->entries.empty() ? std::string() : page->entries.front().name;
    if (offset > 0 && !first.empty() && first == previous_first) {
      return http::MakeError(http::ErrorKind::kMalformed,
                             "Transfer answered the same page of " + path + " at offset " +
                                 std::to_string(offset) + " as before it");
    }
    std::move(page->entries.begin(), page->entries.end(), std::back_inserter(entries));
    // Only a short page ends a listing: a full one may be followed by more,
    // whatever `total` says (see ListingComplete).
    if (ListingComplete(page->items, limit)) break;
    previous_first = first;
    offset += page->items;
  }
  std::sort(entries.begin(), entries.end(),
            [](const FileEntry& a, const FileEntry& b) { return a.name < b.name; });
  // A directory that changed between pages can repeat a name: keep the first.
  entries.erase(
      std::unique(entries.begin(), entries.end(),
                  [](const FileEntry& a, const FileEntry& b) { return a.name == b.name; }),
      entries.end());
  return entries;
}

http::Result<std::string> TransferClient::HomePath(const std::string& collection_id) {
  if (auto bad = CheckAll({collection_id})) return *bad;
  const std::string page =
      "&show_hidden=1&limit=" + std::to_string(kHomeProbeEntries) + "&offset=0";
  auto home = http_.GetJson(OperationUrl(collection_id, "ls") + "?path=" +
                                http::UrlEncodeComponent("/~/") + page,
                            authorizer_);
  if (!home) {
    // Transfer unreachable, a login missing: ask again later. A definitive
    // refusal (too large to list, no permission, no such folder): no
    // answer to compare, so Transfer cannot tell.
    if (RetryLater(Classify(home.error()))) return std::move(home).error();
    return std::string();
  }
  if (auto stated = StatedAbsolutePath(*home)) return *stated;
  // Not named (globus-api.md 2.2): "/~/" is "/" if both list the same.
  auto root = http_.GetJson(OperationUrl(collection_id, "ls") + "?path=%2F" + page, authorizer_);
  if (!root) {
    if (RetryLater(Classify(root.error()))) return std::move(root).error();
    return std::string();  // "/" cannot be listed: nothing to compare with
  }
  return SameListing(*home, *root) ? std::string("/") : std::string();
}

http::Result<FileEntry> TransferClient::Stat(const std::string& collection_id,
                                             const std::string& path) {
  if (auto bad = CheckAll({collection_id, path})) return *bad;
  auto body = http_.GetJson(
      OperationUrl(collection_id, "stat") + "?path=" + http::UrlEncodeComponent(path), authorizer_);
  if (!body) return std::move(body).error();
  auto parsed = ParseFileDoc(*body);
  if (!parsed) return std::move(parsed).error();
  if (!parsed->has_value()) {
    http::Error e = http::MakeError(http::ErrorKind::kMalformed,
                                    "stat answered with a file type globusfs does not show");
    e.code = std::string(kUnsupportedTypeCode);
    return e;
  }
  FileEntry entry = std::move(**parsed);
  if (entry.name.empty()) entry.name = LastComponent(path);
  return entry;
}

http::Result<void> TransferClient::Mkdir(const std::string& collection_id,
                                         const std::string& path) {
  if (auto bad = CheckAll({collection_id, path})) return *bad;
  auto r = http_.PostJson(OperationUrl(collection_id, "mkdir"),
                          json{{"DATA_TYPE", "mkdir"}, {"path", path}}, authorizer_);
  if (r) return {};
  http::Error error = std::move(r).error();
  // The first answer was lost and the resend found the folder: it may be
  // our own first attempt that made it. A folder there now is success.
  if (error.resent_after_transport_failure && Classify(error) == RemoteErrc::kExists) {
    auto made = Stat(collection_id, path);
    if (made && made->type == EntryType::kDir) return {};
  }
  return error;
}

http::Result<void> TransferClient::Rename(const std::string& collection_id, const std::string& from,
                                          const std::string& to) {
  if (auto bad = CheckAll({collection_id, from, to})) return *bad;
  auto r = http_.PostJson(OperationUrl(collection_id, "rename"),
                          json{{"DATA_TYPE", "rename"}, {"old_path", from}, {"new_path", to}},
                          authorizer_);
  if (r) return {};
  http::Error error = std::move(r).error();
  // The first answer was lost and the resend found no source: our first
  // attempt may have moved it. The destination there and the source gone
  // is success.
  if (error.resent_after_transport_failure && Classify(error) == RemoteErrc::kNotFound) {
    auto source = Stat(collection_id, from);
    const bool source_gone = !source && source.error().code != kUnsupportedTypeCode &&
                             Classify(source.error()) == RemoteErrc::kNotFound;
    if (source_gone && Stat(collection_id, to)) return {};
  }
  return error;
}

std::string TransferClient::TaskUrl(const std::string& task_id, const char* suffix) const {
  return base_ + "v0.10/task/" + http::UrlEncodeComponent(task_id) + suffix;
}

http::Result<std::string> TransferClient::NewSubmissionId() {
  auto body = http_.GetJson(base_ + "v0.10/submission_id", authorizer_);
  if (!body) return std::move(body).error();
  const auto it = body->is_object() ? body->find("value") : body->end();
  if (it == body->end() || !it->is_string() || it->get_ref<const std::string&>().empty()) {
    return http::MakeError(http::ErrorKind::kMalformed, "Transfer sent no submission id");
  }
  return it->get<std::string>();
}

http::Result<std::string> TransferClient::SubmitTransfer(const TransferRequest& request) {
  if (auto bad = CheckSubmissionId(request.submission_id)) return *bad;
  if (auto bad = CheckAll(
          {request.source_collection, request.destination_collection, request.deadline})) {
    return *bad;
  }
  for (const TransferItem& item : request.items) {
    if (auto bad = CheckAll({item.source_path, item.destination_path})) return *bad;
  }
  const std::string label =
      TaskLabel(options_.task_label_prefix, request.label, "cp",
                request.items.empty() ? "" : request.items.front().source_path,
                request.items.size());
  // A POST the HTTP core resends after a lost answer carries the same
  // submission_id: Transfer answers "Duplicate" with the original task.
  auto result = http_.PostJson(base_ + "v0.10/transfer", BuildTransferDocument(request, label),
                               authorizer_);
  if (!result) return std::move(result).error();
  return ParseSubmissionResult(*result);
}

http::Result<std::string> TransferClient::SubmitDelete(const DeleteRequest& request) {
  if (auto bad = CheckSubmissionId(request.submission_id)) return *bad;
  if (auto bad = CheckAll({request.collection_id})) return *bad;
  for (const std::string& path : request.paths) {
    if (auto bad = CheckPath(path)) return *bad;
  }
  const std::string label =
      TaskLabel(options_.task_label_prefix, request.label, "rm",
                request.paths.empty() ? "" : request.paths.front(), request.paths.size());
  auto result =
      http_.PostJson(base_ + "v0.10/delete", BuildDeleteDocument(request, label), authorizer_);
  if (!result) return std::move(result).error();
  return ParseSubmissionResult(*result);
}

http::Result<TaskOutcome> TransferClient::DeleteAndWait(const DeleteRequest& request) {
  // Everything is checked before the first request, so a refused delete
  // sends nothing (not even GET /submission_id).
  if (auto bad = CheckAll({request.collection_id})) return *bad;
  for (const std::string& path : request.paths) {
    if (auto bad = CheckPath(path)) return *bad;
  }
  DeleteRequest submit = request;
  if (submit.submission_id.empty()) {
    auto submission_id = NewSubmissionId();
    if (!submission_id) return std::move(submission_id).error();
    submit.submission_id = std::move(*submission_id);
  }
  auto task_id = SubmitDelete(submit);
  if (!task_id) return std::move(task_id).error();
  return WaitForTask(*task_id);
}

http::Result<TaskStatus> TransferClient::GetTask(const std::string& task_id) {
  if (auto bad = CheckTaskId(task_id)) return *bad;
  auto body = http_.GetJson(TaskUrl(task_id), authorizer_);
  if (!body) return std::move(body).error();
  auto status = ParseTaskStatus(*body);
  if (status && status->task_id.empty()) status->task_id = task_id;
  return status;
}

http::Result<std::vector<TaskEvent>> TransferClient::GetTaskEvents(const std::string& task_id,
                                                                   int limit) {
  if (auto bad = CheckTaskId(task_id)) return *bad;
  const int clamped = std::clamp(limit, 1, kMaxEventLimit);
  auto body = http_.GetJson(TaskUrl(task_id, "/event_list") +
                                "?limit=" + std::to_string(clamped) + "&offset=0",
                            authorizer_);
  if (!body) return std::move(body).error();
  return ParseTaskEvents(*body);
}

http::Result<void> TransferClient::CancelTask(const std::string& task_id) {
  if (auto bad = CheckTaskId(task_id)) return *bad;
  // Transfer answers "Canceled", or "TaskComplete" for a task that had
  // already ended: both mean the task is no longer running. Any other 2xx
  // is taken as success as well; errors (404, ...) come back as errors.
  auto result = http_.PostJson(TaskUrl(task_id, "/cancel"), json::object(), authorizer_);
  if (!result) return std::move(result).error();
  return {};
}

http::Result<TaskOutcome> TransferClient::WaitForTask(const std::string& task_id) {
  using std::chrono::milliseconds;
  const auto start = clock_->Now();
  const milliseconds timeout = options_.task_wait_timeout;
  const milliseconds max_sleep = std::max(options_.task_poll_max, milliseconds(1));
  milliseconds sleep = std::clamp(options_.task_poll_initial, milliseconds(1), max_sleep);
  const std::string url = TaskUrl(task_id);
  std::string last = "ACTIVE";  // what the last poll said, for the timeout's message
  while (true) {
    milliseconds nap = sleep;
    if (timeout.count() > 0) {
      const auto elapsed = std::chrono::duration_cast<milliseconds>(clock_->Now() - start);
      if (elapsed >= timeout) {
        return http::MakeError(http::ErrorKind::kTimeout,
                               "delete task " + task_id + " still " + last + " after " +
                                   std::to_string(timeout.count()) + " ms");
      }
      nap = std::min(nap, timeout - elapsed);
    }
    clock_->SleepFor(nap);
    sleep = std::min(sleep * 2, max_sleep);

    auto body = http_.GetJson(url, authorizer_);
    if (!body) return std::move(body).error();
    auto st = ParseTaskStatus(*body);
    if (!st) return std::move(st).error();
    // Only SUCCEEDED and FAILED end the wait: an INACTIVE task (suspended,
    // e.g. expired credentials) can still run, and its delete still happen.
    if (st->done()) {
      return TaskOutcome{task_id, std::move(st->status), std::move(st->fatal_code),
                         std::move(st->fatal_description)};
    }
    last = st->status;
    if (!st->nice_status.empty()) last += " (" + st->nice_status + ")";
  }
}

}  // namespace globusfs::fs
