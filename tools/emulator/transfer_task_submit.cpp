// POST /v0.10/transfer and /v0.10/delete (globus-api.md §2.7, §2.8): the
// submission checked and normalised as Transfer does, the task document it
// starts with (§2.9), submission-id deduplication ("Duplicate" with the
// original task id), and the task queued for the worker. See
// transfer_tasks.h.
#include <algorithm>
#include <cctype>
#include <cstdio>

#include "emulator.h"
#include "paths.h"
#include "transfer_listing.h"
#include "transfer_tasks.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;

// A deadline in any ISO 8601 offset: ParseTime reads the wall-clock
// fields, then a trailing "+HH:MM" / "-HH:MM" moves them to UTC.
int64_t ParseDeadline(const std::string& s) {
  int64_t t = ParseTime(s);
  if (t < 0 || s.size() <= 19) return t;
  std::string tail = s.substr(s.size() - 6);
  auto digit = [&](size_t i) { return std::isdigit(static_cast<unsigned char>(tail[i])) != 0; };
  if ((tail[0] == '+' || tail[0] == '-') && tail[3] == ':' && digit(1) && digit(2) && digit(4) &&
      digit(5)) {
    int64_t off = ((tail[1] - '0') * 600 + (tail[2] - '0') * 60 + (tail[4] - '0') * 10 +
                   (tail[5] - '0')) * 60;
    t += tail[0] == '+' ? -off : off;
  }
  return t;
}

namespace {

constexpr int64_t kDefaultDeadlineS = 24 * 3600;

Response BadRequest(const Request& req, const std::string& message) {
  return GlobusError(req, 400, "ClientError.BadRequest", message);
}

std::string DisplayName(const Collection& c) {
  return c.display_name.empty() ? c.name : c.display_name;
}

// "active,2021-01-15T18:13:10.478759", as in the §2.9 fixture.
std::string TaskKey(int64_t ms) {
  std::string iso = IsoTime(ms / 1000);
  iso.resize(iso.size() - 6);  // drop "+00:00"
  char frac[16];
  std::snprintf(frac, sizeof(frac), ".%06lld", static_cast<long long>(ms % 1000) * 1000);
  return "active," + iso + frac;
}

// Reads an optional member of `body` into `out` (normalised into `r`).
// Returns false with *error on a value of the wrong type.
bool OptBool(const json& body, const char* key, bool fallback, json* r, std::string* error) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    (*r)[key] = fallback;
  } else if (it->is_boolean()) {
    (*r)[key] = *it;
  } else {
    *error = std::string("'") + key + "' must be a boolean";
    return false;
  }
  return true;
}

// label and deadline (shared by transfer and delete). Returns the deadline.
std::optional<int64_t> LabelAndDeadline(const json& body, int64_t now, json* r,
                                        std::string* error) {
  json label = body.value("label", json());
  if (!label.is_null() && !label.is_string()) {
    *error = "'label' must be a string";
    return std::nullopt;
  }
  (*r)["label"] = label;
  json dl = body.value("deadline", json());
  int64_t deadline = now + kDefaultDeadlineS;
  if (!dl.is_null()) {
    deadline = dl.is_string() ? ParseDeadline(dl.get<std::string>()) : -1;
    if (deadline < 0) {
      *error = "Invalid deadline: expected an ISO 8601 time such as 2021-01-15T18:13:10+00:00";
      return std::nullopt;
    }
  }
  (*r)["deadline"] = IsoTime(deadline);
  return deadline;
}

// Validates and normalises the transfer-only options.
bool TransferOptions(const json& body, json* r, std::string* error) {
  for (const char* key : {"verify_checksum", "preserve_timestamp", "encrypt_data",
                          "skip_source_errors", "fail_on_quota_errors",
                          "delete_destination_extra"}) {
    if (!OptBool(body, key, false, r, error)) return false;
  }
  json sync = body.value("sync_level", json());
  if (sync.is_string()) {
    static const std::vector<std::string> kWords = {"exists", "size", "mtime", "checksum"};
    auto it = std::find(kWords.begin(), kWords.end(), sync.get<std::string>());
    if (it == kWords.end()) {
      *error = "Invalid sync_level '" + sync.get<std::string>() + "'";
      return false;
    }
    sync = static_cast<int>(it - kWords.begin());
  } else if (!sync.is_null() && (!sync.is_number_integer() || sync.get<int>() < 0 ||
                                 sync.get<int>() > 3)) {
    *error = "Invalid sync_level: must be 0, 1, 2 or 3";
    return false;
  }
  (*r)["sync_level"] = sync;
  json links = body.value("recursive_symlinks", json("ignore"));
  if (!links.is_string() || (links != "ignore" && links != "keep" && links != "copy")) {
    *error = "Invalid recursive_symlinks: must be ignore, keep or copy";
    return false;
  }
  (*r)["recursive_symlinks"] = links;
  json rules = body.value("filter_rules", json());
  if (!rules.is_null()) {
    if (!rules.is_array()) {
      *error = "'filter_rules' must be a list";
      return false;
    }
    for (const auto& rule : rules) {
      json type = rule.is_object() ? rule.value("type", json()) : json();
      bool ok = rule.is_object() && rule.value("name", json()).is_string() &&
                (rule.value("method", json()) == "include" ||
                 rule.value("method", json()) == "exclude") &&
                (type.is_null() || type == "file" || type == "dir");
      if (!ok) {
        *error = "Invalid filter rule: needs method include|exclude, a name glob, "
                 "and an optional type file|dir";
        return false;
      }
    }
  }
  (*r)["filter_rules"] = rules;
  return true;
}

// Validates each DATA item (an empty DATA is handled by the caller).
bool ValidateItems(const json& data, bool is_delete, std::string* error) {
  for (const auto& item : data) {
    const char* type = is_delete ? "delete_item" : "transfer_item";
    if (!item.is_object() || item.value("DATA_TYPE", json()) != type) {
      *error = std::string("Each item in DATA must be a ") + type + " document";
      return false;
    }
    std::vector<const char*> keys = is_delete ? std::vector<const char*>{"path"}
                                              : std::vector<const char*>{"source_path",
                                                                         "destination_path"};
    for (const char* key : keys) {
      json v = item.value(key, json());
      if (!v.is_string() || !NormalisePath(v.get<std::string>())) {
        *error = std::string("Invalid ") + key + ": " + (v.is_string() ? v.get<std::string>() : "missing") +
                 " (paths must be absolute)";
        return false;
      }
    }
    json rec = item.value("recursive", json());
    if (!is_delete && !rec.is_null() && !rec.is_boolean()) {
      *error = "'recursive' must be a boolean";
      return false;
    }
  }
  return true;
}

// The task document at submission (§2.9).
json NewTaskDoc(const std::string& id, bool is_delete, const json& r, const AccessToken& token,
                const std::string& username, const Collection& src, const Collection* dst,
                int64_t now_ms) {
  int64_t items = static_cast<int64_t>(r["DATA"].size());
  json doc = {{"DATA_TYPE", "task"},
              {"task_id", id},
              {"type", is_delete ? "DELETE" : "TRANSFER"},
              {"status", "ACTIVE"},
              {"is_ok", true},
              {"is_paused", false},
              {"nice_status", "Queued"},
              {"nice_status_short_description", "Queued"},
              {"nice_status_details", nullptr},
              {"nice_status_expires_in", -1},
              {"fatal_error", nullptr},
              {"faults", 0},
              {"label", r["label"]},
              {"command", "API 0.10"},
              {"owner_id", token.sub},
              {"username", username},
              {"request_time", IsoTime(now_ms / 1000)},
              {"completion_time", nullptr},
              {"deadline", r["deadline"]},
              {"source_endpoint", CanonicalName(src)},
              {"source_endpoint_id", src.id},
              {"source_endpoint_display_name", DisplayName(src)},
              {"destination_endpoint", dst ? json(CanonicalName(*dst)) : json()},
              {"destination_endpoint_id", dst ? json(dst->id) : json()},
              {"destination_endpoint_display_name", dst ? json(DisplayName(*dst)) : json()},
              // A queued delete counts its items as files (§2.9 fixture); a
              // transfer counts what it finds when it runs (globus-cli #1056).
              {"files", is_delete ? items : 0},
              {"directories", 0},
              {"symlinks", 0},
              {"files_transferred", 0},
              {"files_skipped", 0},
              {"bytes_transferred", 0},
              {"bytes_checksummed", 0},
              {"effective_bytes_per_second", 0},
              {"subtasks_total", items},
              {"subtasks_pending", items},
              {"subtasks_succeeded", 0},
              {"subtasks_failed", 0},
              {"subtasks_retrying", 0},
              {"subtasks_canceled", 0},
              {"subtasks_expired", 0},
              {"subtasks_skipped_errors", 0},
              {"sync_level", is_delete ? json() : r["sync_level"]},
              {"verify_checksum", is_delete ? json(false) : r["verify_checksum"]},
              {"preserve_timestamp", is_delete ? json(false) : r["preserve_timestamp"]},
              {"encrypt_data", is_delete ? json(false) : r["encrypt_data"]},
              {"delete_destination_extra", is_delete ? json(false) : r["delete_destination_extra"]},
              {"recursive_symlinks", is_delete ? json() : r["recursive_symlinks"]},
              {"canceled_by_admin", nullptr},
              {"canceled_by_admin_message", nullptr},
              {"history_deleted", false},
              {"key", TaskKey(now_ms)},
              {"skip_source_errors", is_delete ? json(false) : r["skip_source_errors"]},
              {"fail_on_quota_errors", is_delete ? json(false) : r["fail_on_quota_errors"]},
              {"filter_rules", is_delete ? json() : r["filter_rules"]}};
  return doc;
}

}  // namespace

Response TaskRunner::Submit(Request& req, const AccessToken& token, bool is_delete,
                            const AccessCheck& check) {
  const std::string kind = is_delete ? "delete" : "transfer";
  auto body = ReadJsonObject(req);
  if (!body) return BadRequest(req, "The request body must be a JSON object");
  if (body->value("DATA_TYPE", json()) != kind) {
    return BadRequest(req, "Expected DATA_TYPE '" + kind + "'");
  }
  json sid = body->value("submission_id", json());
  if (!sid.is_string() || !LooksLikeUuid(sid.get<std::string>())) {
    return BadRequest(req, "A valid submission_id is required (GET /v0.10/submission_id)");
  }
  std::vector<Collection> cols;
  for (const char* key : is_delete ? std::vector<const char*>{"endpoint"}
                                   : std::vector<const char*>{"source_endpoint",
                                                              "destination_endpoint"}) {
    json v = body->value(key, json());
    if (!v.is_string()) return BadRequest(req, std::string("'") + key + "' is required");
    auto c = emu_.FindCollection(v.get<std::string>());
    if (!c) {
      return GlobusError(req, 404, "EndpointNotFound",
                         "No such endpoint '" + v.get<std::string>() + "'");
    }
    cols.push_back(*c);
  }
  json data = body->value("DATA", json::array());
  if (!data.is_array()) return BadRequest(req, "'DATA' must be a list");
  if (data.empty()) {
    return is_delete ? GlobusError(req, 400, "ClientError.BadRequest.NoDeleteItems",
                                   "A delete requires at least one item")
                     : GlobusError(req, 400, "ClientError.BadRequest.NoTransferItems",
                                   "A transfer requires at least one item");
  }
  std::string error;
  if (!ValidateItems(data, is_delete, &error)) return BadRequest(req, error);

  int64_t now_ms = NowEpochMs();
  json r = {{"DATA_TYPE", kind}, {"submission_id", sid}, {"DATA", data}};
  auto deadline = LabelAndDeadline(*body, now_ms / 1000, &r, &error);
  if (!deadline) return BadRequest(req, error);
  for (const char* key : {"notify_on_succeeded", "notify_on_failed", "notify_on_inactive"}) {
    if (!OptBool(*body, key, true, &r, &error)) return BadRequest(req, error);
  }
  if (is_delete) {
    r["endpoint"] = cols[0].id;
    for (const char* key : {"recursive", "ignore_missing", "interpret_globs"}) {
      if (!OptBool(*body, key, false, &r, &error)) return BadRequest(req, error);
    }
  } else {
    r["source_endpoint"] = cols[0].id;
    r["destination_endpoint"] = cols[1].id;
    if (!TransferOptions(*body, &r, &error)) return BadRequest(req, error);
  }
  for (const char* key : {"local_user", "source_local_user", "destination_local_user"}) {
    if (body->contains(key)) r[key] = (*body)[key];
  }
  for (const auto& c : cols) {
    if (auto denied = check(c)) return *denied;
  }

  std::string task_id = NewUuid();
  const Identity* who = emu_.FindIdentity(token.sub);
  Task task;
  task.doc = NewTaskDoc(task_id, is_delete, r, token, who ? who->username : token.sub, cols[0],
                        is_delete ? nullptr : &cols[1], now_ms);
  size_t n = data.size();
  r["_emulator"] = {{"done", std::vector<bool>(n, false)},
                    {"expanded", std::vector<bool>(n, false)},
                    {"item_dirs", std::vector<int64_t>(n, 0)},
                    {"completed", json::array()},
                    {"successful", json::array()},
                    {"next_attempt_ms", 0},
                    {"started", false}};
  task.request = std::move(r);
  task.run_after_ms = now_ms + emu_.config().task_delay_ms;
  task.deadline = *deadline;
  task.owner_sub = token.sub;

  std::string submission = sid.get<std::string>();
  auto original = emu_.state().With([&](StateData& d) -> std::optional<std::string> {
    auto it = d.submissions.find(submission);
    if (it != d.submissions.end()) return it->second;
    d.tasks[task_id] = std::move(task);
    d.task_order.push_back(task_id);
    d.submissions[submission] = task_id;
    return std::nullopt;
  });
  std::string id = original.value_or(task_id);
  json result = {{"DATA_TYPE", kind + "_result"},
                 {"request_id", NewRequestId()},
                 {"resource", req.raw_path},
                 {"submission_id", submission},
                 {"task_id", id},
                 {"task_link", {{"DATA_TYPE", "link"},
                                {"href", "/v0.10/task/" + id + "?format=json"},
                                {"rel", "related"},
                                {"resource", "task"},
                                {"title", "related task"}}}};
  if (original) {
    result["code"] = "Duplicate";
    result["message"] = "A transfer or delete with this submission id has already been accepted";
    return JsonResponse(200, result);
  }
  emu_.state().Save();  // the submission must survive a crash before we answer
  emu_.CountTask(kind);
  {
    std::lock_guard lock(mu_);
    active_.push_back(task_id);
    kicked_ = true;
  }
  cv_.notify_all();
  result["code"] = "Accepted";
  result["message"] = "The " + kind +
                      " has been accepted and a task has been created and queued for execution";
  return JsonResponse(202, result);
}

}  // namespace emu
