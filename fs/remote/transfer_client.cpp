#include "fs/remote/transfer_client.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "auth/http/url.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxLsLimit = 100000;

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

std::string DefaultLabel(const std::string& prefix, const DeleteRequest& request) {
  if (!request.label.empty()) return prefix + " " + request.label;
  std::string label = prefix + " rm";
  if (!request.paths.empty()) label += " " + request.paths.front();
  if (request.paths.size() > 1) {
    label += " and " + std::to_string(request.paths.size() - 1) + " more";
  }
  return label;
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
  while (true) {
    auto body = http_.GetJson(prefix + std::to_string(offset), authorizer_);
    if (!body) return std::move(body).error();
    auto page = ParseListingPage(*body);
    if (!page) return std::move(page).error();
    std::move(page->entries.begin(), page->entries.end(), std::back_inserter(entries));
    if (ListingComplete(offset, page->items, page->total, limit)) break;
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
  if (!r) return std::move(r).error();
  return {};
}

http::Result<void> TransferClient::Rename(const std::string& collection_id, const std::string& from,
                                          const std::string& to) {
  if (auto bad = CheckAll({collection_id, from, to})) return *bad;
  auto r = http_.PostJson(OperationUrl(collection_id, "rename"),
                          json{{"DATA_TYPE", "rename"}, {"old_path", from}, {"new_path", to}},
                          authorizer_);
  if (!r) return std::move(r).error();
  return {};
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

http::Result<TaskOutcome> TransferClient::DeleteAndWait(const DeleteRequest& request) {
  if (auto bad = CheckAll({request.collection_id})) return *bad;
  json items = json::array();
  for (const auto& path : request.paths) {
    if (auto bad = CheckPath(path)) return *bad;
    items.push_back({{"DATA_TYPE", "delete_item"}, {"path", path}});
  }
  auto submission_id = NewSubmissionId();
  if (!submission_id) return std::move(submission_id).error();
  const json doc = {
      {"DATA_TYPE", "delete"},
      {"submission_id", *submission_id},
      {"endpoint", request.collection_id},
      {"recursive", request.recursive},
      {"ignore_missing", request.ignore_missing},
      {"interpret_globs", false},
      {"notify_on_succeeded", false},
      {"notify_on_failed", false},
      {"notify_on_inactive", false},
      {"label", SanitizeLabel(DefaultLabel(options_.task_label_prefix, request))},
      {"DATA", std::move(items)},
  };
  // A POST retried by the HTTP core after a lost answer carries the same
  // submission_id, so Transfer answers "Duplicate" with the original task:
  // that is success too.
  auto result = http_.PostJson(base_ + "v0.10/delete", doc, authorizer_);
  if (!result) return std::move(result).error();
  const auto task_id = result->is_object() ? result->find("task_id") : result->end();
  if (task_id == result->end() || !task_id->is_string() ||
      task_id->get_ref<const std::string&>().empty()) {
    return http::MakeError(http::ErrorKind::kMalformed,
                           "Transfer accepted a delete without naming its task");
  }
  return WaitForTask(task_id->get<std::string>());
}

http::Result<TaskOutcome> TransferClient::WaitForTask(const std::string& task_id) {
  using std::chrono::milliseconds;
  const auto start = clock_->Now();
  const milliseconds timeout = options_.task_wait_timeout;
  const milliseconds max_sleep = std::max(options_.task_poll_max, milliseconds(1));
  milliseconds sleep = std::clamp(options_.task_poll_initial, milliseconds(1), max_sleep);
  const std::string url = base_ + "v0.10/task/" + http::UrlEncodeComponent(task_id);
  while (true) {
    milliseconds nap = sleep;
    if (timeout.count() > 0) {
      const auto elapsed = std::chrono::duration_cast<milliseconds>(clock_->Now() - start);
      if (elapsed >= timeout) {
        return http::MakeError(http::ErrorKind::kTimeout,
                               "delete task " + task_id + " still ACTIVE after " +
                                   std::to_string(timeout.count()) + " ms");
      }
      nap = std::min(nap, timeout - elapsed);
    }
    clock_->SleepFor(nap);
    sleep = std::min(sleep * 2, max_sleep);

    auto body = http_.GetJson(url, authorizer_);
    if (!body) return std::move(body).error();
    auto outcome = ParseTaskDoc(*body);
    if (!outcome) return std::move(outcome).error();
    if (outcome->status != "ACTIVE") {
      outcome->task_id = task_id;
      return outcome;
    }
  }
}

}  // namespace globusfs::fs
