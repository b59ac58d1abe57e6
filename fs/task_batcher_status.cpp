// TaskBatcher's reports: the status view (`globusfs status`: the pending
// items, the active tasks, INACTIVE ones with why and what resumes them,
// and the recently finished ones) and what a drain leaves for the next
// mount. See fs/task_batcher.h.
#include <ctime>
#include <set>
#include <string>

#include "fs/task_batcher.h"
#include "fs/task_batcher_internal.h"

namespace globusfs::fs {

using json = nlohmann::json;

namespace {

// Paths of one entry as Status shows them: a few mount paths, how many
// there are, and the deepest mount folder holding them all.
class PathSummary {
 public:
  explicit PathSummary(const TaskBatcher::PathNamer& namer) : namer_(namer) {}
  void Add(const std::string& coll, const std::string& path) {
    if (!namer_) return;
    for (auto& p : namer_(coll, path)) {
      common_ = total_++ == 0 ? p : CommonFolder(common_, p);
      if (listed_.size() < TaskBatcher::kPathsListed) listed_.push_back(std::move(p));
    }
  }
  void Into(json& j) const {
    if (!namer_) return;
    j["paths"] = listed_;
    j["paths_total"] = total_;
    if (total_ > 0) j["paths_common"] = common_;
  }

 private:
  const TaskBatcher::PathNamer& namer_;
  std::vector<std::string> listed_;
  size_t total_ = 0;
  std::string common_;
};

}  // namespace

std::string IsoTimeUtc(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return text;
}

std::string CommonFolder(const std::string& a, const std::string& b) {
  std::string common = a;
  while (!IsUnder(b, common) && common != "/" && !common.empty()) common = ParentOf(common);
  return common.empty() ? "/" : common;
}

json TaskBatcher::ItemJson(const Item& i) const {
  json j = {{"type", i.kind == Kind::kCopy ? "copy" : "delete"}, {"path", i.src_path}};
  if (i.kind == Kind::kCopy) j["destination"] = i.dst_path;
  return j;
}

json TaskBatcher::Status(const PathNamer& namer, size_t max_pending_listed) {
  std::lock_guard lock(mu_);
  json pending = json::array(), active = json::array(), failed = json::array(), recent = json::array();
  json batches = json::array();
  size_t pending_total = 0;
  // What an item changes: a copy's destination, a delete's path.
  const auto target = [](const Item& i) {
    return i.kind == Kind::kCopy ? std::make_pair(i.dst_coll, i.dst_path) : std::make_pair(i.src_coll, i.src_path);
  };
  // The copies' sizes, or null when one is unknown (a folder, a replayed copy).
  const auto bytes_total = [this](const std::vector<uint64_t>& ids) -> json {
    int64_t sum = 0;
    for (uint64_t id : ids) {
      const Item& i = *items_.at(id);
      if (i.kind != Kind::kCopy) return 0;
      if (i.recursive || i.bytes < 0) return nullptr;
      sum += i.bytes;
    }
    return sum;
  };
  // One batch's items (`detail`: why they wait), listed up to the cap and
  // summarised in pending_batches.
  const auto add_batch = [&](const char* type, const std::vector<uint64_t>& ids, const std::string& detail) {
    PathSummary paths(namer);
    size_t listed = 0;
    for (uint64_t id : ids) {
      const Item& item = *items_.at(id);
      auto [coll, path] = target(item);
      paths.Add(coll, path);
      ++pending_total;
      if (pending.size() >= max_pending_listed) continue;
      json j = ItemJson(item);
      if (!detail.empty()) j["detail"] = detail;
      if (namer) j["mount_paths"] = namer(coll, path);
      pending.push_back(std::move(j));
      ++listed;
    }
    json& s = batches.emplace_back(
        json{{"type", type}, {"items", ids.size()}, {"listed", listed}, {"bytes_total", bytes_total(ids)}});
    paths.Into(s);
  };
  std::set<uint64_t> batched;
  for (const auto& [key, b] : batches_) {
    // A batch waiting for a retry says why.
    add_batch(b->kind == Kind::kCopy ? "copy" : "delete", b->ids, b->retry.failures() > 0 ? b->retry.cause() : "");
    batched.insert(b->ids.begin(), b->ids.end());
  }
  // The worker takes a batch out while it gets its submission id: its items
  // are in no batch and no task yet, and still pending.
  std::vector<uint64_t> sending_copies, sending_deletes;
  for (const auto& [id, item] : items_) {
    if (item->state != State::kQueued || item->folded_into != 0 || batched.count(id)) continue;
    (item->kind == Kind::kCopy ? sending_copies : sending_deletes).push_back(id);
  }
  if (!sending_copies.empty()) add_batch("copy", sending_copies, "");
  if (!sending_deletes.empty()) add_batch("delete", sending_deletes, "");
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
                                       {"files_skipped", t->last.files_skipped},
                                       {"bytes_transferred", t->last.bytes_transferred},
                                       {"effective_bytes_per_second", t->last.effective_bytes_per_second},
                                       {"subtasks_total", t->last.subtasks_total},
                                       {"subtasks_succeeded", t->last.subtasks_succeeded},
                                       {"subtasks_pending", t->last.subtasks_pending},
                                       {"subtasks_failed", t->last.subtasks_failed},
                                       {"bytes_total", bytes_total(t->ids)},
                                       {"faults", t->last.faults}});
    PathSummary paths(namer);
    bool folders = false;
    for (uint64_t id : t->ids) {
      const Item& item = *items_[id];
      auto [coll, path] = target(item);
      paths.Add(coll, path);
      folders = folders || item.recursive;
    }
    paths.Into(j);
    if (t->kind == Kind::kCopy && !folders) j["files_expected"] = t->ids.size();
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
    json doc = r.doc;
    if (namer) {
      PathSummary paths(namer);
      for (const auto& [coll, path] : r.targets) paths.Add(coll, path);
      paths.Into(doc);
      // Those not listed are matched by the folder holding them all.
      doc["paths_total"] = std::max(doc["paths_total"].get<size_t>(), r.targets_total);
      if (r.targets_total > r.targets.size()) {
        auto common = r.common_coll.empty() ? std::vector<std::string>{"/"} : namer(r.common_coll, r.common_path);
        doc["paths_common"] = common.size() == 1 ? common.front() : "/";
      }
    }
    if (doc["status"] == "FAILED") failed.push_back(doc);
    recent.push_back(std::move(doc));
  }
  json out = {{"pending", pending}, {"active", active}, {"failed", failed}, {"recent", recent}};
  out["pending_total"] = pending_total;
  out["pending_batches"] = std::move(batches);
  return out;
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
