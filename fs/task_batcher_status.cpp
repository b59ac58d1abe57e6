// TaskBatcher's reports: the status view (`globusfs status`: the pending
// items, the active tasks, INACTIVE ones with why and what resumes them,
// and the recently finished ones) and what a drain leaves for the next
// mount. See fs/task_batcher.h.
#include <ctime>
#include <string>

#include "fs/task_batcher.h"
#include "fs/task_batcher_internal.h"

namespace globusfs::fs {

using json = nlohmann::json;

namespace {

// "2026-12-07T10:00:00+00:00", as Transfer writes times.
std::string IsoTimeUtc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return text;
}

}  // namespace

json TaskBatcher::ItemJson(const Item& i) const {
  json j = {{"type", i.kind == Kind::kCopy ? "copy" : "delete"}, {"path", i.src_path}};
  if (i.kind == Kind::kCopy) j["destination"] = i.dst_path;
  return j;
}

json TaskBatcher::Status() {
  std::lock_guard lock(mu_);
  json pending = json::array(), active = json::array(), failed = json::array();
  for (const auto& [key, b] : batches_) {
    for (uint64_t id : b->ids) {
      json j = ItemJson(*items_[id]);
      if (b->retry.failures() > 0) j["detail"] = b->retry.cause();  // waiting for a retry
      pending.push_back(std::move(j));
    }
  }
  for (const auto& [sid, t] : tasks_) {
    json& j = active.emplace_back(json{{"task_id", t->task_id},
                                       {"submission_id", sid},
                                       {"type", t->kind == Kind::kCopy ? "TRANSFER" : "DELETE"},
                                       {"status", t->task_id.empty()       ? "SUBMITTING"
                                                  : t->last.status.empty() ? "ACTIVE"
                                                                           : t->last.status},
                                       {"items", t->ids.size()},
                                       {"files", t->last.files},
                                       {"files_transferred", t->last.files_transferred},
                                       {"bytes_transferred", t->last.bytes_transferred},
                                       {"faults", t->last.faults}});
    if (t->retry.failures() > 0) j["detail"] = t->retry.cause();  // shown by `globusfs status`
    if (!t->task_id.empty()) j["activity_url"] = ActivityUrl(t->task_id);
    if (t->inactive) {
      j["nice_status"] = t->last.nice_status;
      j["reason"] = t->inactive_reason;
      j["remedy"] = t->inactive_remedy;
      j["inactive_since"] = IsoTimeUtc(t->inactive_since);
    }
  }
  for (const auto& r : recent_) {
    if (r["status"] == "FAILED") failed.push_back(r);
  }
  return {{"pending", pending}, {"active", active}, {"failed", failed}, {"recent", recent_}};
}

DrainReport TaskBatcher::Leftover() const {
  constexpr size_t kExamples = 5;
  DrainReport r;
  for (const auto& [id, item] : items_) {
    const Item& i = *item;
    if (i.done() || i.folded_into != 0) continue;  // a folded delete goes with its folder's
    (i.state == State::kQueued ? r.queued : r.unfinished)++;
    (i.kind == Kind::kCopy ? r.copies : r.deletes)++;
    if (r.examples.size() < kExamples) {
      r.examples.push_back(i.kind == Kind::kCopy ? "copy " + i.src_path + " -> " + i.dst_path
                                                 : "delete " + i.src_path);
    }
  }
  r.tasks = tasks_.size();
  r.failed = failures_;
  for (const auto& [key, b] : batches_) {
    if (r.waiting_on.empty() && b->retry.failures() > 0) r.waiting_on = b->retry.cause();
  }
  for (const auto& [sid, t] : tasks_) {
    if (r.waiting_on.empty() && t->retry.failures() > 0) r.waiting_on = t->retry.cause();
  }
  for (const auto& [sid, t] : tasks_) {
    if (r.waiting_on.empty() && t->inactive) {
      r.waiting_on = "Globus task " + t->task_id + " is INACTIVE (" + t->inactive_reason +
                     "); to resume it: " + t->inactive_remedy;
    }
  }
  return r;
}

std::string DrainReport::Describe() const {
  auto count = [](size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::string what;
  if (copies > 0) what = count(copies, "copy", "copies");
  if (deletes > 0) what += (what.empty() ? "" : " and ") + count(deletes, "delete", "deletes");
  if (what.empty()) what = "nothing";
  std::string where;  // only the parts there are
  if (queued > 0) where = std::to_string(queued) + " not yet sent";
  if (unfinished > 0) {
    where += (where.empty() ? "" : ", ") + std::to_string(unfinished) + " in " +
             count(tasks, "unfinished Globus task", "unfinished Globus tasks");
  }
  std::string out = what + " in the journal for the next mount";
  if (!where.empty()) out += " (" + where + ")";
  for (size_t i = 0; i < examples.size(); ++i) out += (i == 0 ? ": " : ", ") + examples[i];
  if (queued + unfinished > examples.size()) out += ", ...";
  if (!waiting_on.empty()) out += "; waiting on: " + waiting_on;
  return out;
}

}  // namespace globusfs::fs
