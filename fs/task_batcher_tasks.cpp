// TaskBatcher, the Globus side: submitting a sent batch's task (again,
// after a failure or a restart: same submission id), following it to its
// end, and replaying the journal at start. See fs/task_batcher.h.
#include <algorithm>
#include <cctype>
#include <set>

#include "auth/guidance.h"
#include "fs/mount_table.h"
#include "fs/remote/remote_error.h"
#include "fs/task_batcher.h"
#include "fs/task_batcher_internal.h"

namespace globusfs::fs {

using json = nlohmann::json;

namespace {

constexpr size_t kRecentTasks = 50;

// Error events after which a task cannot succeed: cancel it (globus-api.md
// §2.9: a missing source keeps a transfer ACTIVE until its deadline).
bool FatalEvent(const std::string& code) {
  static const std::set<std::string> kFatal = {
      "FILE_NOT_FOUND", "PERMISSION_DENIED", "NOT_A_DIRECTORY", "IS_A_DIRECTORY", "NOT_A_FILE",
      "INVALID_PATH_NAME", "INVALID_SYMLINK", "QUOTA_EXCEEDED", "NO_SPACE_LEFT"};
  return kFatal.count(code) > 0;
}

}  // namespace

std::string RetryCause(const http::Error& error) {
  if (Classify(error) == RemoteErrc::kAuthRequired) {
    // One line with the command that fixes it; globusfs-auth writes the new
    // tokens and this daemon picks them up at its next try.
    std::string need;
    switch (auth::ClassifyRequirement(error)) {
      case auth::Requirement::kConsent:
        need = "Globus needs your consent";
        break;
      case auth::Requirement::kSession:
        need = "Globus needs you to re-authenticate";
        break;
      case auth::Requirement::kLogin:
      case auth::Requirement::kNone:
        need = "Globus needs you to log in";
        break;
    }
    auto cmd = auth::RemedyCommand(error);
    return need + ": run `" + (cmd ? *cmd : std::string("globusfs-auth login")) +
           "` (no remount needed)";
  }
  if (Classify(error) == RemoteErrc::kUnavailable) return "Globus is unreachable or busy";
  return "Globus refused it (" + std::string(RemoteErrcName(Classify(error))) + ")";
}

std::string InactiveReason(const TaskStatus& st) {
  const std::string& nice = st.nice_status;
  const std::string& words = st.nice_status_short_description;
  if (nice.empty() || words.empty()) return nice.empty() ? words : nice;
  std::string a = nice, b = words;
  for (auto* x : {&a, &b}) {
    for (char& c : *x) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return a == b ? nice : nice + " (" + words + ")";
}

std::string ActivityUrl(const std::string& task_id) {
  return "https://app.globus.org/activity/" + task_id;
}

std::string InactiveRemedy(const std::string& code, const std::string& task_id,
                           const std::vector<std::string>& collections) {
  std::string upper = code;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string page = ActivityUrl(task_id);
  if (upper.find("PAUSE") != std::string::npos) {
    return "it is paused (by you, a collection administrator or Globus Connect Personal): resume "
           "it at " +
           page;
  }
  if (upper == "GC_NOT_CONNECTED" || upper == "CONNECT_FAILED") {
    return "start Globus Connect on the endpoint it uses; see " + page;
  }
  // Transfer suspends a task today only when credentials expire
  // (globus-api.md §2.9): a fresh login with the collections concerned
  // (or re-activating them in the web app) resumes it.
  std::string login = "globusfs-auth login";
  for (const auto& c : collections) login += " --collection " + c;
  return "re-activate the collections' credentials: run `" + login + "`, or open " + page;
}

std::string ShortDuration(std::chrono::steady_clock::duration d) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(d).count();
  if (ms < 1000) return std::to_string(ms) + "ms";
  if (ms < 120'000) return std::to_string((ms + 500) / 1000) + "s";
  return std::to_string((ms + 30'000) / 60'000) + "min";
}

void TaskBatcher::Poll(const std::string& sid) {
  std::string task_id;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    task_id = it->second->task_id;
  }
  if (task_id.empty()) {
    Submit(sid);
    return;
  }
  auto st = api_.GetTask(task_id);
  if (!st) {
    // The task runs at Globus whatever we see of it: only its absence ends it.
    if (Classify(st.error()) == RemoteErrc::kNotFound) {
      Finish(sid, false, "Globus has no task " + task_id);
    } else {
      RetryTask(sid, "cannot follow Globus task " + task_id, st.error());
    }
    return;
  }
  TaskRecovered(sid, "following Globus task " + task_id);
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it != tasks_.end()) it->second->last = *st;
  }
  if (st->done()) {
    Finish(sid, st->status == "SUCCEEDED",
           st->status + (st->fatal_code.empty() ? "" : " (" + st->fatal_code + ": " + st->fatal_description + ")"));
    return;
  }
  if (st->inactive()) {
    // Suspended, not ended: it may still run and finish (and a delete still
    // delete), so nothing is undone or reported as failed. Followed with
    // the usual slowing polls; waiters count it as held up.
    NoteInactive(sid, *st);
    Reschedule(sid, /*slower=*/true);
    return;
  }
  NoteActiveAgain(sid);
  if (st->faults > 0) {
    auto events = api_.GetTaskEvents(task_id, 10);
    if (events) {
      for (const auto& e : *events) {
        if (!e.is_error || !FatalEvent(e.code)) continue;
        (void)api_.CancelTask(task_id);
        Finish(sid, false, "cancelled after error event " + e.code + " (" + e.description + ")");
        return;
      }
    }
  }
  Reschedule(sid, /*slower=*/true);
}

void TaskBatcher::NoteInactive(const std::string& sid, const TaskStatus& st) {
  std::string task_id, reason = InactiveReason(st), code = st.nice_status;
  std::vector<std::string> collections;
  bool known = false;  // the reason is already recorded
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    Task& t = *it->second;
    task_id = t.task_id;
    if (!t.inactive) {
      t.inactive = true;
      t.inactive_since = clock_->SystemNow();
    }
    known = reason.empty() && !t.inactive_reason.empty();
    if (!reason.empty()) t.inactive_reason = reason;
    for (uint64_t id : t.ids) {
      auto i = items_.find(id);
      if (i == items_.end()) continue;
      for (const auto* c : {&i->second->src_coll, &i->second->dst_coll}) {
        if (!c->empty() &&
            std::find(collections.begin(), collections.end(), *c) == collections.end()) {
          collections.push_back(*c);
        }
      }
    }
  }
  if (known) return;  // the document says nothing new: no event list each poll
  if (reason.empty()) {
    // No nice_status: the latest event says why (newest first).
    auto events = api_.GetTaskEvents(task_id, 1);
    if (events && !events->empty()) {
      reason =
          events->front().description.empty() ? events->front().code : events->front().description;
      code = events->front().code;
    }
  }
  if (reason.empty()) reason = "suspended by Globus";
  const std::string remedy = InactiveRemedy(code, task_id, collections);
  bool log = false;
  size_t items = 0;
  Kind kind = Kind::kCopy;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    Task& t = *it->second;
    t.inactive_reason = reason;
    t.inactive_remedy = remedy;
    log = !t.inactive_logged;
    t.inactive_logged = true;
    items = t.ids.size();
    kind = t.kind;
  }
  done_cv_.notify_all();  // waiters: it is held up now
  if (log) {
    log_.Log(
        LogLevel::kWarning,
        "Globus task " + task_id + " (" + (kind == Kind::kCopy ? "copy" : "delete") + " of " +
            std::to_string(items) + " item(s)) is INACTIVE: " + reason +
            "; it is kept in the journal and followed, nothing is undone; to resume it: " + remedy);
  }
}

void TaskBatcher::NoteActiveAgain(const std::string& sid) {
  std::string task_id;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end() || !it->second->inactive) return;
    Task& t = *it->second;
    t.inactive = false;
    t.inactive_reason.clear();
    t.inactive_remedy.clear();
    task_id = t.task_id;
  }
  log_.Log(LogLevel::kInfo, "Globus task " + task_id + " is ACTIVE again");
}

void TaskBatcher::Submit(const std::string& sid) {
  // Submit (again): the journal has the request, with its submission id.
  auto rec = journal_.GetTask(sid);
  if (!rec) {
    Finish(sid, false, "the journal lost the task");
    return;
  }
  http::Result<std::string> r = std::string();
  if (rec->kind == "transfer") {
    TransferRequest req;
    req.submission_id = sid;
    req.source_collection = rec->source_collection;
    req.destination_collection = rec->destination_collection;
    req.label = "globusfs cp";
    for (const auto& i : rec->items) {
      req.items.push_back(
          {ToTransferPath(i.source_path), ToTransferPath(i.destination_path), i.recursive});
    }
    r = api_.SubmitTransfer(req);
  } else {
    DeleteRequest req;
    req.submission_id = sid;
    req.collection_id = rec->source_collection;
    req.label = "globusfs rm";
    req.ignore_missing = true;
    for (const auto& i : rec->items) {
      req.paths.push_back(ToTransferPath(i.source_path));
      req.recursive = req.recursive || i.recursive;
    }
    r = api_.SubmitDelete(req);
  }
  const std::string what = "a " + rec->kind + " of " + std::to_string(rec->items.size()) +
                           " item(s) (submission " + sid + ")";
  if (!r) {
    // Kept for what time or a login fixes; failed for a definitive refusal.
    if (RetryLater(Classify(r.error()))) {
      RetryTask(sid, "cannot submit " + what, r.error());
    } else {
      Finish(sid, false, r.error().Summary());
    }
    return;
  }
  TaskRecovered(sid, "submitting " + what);
  rec->task_id = *r;
  journal_.PutTask(*rec);
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it != tasks_.end()) it->second->task_id = *r;
  }
  log_.Log(LogLevel::kInfo, "Globus task " + *r + ": " + rec->kind + " of " +
                                std::to_string(rec->items.size()) + " item(s)");
  Reschedule(sid, /*slower=*/false);
}

void TaskBatcher::Reschedule(const std::string& sid, bool slower) {
  std::lock_guard lock(mu_);
  auto it = tasks_.find(sid);
  if (it == tasks_.end()) return;
  Task& t = *it->second;
  if (slower) t.interval = std::min(t.interval * 2, options_.poll_max);
  t.next_poll = clock_->Now() + t.interval;
}

void TaskBatcher::RetryTask(const std::string& sid, const std::string& what,
                            const http::Error& error) {
  bool news = false;
  RetryBackoff retry;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    Task& t = *it->second;
    news = t.retry.Failed(clock_->Now(), clock_->Random(), RetryCause(error));
    t.next_poll = t.retry.not_before();
    retry = t.retry;
  }
  if (news) {
    log_.Log(LogLevel::kWarning, what + ": " + error.Summary() + " -- " + retry.cause() +
                                     "; kept in the journal, will retry in " +
                                     ShortDuration(retry.wait()));
  }
}

void TaskBatcher::TaskRecovered(const std::string& sid, const std::string& what) {
  int failed = 0;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    failed = it->second->retry.Succeeded();
  }
  if (failed > 0) {
    log_.Log(LogLevel::kInfo, "recovered: " + what + " works again after " +
                                  std::to_string(failed) + " failed attempt(s)");
  }
}

void TaskBatcher::Finish(const std::string& sid, bool ok, const std::string& why) {
  journal_.RemoveTask(sid);
  std::vector<Item> items, kept;
  std::string task_id;
  Kind kind = Kind::kCopy;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    task_id = it->second->task_id;
    kind = it->second->kind;
    for (uint64_t id : it->second->ids) {
      if (items_.count(id)) items.push_back(*items_[id]);
    }
  }
  // Undo what the listing showed BEFORE anyone waiting hears of the
  // failure (a waiter's next look must already see the truth): no
  // destination, and the deleted entries back.
  std::string paths;
  if (!ok) {
    for (const auto& i : items) {
      if (kind == Kind::kCopy) {
        ns_.NoteRemoved(i.dst_coll, i.dst_path);
        ns_.Invalidate(i.dst_coll, ParentOf(i.dst_path));
      } else {
        ns_.Invalidate(i.src_coll, ParentOf(i.src_path));
        ns_.Invalidate(i.src_coll, i.src_path);
      }
      if (paths.size() < 300) paths += " " + (kind == Kind::kCopy ? i.dst_path : i.src_path);
    }
    log_.Log(LogLevel::kWarning, std::string(kind == Kind::kCopy ? "copy" : "delete") + " failed, Globus task " +
                                     (task_id.empty() ? "(not accepted)" : task_id) + ": " + why + ";" + paths);
  }
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    Task& t = *it->second;
    for (uint64_t id : t.ids) Complete(id, ok ? State::kSucceeded : State::kFailed, why);
    Finished done;
    done.doc = {{"task_id", task_id},
                {"submission_id", sid},
                {"type", kind == Kind::kCopy ? "TRANSFER" : "DELETE"},
                {"status", ok ? "SUCCEEDED" : "FAILED"},
                {"items", t.ids.size()},
                {"files_transferred", t.last.files_transferred},
                {"bytes_transferred", t.last.bytes_transferred},
                {"detail", why},
                {"finished_at", IsoTimeUtc(clock_->SystemNow())}};
    for (const auto& i : items) {
      const std::string& coll = kind == Kind::kCopy ? i.dst_coll : i.src_coll;
      const std::string& path = kind == Kind::kCopy ? i.dst_path : i.src_path;
      if (done.targets.size() < kPathsListed) done.targets.emplace_back(coll, path);
      if (done.targets_total++ == 0) {
        done.common_coll = coll;
        done.common_path = path;
      } else if (coll == done.common_coll) {
        done.common_path = CommonFolder(done.common_path, path);
      } else {
        done.common_coll.clear();  // no common folder
      }
    }
    recent_.push_front(std::move(done));
    if (recent_.size() > kRecentTasks) recent_.pop_back();
    if (!ok) failures_ += t.ids.size();
    if (!ok && kind == Kind::kCopy) kept = DropDeletesOf(t.ids);
    tasks_.erase(it);
  }
  // mv across collections is a copy, then a delete: the copy failed, so the
  // source stays.
  for (const auto& d : kept) {
    journal_.RemoveTask(d.journal_key);
    ns_.Invalidate(d.src_coll, ParentOf(d.src_path));
    ns_.Invalidate(d.src_coll, d.src_path);
    log_.Log(LogLevel::kWarning, "not deleting " + d.src_path + ": the copy from it failed");
  }
  done_cv_.notify_all();
}

std::vector<TaskBatcher::Item> TaskBatcher::DropDeletesOf(const std::vector<uint64_t>& failed_copies) {
  std::vector<Item> dropped;
  for (auto& [key, b] : batches_) {
    if (b->kind != Kind::kDelete) continue;
    for (auto i = b->ids.begin(); i != b->ids.end();) {
      Item& del = *items_[*i];
      bool blocked = std::any_of(failed_copies.begin(), failed_copies.end(), [&](uint64_t c) {
        auto ci = items_.find(c);
        return ci != items_.end() && ci->second->src_coll == del.src_coll &&
               Overlap(ci->second->src_path, del.src_path);
      });
      if (!blocked) {
        ++i;
        continue;
      }
      Complete(del.id, State::kFailed, "not deleted: the copy from it failed");
      dropped.push_back(del);
      for (uint64_t f : del.folded) {
        if (auto fi = items_.find(f); fi != items_.end()) dropped.push_back(*fi->second);
      }
      i = b->ids.erase(i);
    }
  }
  return dropped;
}

void TaskBatcher::Replay() {
  for (const auto& rec : journal_.PendingTasks()) {
    if (rec.submission_id.rfind(kQueuedPrefix, 0) == 0 && rec.items.size() == 1) {
      // Accepted but never sent: queued again, with the same record.
      const auto& i = rec.items.front();
      Kind kind = rec.kind == "transfer" ? Kind::kCopy : Kind::kDelete;
      if (kind == Kind::kDelete) ns_.NoteRemoved(rec.source_collection, i.source_path);
      std::lock_guard lock(mu_);
      uint64_t id = AddItem(kind, rec.source_collection, i.source_path, rec.destination_collection,
                            i.destination_path, i.recursive);
      items_[id]->journal_key = rec.submission_id;
      log_.Log(LogLevel::kInfo, "resuming a queued " + rec.kind + " of " + i.source_path + " from the journal");
      continue;
    }
    std::lock_guard lock(mu_);
    auto t = std::make_unique<Task>();
    t->submission_id = rec.submission_id;
    // Sent again with the same submission id: Globus answers Duplicate with
    // the task id if it had accepted it, and nothing runs twice.
    t->task_id.clear();
    t->kind = rec.kind == "transfer" ? Kind::kCopy : Kind::kDelete;
    t->next_poll = clock_->Now();
    t->interval = options_.poll_initial;
    t->retry = RetryBackoff(options_.retry_initial, options_.retry_max);
    for (const auto& i : rec.items) {
      auto item = std::make_unique<Item>();
      item->id = next_id_++;
      item->kind = t->kind;
      item->src_coll = rec.source_collection;
      item->src_path = i.source_path;
      item->dst_coll = rec.destination_collection;
      item->dst_path = i.destination_path;
      item->recursive = i.recursive;
      item->state = State::kSent;
      item->submission_id = rec.submission_id;
      t->ids.push_back(item->id);
      items_[item->id] = std::move(item);
    }
    log_.Log(LogLevel::kInfo, "resuming a " + rec.kind + " of " + std::to_string(rec.items.size()) +
                                  " item(s) from the journal (submission " + rec.submission_id + ")");
    tasks_[rec.submission_id] = std::move(t);
  }
}

}  // namespace globusfs::fs
