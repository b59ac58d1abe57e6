// TaskBatcher's status view (`globusfs status`): the pending items, the
// active tasks and the recently finished ones. See fs/task_batcher.h.
#include "fs/task_batcher.h"
#include "fs/task_batcher_internal.h"

namespace globusfs::fs {

using json = nlohmann::json;

json TaskBatcher::ItemJson(const Item& i) const {
  json j = {{"type", i.kind == Kind::kCopy ? "copy" : "delete"}, {"path", i.src_path}};
  if (i.kind == Kind::kCopy) j["destination"] = i.dst_path;
  return j;
}

json TaskBatcher::Status() {
  std::lock_guard lock(mu_);
  json pending = json::array(), active = json::array(), failed = json::array();
  for (const auto& [key, b] : batches_) {
    for (uint64_t id : b->ids) pending.push_back(ItemJson(*items_[id]));
  }
  for (const auto& [sid, t] : tasks_) {
    active.push_back({{"task_id", t->task_id},
                      {"submission_id", sid},
                      {"type", t->kind == Kind::kCopy ? "TRANSFER" : "DELETE"},
                      {"status", t->task_id.empty() ? "SUBMITTING" : t->last.status.empty() ? "ACTIVE" : t->last.status},
                      {"items", t->ids.size()},
                      {"files", t->last.files},
                      {"files_transferred", t->last.files_transferred},
                      {"bytes_transferred", t->last.bytes_transferred},
                      {"faults", t->last.faults}});
  }
  for (const auto& r : recent_) {
    if (r["status"] == "FAILED") failed.push_back(r);
  }
  return {{"pending", pending}, {"active", active}, {"failed", failed}, {"recent", recent_}};
}

}  // namespace globusfs::fs
