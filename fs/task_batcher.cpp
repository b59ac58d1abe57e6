#include "fs/task_batcher.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "fs/mount_table.h"
#include "fs/task_batcher_internal.h"

namespace globusfs::fs {

namespace {

constexpr auto kKeepFinished = std::chrono::minutes(5);
// The worker and waiters with a deadline look at the (injected) clock at
// least this often.
constexpr auto kTick = std::chrono::milliseconds(50);

}  // namespace

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

bool TaskBatcher::Stop(std::optional<TimePoint> deadline) {
  {
    std::unique_lock lock(mu_);
    stop_ = true;
    work_cv_.notify_all();
    done_cv_.notify_all();
    // The worker may be inside a Transfer request: wait for it until the
    // deadline, not for ever.
    while (deadline && worker_.joinable() && !worker_exited_) {
      auto now = clock_->Now();
      if (now >= *deadline) return false;
      done_cv_.wait_for(lock,
                        std::min<std::chrono::steady_clock::duration>(*deadline - now, kTick));
    }
  }
  if (worker_.joinable()) worker_.join();
  return true;
}

bool TaskBatcher::Stopping() {
  std::lock_guard lock(mu_);
  return stop_;
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
    slot->retry = RetryBackoff(options_.retry_initial, options_.retry_max);
  }
  slot->ids.push_back(item->id);
  slot->last_add = clock_->Now();
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
                           const std::string& dst_path, bool recursive, int64_t bytes) {
  // Durable before it is accepted: a crash from here on loses nothing.
  std::string key = JournalQueued(Kind::kCopy, src_coll, src_path, dst_coll, dst_path, recursive);
  if (key.empty()) return EIO;
  {
    std::lock_guard lock(mu_);
    uint64_t id = AddItem(Kind::kCopy, src_coll, src_path, dst_coll, dst_path, recursive);
    items_[id]->journal_key = key;
    items_[id]->bytes = bytes;
  }
  return options_.wait_each ? WaitPath(dst_coll, dst_path) : 0;
}

std::string TaskBatcher::HoldDelete(const std::string& coll, const std::string& path) {
  return JournalQueued(Kind::kDelete, coll, path, "", "", false);
}

int TaskBatcher::QueueDelete(const std::string& coll, const std::string& path, bool is_dir,
                             const std::string& held_key) {
  std::string key = !held_key.empty() ? held_key : JournalQueued(Kind::kDelete, coll, path, "", "", is_dir);
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

bool TaskBatcher::WaitDone(std::unique_lock<std::mutex>& lock, const std::vector<uint64_t>& ids,
                           const std::string& coll, const std::string& path) {
  FlushCovering(coll, path);
  // A copy that a waited-for delete depends on must go too.
  for (auto& [key, b] : batches_) {
    if (b->kind == Kind::kCopy) b->flush_now = true;
  }
  work_cv_.notify_all();
  // Running work is waited for; work held up by a failure that is retried
  // later (Globus unreachable, no login) only for held_wait: nothing waits
  // without end.
  const auto held_limit = std::chrono::steady_clock::now() + options_.held_wait;
  std::string cause;
  for (;;) {
    bool all_done = true, held = false;
    for (uint64_t id : ids) {
      auto it = items_.find(id);
      if (it == items_.end() || it->second->done()) continue;
      all_done = false;
      held = held || HeldUp(id, &cause);
    }
    if (stop_ || all_done) return true;
    if (held && std::chrono::steady_clock::now() >= held_limit) {
      log_.LogOnce(LogLevel::kWarning, "held:" + coll + ":" + path,
                   "waited " + ShortDuration(options_.held_wait) + " for the pending work on " + path +
                       ", held up (" + cause + "): answering EIO; it stays queued and is retried");
      return false;
    }
    done_cv_.wait_for(lock, std::chrono::milliseconds(250));
  }
}

int TaskBatcher::WaitCopiesFrom(const std::string& coll, const std::string& path) {
  std::unique_lock lock(mu_);
  std::vector<uint64_t> ids;
  for (const auto& [id, item] : items_) {
    if (item->kind == Kind::kCopy && !item->done() && item->src_coll == coll && Overlap(item->src_path, path)) {
      ids.push_back(id);
    }
  }
  if (ids.empty()) return 0;
  // Their own failures are reported to whoever waits for their destination.
  return WaitDone(lock, ids, coll, path) ? 0 : EIO;
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
  if (pending && !WaitDone(lock, ids, coll, path)) return EIO;
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

bool TaskBatcher::HeldUp(uint64_t id, std::string* cause) const {
  for (const auto& [key, b] : batches_) {
    if (b->retry.failures() > 0 && std::find(b->ids.begin(), b->ids.end(), id) != b->ids.end()) {
      *cause = b->retry.cause();
      return true;
    }
  }
  for (const auto& [sid, t] : tasks_) {
    if (std::find(t->ids.begin(), t->ids.end(), id) == t->ids.end()) continue;
    if (t->retry.failures() > 0) {
      *cause = t->retry.cause();
      return true;
    }
    if (t->inactive) {  // suspended at Globus until someone acts
      *cause = "Globus task " + t->task_id + " is INACTIVE: " + t->inactive_reason;
      return true;
    }
  }
  return false;
}

bool TaskBatcher::AnyHeldUp(std::string* cause) const {
  for (const auto& [id, item] : items_) {
    if (!item->done() && HeldUp(id, cause)) return true;
  }
  return false;
}

bool TaskBatcher::AllDone() const {
  for (const auto& [id, item] : items_) {
    if (!item->done()) return false;
  }
  return true;
}

bool TaskBatcher::WaitDone(std::unique_lock<std::mutex>& lock, std::optional<TimePoint> deadline,
                           const std::function<bool()>& done) {
  while (!done()) {
    if (stop_) return false;
    if (!deadline) {
      done_cv_.wait_for(lock, kTick);  // `done` may depend on time too
      continue;
    }
    // The deadline is on the injected clock: look at it at least every tick.
    auto now = clock_->Now();
    if (now >= *deadline) return false;
    done_cv_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(*deadline - now, kTick));
  }
  return true;
}

int TaskBatcher::WaitAll(std::optional<TimePoint> deadline) {
  std::unique_lock lock(mu_);
  for (auto& [key, b] : batches_) b->flush_now = true;
  ++flushing_all_;  // also what is re-queued or queued while we wait
  work_cv_.notify_all();
  // As in WaitPath: work held up (Globus unreachable, no login, an INACTIVE
  // task) is waited for only held_wait.
  const auto held_limit = std::chrono::steady_clock::now() + options_.held_wait;
  std::string cause;
  bool held_out = false;
  bool done = WaitDone(lock, deadline, [&] {
    if (AllDone()) return true;
    held_out = std::chrono::steady_clock::now() >= held_limit && AnyHeldUp(&cause);
    return held_out;
  });
  --flushing_all_;
  if (held_out) {
    done = false;
    log_.LogOnce(LogLevel::kWarning, "held:all",
                 "waited " + ShortDuration(options_.held_wait) +
                     " for every pending copy and delete, held up (" + cause +
                     "): answering EIO; they stay queued and are retried");
  }
  bool failed = failures_ > 0 || (!done && stop_) || held_out;
  failures_ = 0;
  for (auto& [id, item] : items_) {
    if (item->done()) item->reported = true;
  }
  if (failed) return EIO;
  return done ? 0 : ETIMEDOUT;
}

DrainReport TaskBatcher::Drain(TimePoint deadline) {
  std::unique_lock lock(mu_);
  for (auto& [key, b] : batches_) b->flush_now = true;
  ++flushing_all_;
  work_cv_.notify_all();
  WaitDone(lock, deadline, [&] { return AllDone(); });
  --flushing_all_;
  return Leftover();
}

void TaskBatcher::Complete(uint64_t id, State state, const std::string& why) {
  auto it = items_.find(id);
  if (it == items_.end()) return;
  Item& i = *it->second;
  i.state = state;
  i.why = why;
  i.finished_at = clock_->Now();
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
    auto now = clock_->Now();
    std::vector<Batch> due;
    for (auto it = batches_.begin(); it != batches_.end();) {
      Batch& b = *it->second;
      // A batch waiting for its retry time waits, flushed or not.
      bool ready = b.retry.Ready(now) &&
                   (b.flush_now || flushing_all_ > 0 || b.ids.size() >= options_.max_items ||
                    now - b.last_add >= options_.window);
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
      work_cv_.wait_for(lock, kTick);
      continue;
    }
    lock.unlock();
    // Each call may take long (retries, timeouts): a Stop in between is
    // heard before the next one.
    for (auto& b : due) {
      if (!Stopping()) {
        SendBatch(std::move(b));
        continue;
      }
      std::lock_guard put_back(mu_);
      PutBack(std::move(b));
    }
    for (const auto& sid : polls) {
      if (Stopping()) break;
      Poll(sid);
    }
    lock.lock();
  }
  worker_exited_ = true;
  done_cv_.notify_all();
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
    RetryBatch(std::move(b), sid.error());
    return;
  }
  if (int failed = b.retry.Succeeded(); failed > 0) {
    log_.Log(LogLevel::kInfo, "recovered: a " + rec.kind + " of " + std::to_string(b.ids.size()) +
                                  " item(s) got its submission id after " + std::to_string(failed) +
                                  " failed attempt(s)");
  }
  rec.submission_id = *sid;
  rec.created_at_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_->SystemNow().time_since_epoch()).count();
  if (!journal_.PutTaskReplacing(rec, replaced)) {
    std::lock_guard lock(mu_);
    for (uint64_t id : b.ids) Complete(id, State::kFailed, "cannot record the task in the journal");
    failures_ += b.ids.size();
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
    t->next_poll = clock_->Now();  // Poll submits it (and resubmits after a failure)
    t->interval = options_.poll_initial;
    t->retry = RetryBackoff(options_.retry_initial, options_.retry_max);
    for (uint64_t id : b.ids) {
      items_[id]->state = State::kSent;
      items_[id]->submission_id = *sid;
      items_[id]->journal_key.clear();
      for (uint64_t f : items_[id]->folded) {
        if (auto fi = items_.find(f); fi != items_.end()) fi->second->journal_key.clear();
      }
    }
    tasks_[*sid] = std::move(t);
    // Deletes held back from this batch (behind a copy) start afresh too.
    if (auto held = batches_.find(b.key); held != batches_.end()) held->second->retry.Succeeded();
  }
  if (!Stopping()) Poll(*sid);  // submits it at once (else the next mount does)
}

void TaskBatcher::PutBack(Batch b) {
  auto& slot = batches_[b.key];
  if (!slot) {
    slot = std::make_unique<Batch>(std::move(b));
    return;
  }
  // Items queued meanwhile wait with them, behind them.
  slot->ids.insert(slot->ids.begin(), b.ids.begin(), b.ids.end());
  slot->flush_now = slot->flush_now || b.flush_now;
  slot->retry = b.retry;
}

void TaskBatcher::RetryBatch(Batch b, const http::Error& error) {
  // Every failure here is retried: GET /submission_id names no collection
  // and no path, so nothing in it can be refused for good.
  const std::string what = std::string("cannot get a submission id for a ") +
                           (b.kind == Kind::kCopy ? "transfer" : "delete") + " of " +
                           std::to_string(b.ids.size()) + " item(s)";
  bool news = false;
  RetryBackoff retry;
  {
    std::lock_guard lock(mu_);
    news = b.retry.Failed(clock_->Now(), clock_->Random(), RetryCause(error));
    retry = b.retry;
    PutBack(std::move(b));
  }
  if (news) {
    log_.Log(LogLevel::kWarning, what + ": " + error.Summary() + " -- " + retry.cause() +
                                     "; kept in the journal, will retry in " +
                                     ShortDuration(retry.wait()));
  }
}

}  // namespace globusfs::fs
