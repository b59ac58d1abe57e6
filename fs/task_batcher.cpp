#include "fs/task_batcher.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "fs/mount_table.h"
#include "fs/remote/remote_error.h"

namespace globusfs::fs {

using json = nlohmann::json;

namespace {

constexpr auto kKeepFinished = std::chrono::minutes(5);
// The journal key of a copy or delete accepted but not yet in a sent batch.
const std::string kQueuedPrefix = "queued-";
constexpr size_t kRecentTasks = 50;

// Error events after which a task cannot succeed: cancel it (globus-api.md
// §2.9: a missing source keeps a transfer ACTIVE until its deadline).
bool FatalEvent(const std::string& code) {
  static const std::set<std::string> kFatal = {
      "FILE_NOT_FOUND", "PERMISSION_DENIED", "NOT_A_DIRECTORY", "IS_A_DIRECTORY", "NOT_A_FILE",
      "INVALID_PATH_NAME", "INVALID_SYMLINK", "QUOTA_EXCEEDED", "NO_SPACE_LEFT"};
  return kFatal.count(code) > 0;
}

bool Overlap(const std::string& a, const std::string& b) { return IsUnder(a, b) || IsUnder(b, a); }

}  // namespace

struct TaskBatcher::Item {
  uint64_t id = 0;
  Kind kind = Kind::kCopy;
  std::string src_coll, src_path, dst_coll, dst_path;
  bool recursive = false;
  State state = State::kQueued;
  std::string submission_id;
  std::string journal_key;  // its own record while queued (kQueuedPrefix...)
  std::string why;
  std::vector<uint64_t> folded;  // deletes covered by this recursive delete
  uint64_t folded_into = 0;
  bool reported = false;  // a failure already returned to a waiter
  Clock::time_point finished_at{};
  bool done() const { return state == State::kSucceeded || state == State::kFailed; }
};

struct TaskBatcher::Batch {
  std::string key;
  Kind kind = Kind::kCopy;
  std::string src_coll, dst_coll;
  std::vector<uint64_t> ids;
  Clock::time_point last_add{};
  bool flush_now = false;
};

struct TaskBatcher::Task {
  std::string submission_id, task_id;
  Kind kind = Kind::kCopy;
  std::vector<uint64_t> ids;
  Clock::time_point next_poll{};
  std::chrono::milliseconds interval{0};
  TaskStatus last;
  int submit_attempts = 0;
};

TaskBatcher::TaskBatcher(TransferApi& api, cache::Journal& journal, Namespace& ns, Logger& log,
                         std::shared_ptr<http::Clock> clock, BatcherOptions options)
    : api_(api),
      journal_(journal),
      ns_(ns),
      log_(log),
      clock_(std::move(clock)),
      options_(options),
      queued_seq_(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(clock_->SystemNow().time_since_epoch()).count())) {}

TaskBatcher::~TaskBatcher() { Stop(); }

void TaskBatcher::Start() {
  Replay();
  worker_ = std::thread([this] { Loop(); });
}

void TaskBatcher::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  done_cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

uint64_t TaskBatcher::AddItem(Kind kind, const std::string& src_coll, const std::string& src_path,
                              const std::string& dst_coll, const std::string& dst_path, bool recursive) {
  auto item = std::make_unique<Item>();
  item->id = next_id_++;
  item->kind = kind;
  item->src_coll = src_coll;
  item->src_path = src_path;
  item->dst_coll = dst_coll;
  item->dst_path = dst_path;
  item->recursive = recursive;
  std::string key = (kind == Kind::kCopy ? "copy\n" : "delete\n") + src_coll + "\n" + dst_coll;
  auto& slot = batches_[key];
  if (!slot) {
    slot = std::make_unique<Batch>();
    slot->key = key;
    slot->kind = kind;
    slot->src_coll = src_coll;
    slot->dst_coll = dst_coll;
  }
  slot->ids.push_back(item->id);
  slot->last_add = Clock::now();
  if (slot->ids.size() >= options_.max_items) slot->flush_now = true;
  uint64_t id = item->id;
  items_[id] = std::move(item);
  work_cv_.notify_all();
  return id;
}

std::string TaskBatcher::JournalQueued(Kind kind, const std::string& src_coll, const std::string& src_path,
                                       const std::string& dst_coll, const std::string& dst_path, bool recursive) {
  cache::PendingTask rec;
  // The journal lists records by creation time, then key: a sequence in the
  // key keeps the order of items accepted within the same millisecond.
  char seq[24];
  std::snprintf(seq, sizeof seq, "%016llx-", static_cast<unsigned long long>(++queued_seq_));
  try {
    rec.submission_id = kQueuedPrefix + seq + cache::NewRecordId();
  } catch (const std::exception&) {
    return "";
  }
  rec.kind = kind == Kind::kCopy ? "transfer" : "delete";
  rec.source_collection = src_coll;
  rec.destination_collection = dst_coll;
  rec.items.push_back({src_path, dst_path, recursive});
  rec.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->SystemNow().time_since_epoch()).count();
  if (!journal_.PutTask(rec)) {
    log_.Log(LogLevel::kError, "cannot record a " + rec.kind + " of " + src_path + " in the journal; refused");
    return "";
  }
  return rec.submission_id;
}

int TaskBatcher::QueueCopy(const std::string& src_coll, const std::string& src_path, const std::string& dst_coll,
                           const std::string& dst_path, bool recursive) {
  // Durable before it is accepted: a crash from here on loses nothing.
  std::string key = JournalQueued(Kind::kCopy, src_coll, src_path, dst_coll, dst_path, recursive);
  if (key.empty()) return EIO;
  {
    std::lock_guard lock(mu_);
    uint64_t id = AddItem(Kind::kCopy, src_coll, src_path, dst_coll, dst_path, recursive);
    items_[id]->journal_key = key;
  }
  return options_.wait_each ? WaitPath(dst_coll, dst_path) : 0;
}

int TaskBatcher::QueueDelete(const std::string& coll, const std::string& path, bool is_dir) {
  std::string key = JournalQueued(Kind::kDelete, coll, path, "", "", is_dir);
  if (key.empty()) return EIO;
  std::lock_guard lock(mu_);
  std::vector<uint64_t> covered;
  if (is_dir) {
    // Deletes queued below this folder are done by its recursive delete.
    auto it = batches_.find("delete\n" + coll + "\n");
    if (it != batches_.end()) {
      auto& ids = it->second->ids;
      for (auto i = ids.begin(); i != ids.end();) {
        const Item& other = *items_[*i];
        if (IsUnder(other.src_path, path) && other.src_path != path) {
          covered.push_back(*i);
          i = ids.erase(i);
        } else {
          ++i;
        }
      }
    }
  }
  uint64_t id = AddItem(Kind::kDelete, coll, path, "", "", is_dir);
  Item& item = *items_[id];
  item.journal_key = key;
  for (uint64_t c : covered) {
    items_[c]->folded_into = id;
    item.folded.push_back(c);
    // Anything folded into the folded item comes along.
    for (uint64_t deeper : items_[c]->folded) item.folded.push_back(deeper);
  }
  return 0;
}

bool TaskBatcher::Covers(const Item& i, const std::string& coll, const std::string& path) const {
  if (i.kind == Kind::kCopy) return i.dst_coll == coll && Overlap(i.dst_path, path);
  return i.src_coll == coll && Overlap(i.src_path, path);
}

bool TaskBatcher::BlockedByCopy(const Item& del) const {
  for (const auto& [id, item] : items_) {
    const Item& c = *item;
    if (c.kind != Kind::kCopy || c.done()) continue;
    // Not before a copy from it (mv = copy + delete) or into it has landed.
    if (c.src_coll == del.src_coll && Overlap(c.src_path, del.src_path)) return true;
    if (c.dst_coll == del.src_coll && Overlap(c.dst_path, del.src_path)) return true;
  }
  return false;
}

bool TaskBatcher::IsPending(const std::string& coll, const std::string& path) {
  std::lock_guard lock(mu_);
  for (const auto& [id, item] : items_) {
    if (!item->done() && Covers(*item, coll, path)) return true;
  }
  return false;
}

void TaskBatcher::FlushCovering(const std::string& coll, const std::string& path) {
  for (auto& [key, b] : batches_) {
    for (uint64_t id : b->ids) {
      if (Covers(*items_[id], coll, path) || path.empty()) {
        b->flush_now = true;
        break;
      }
    }
  }
  work_cv_.notify_all();
}

int TaskBatcher::WaitPath(const std::string& coll, const std::string& path) {
  std::unique_lock lock(mu_);
  // Pending work on the path, and failures on it nobody was told of yet.
  std::vector<uint64_t> ids;
  bool pending = false;
  for (const auto& [id, item] : items_) {
    if (!Covers(*item, coll, path)) continue;
    if (!item->done()) {
      ids.push_back(id);
      pending = true;
    } else if (item->state == State::kFailed && !item->reported) {
      ids.push_back(id);
    }
  }
  if (ids.empty()) return 0;
  if (pending) {
    FlushCovering(coll, path);
    // A copy that a waited-for delete depends on must go too.
    for (auto& [key, b] : batches_) {
      if (b->kind == Kind::kCopy) b->flush_now = true;
    }
    work_cv_.notify_all();
    done_cv_.wait(lock, [&] {
      if (stop_) return true;
      for (uint64_t id : ids) {
        auto it = items_.find(id);
        if (it != items_.end() && !it->second->done()) return false;
      }
      return true;
    });
  }
  int rc = 0;
  for (uint64_t id : ids) {
    auto it = items_.find(id);
    if (it == items_.end()) continue;
    Item& i = *it->second;
    if (!i.done()) rc = EIO;  // stopping
    if (i.state == State::kFailed) {
      rc = EIO;
      if (!i.reported) {
        i.reported = true;
        if (failures_ > 0) --failures_;
      }
    }
  }
  return rc;
}

int TaskBatcher::WaitAll() {
  std::unique_lock lock(mu_);
  for (auto& [key, b] : batches_) b->flush_now = true;
  work_cv_.notify_all();
  done_cv_.wait(lock, [&] {
    if (stop_) return true;
    for (const auto& [id, item] : items_) {
      if (!item->done()) return false;
    }
    return true;
  });
  bool failed = failures_ > 0;
  failures_ = 0;
  for (auto& [id, item] : items_) {
    failed = failed || !item->done();
    item->reported = true;
  }
  return failed ? EIO : 0;
}

void TaskBatcher::Complete(uint64_t id, State state, const std::string& why) {
  auto it = items_.find(id);
  if (it == items_.end()) return;
  Item& i = *it->second;
  i.state = state;
  i.why = why;
  i.finished_at = Clock::now();
  for (uint64_t f : i.folded) {
    auto fi = items_.find(f);
    if (fi == items_.end()) continue;
    fi->second->state = state;
    fi->second->why = why;
    fi->second->finished_at = i.finished_at;
  }
}

void TaskBatcher::Loop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    auto now = Clock::now();
    std::vector<Batch> due;
    for (auto it = batches_.begin(); it != batches_.end();) {
      Batch& b = *it->second;
      bool ready = b.flush_now || b.ids.size() >= options_.max_items || now - b.last_add >= options_.window;
      if (!ready || b.ids.empty()) {
        it = b.ids.empty() ? batches_.erase(it) : std::next(it);
        continue;
      }
      Batch send = b;
      if (b.kind == Kind::kDelete) {
        send.ids.clear();
        std::vector<uint64_t> held;
        for (uint64_t id : b.ids) (BlockedByCopy(*items_[id]) ? held : send.ids).push_back(id);
        b.ids = held;  // a flush asked for stays asked: they go as soon as their copy lands
      } else {
        b.ids.clear();
      }
      if (!send.ids.empty()) due.push_back(std::move(send));
      it = b.ids.empty() ? batches_.erase(it) : std::next(it);
    }
    std::vector<std::string> polls;
    for (auto& [sid, t] : tasks_) {
      if (t->next_poll <= now) {
        t->next_poll = now + std::chrono::hours(1);  // until Poll reschedules it
        polls.push_back(sid);
      }
    }
    // Forget items long finished (waiters have long seen them).
    for (auto it = items_.begin(); it != items_.end();) {
      bool old = it->second->done() && now - it->second->finished_at > kKeepFinished;
      it = old ? items_.erase(it) : std::next(it);
    }
    if (due.empty() && polls.empty()) {
      work_cv_.wait_for(lock, std::chrono::milliseconds(50));
      continue;
    }
    lock.unlock();
    for (auto& b : due) SendBatch(std::move(b));
    for (const auto& sid : polls) Poll(sid);
    lock.lock();
  }
}

void TaskBatcher::SendBatch(Batch b) {
  // The journal record comes first: from here a crash loses nothing and
  // the resend (same submission id) cannot run twice.
  cache::PendingTask rec;
  std::vector<std::string> replaced;  // the queued items' own records
  {
    std::lock_guard lock(mu_);
    rec.kind = b.kind == Kind::kCopy ? "transfer" : "delete";
    rec.source_collection = b.src_coll;
    rec.destination_collection = b.dst_coll;
    for (uint64_t id : b.ids) {
      const Item& i = *items_[id];
      rec.items.push_back({i.src_path, i.dst_path, i.recursive});
      if (!i.journal_key.empty()) replaced.push_back(i.journal_key);
      for (uint64_t f : i.folded) {
        if (auto fi = items_.find(f); fi != items_.end() && !fi->second->journal_key.empty()) {
          replaced.push_back(fi->second->journal_key);
        }
      }
    }
  }
  auto sid = api_.NewSubmissionId();
  if (!sid) {
    log_.Log(LogLevel::kWarning, "cannot get a submission id (will retry): " + sid.error().Summary());
    std::lock_guard lock(mu_);
    auto& slot = batches_[b.key];
    if (!slot) slot = std::make_unique<Batch>(b);
    else slot->ids.insert(slot->ids.end(), b.ids.begin(), b.ids.end());
    slot->last_add = Clock::now();  // try again after another window
    return;
  }
  rec.submission_id = *sid;
  rec.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->SystemNow().time_since_epoch()).count();
  if (!journal_.PutTaskReplacing(rec, replaced)) {
    std::lock_guard lock(mu_);
    for (uint64_t id : b.ids) Complete(id, State::kFailed, "cannot record the task in the journal");
    ++failures_;
    done_cv_.notify_all();
    log_.Log(LogLevel::kError, "cannot record a " + rec.kind + " of " + std::to_string(b.ids.size()) +
                                   " items in the journal; not sent");
    return;
  }
  {
    std::lock_guard lock(mu_);
    auto t = std::make_unique<Task>();
    t->submission_id = *sid;
    t->kind = b.kind;
    t->ids = b.ids;
    t->next_poll = Clock::now();  // Poll submits it (and resubmits after a failure)
    t->interval = options_.poll_initial;
    for (uint64_t id : b.ids) {
      items_[id]->state = State::kSent;
      items_[id]->submission_id = *sid;
      items_[id]->journal_key.clear();
      for (uint64_t f : items_[id]->folded) {
        if (auto fi = items_.find(f); fi != items_.end()) fi->second->journal_key.clear();
      }
    }
    tasks_[*sid] = std::move(t);
  }
  Poll(*sid);
}

void TaskBatcher::Poll(const std::string& sid) {
  std::string task_id;
  {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    task_id = it->second->task_id;
  }
  auto reschedule = [&](bool backoff) {
    std::lock_guard lock(mu_);
    auto it = tasks_.find(sid);
    if (it == tasks_.end()) return;
    Task& t = *it->second;
    if (backoff) t.interval = std::min(t.interval * 2, options_.poll_max);
    t.next_poll = Clock::now() + t.interval;
  };
  if (task_id.empty()) {
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
        req.items.push_back({ToTransferPath(i.source_path), ToTransferPath(i.destination_path), i.recursive});
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
    if (!r) {
      if (Classify(r.error()) == RemoteErrc::kUnavailable) {
        log_.Log(LogLevel::kWarning, "submitting a " + rec->kind + " (will retry): " + r.error().Summary());
        reschedule(true);
        return;
      }
      Finish(sid, false, r.error().Summary());
      return;
    }
    rec->task_id = *r;
    journal_.PutTask(*rec);
    {
      std::lock_guard lock(mu_);
      auto it = tasks_.find(sid);
      if (it != tasks_.end()) it->second->task_id = *r;
    }
    log_.Log(LogLevel::kInfo, "Globus task " + *r + ": " + rec->kind + " of " + std::to_string(rec->items.size()) +
                                  " item(s)");
    reschedule(false);
    return;
  }
  auto st = api_.GetTask(task_id);
  if (!st) {
    if (Classify(st.error()) == RemoteErrc::kNotFound) {
      Finish(sid, false, "Globus has no task " + task_id);
    } else {
      reschedule(true);
    }
    return;
  }
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
  reschedule(true);
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
    json done = {{"task_id", task_id},
                 {"submission_id", sid},
                 {"type", kind == Kind::kCopy ? "TRANSFER" : "DELETE"},
                 {"status", ok ? "SUCCEEDED" : "FAILED"},
                 {"items", t.ids.size()},
                 {"files_transferred", t.last.files_transferred},
                 {"bytes_transferred", t.last.bytes_transferred},
                 {"detail", why}};
    recent_.push_front(done);
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
    t->next_poll = Clock::now();
    t->interval = options_.poll_initial;
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
