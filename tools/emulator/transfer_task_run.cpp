// One attempt of one Transfer task (see RunTaskAttempt in transfer_tasks.h):
// the file work of TRANSFER and DELETE tasks, and the task-document
// bookkeeping that goes with it. File I/O happens outside State's lock;
// every state change is one short State::With.
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <set>
#include <vector>

#include "emulator.h"
#include "paths.h"
#include "transfer_files.h"
#include "transfer_listing.h"
#include "transfer_tasks.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;
namespace fs = std::filesystem;

json Event(const std::string& code, const std::string& description, const std::string& details,
           bool is_error) {
  return {{"DATA_TYPE", "event"},   {"code", code},         {"description", description},
          {"details", details},     {"is_error", is_error}, {"time", IsoTime(NowEpoch())}};
}

std::string Describe(const std::string& code) {
  std::string out = code;
  for (auto& ch : out) {
    ch = ch == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  }
  return out;
}

namespace {

// File items get their destination's missing parents created too: the CLI's
// transfer reference says "All intermediate / parent directories on the
// dest will be automatically created if they don't exist."
constexpr bool kCreateDestinationParents = true;

std::string EventCode(int err) {
  switch (err) {
    case ENOENT: return "FILE_NOT_FOUND";
    case EACCES:
    case EPERM: return "PERMISSION_DENIED";
    case ENOTDIR: return "NOT_A_DIRECTORY";
    case EISDIR: return "IS_A_DIRECTORY";
    case ENOSPC: return "NO_SPACE_LEFT";
    case EDQUOT: return "QUOTA_EXCEEDED";
    case ENAMETOOLONG:
    case EINVAL: return "INVALID_PATH_NAME";
    default: return "UNKNOWN";
  }
}

void Add(json& doc, const char* key, int64_t delta) {
  doc[key] = doc.value(key, int64_t{0}) + delta;
}

void RecountPending(json& doc) {
  int64_t p = doc.value("subtasks_total", int64_t{0});
  for (const char* k : {"subtasks_succeeded", "subtasks_failed", "subtasks_canceled",
                        "subtasks_expired", "subtasks_skipped_errors"}) {
    p -= doc.value(k, int64_t{0});
  }
  doc["subtasks_pending"] = std::max<int64_t>(0, p);
}

// Ends the task: status, fatal error, completion, pending subtasks moved to
// the bucket of the outcome, the final event.
void Finish(Task& t, const std::string& status, const json& fatal, json event) {
  json& d = t.doc;
  RecountPending(d);
  int64_t pending = d["subtasks_pending"];
  std::string code = fatal.is_object() ? fatal.value("code", "") : "";
  const char* bucket = status == "SUCCEEDED" ? "subtasks_succeeded"
                       : code == "CANCELED"  ? "subtasks_canceled"
                       : code == "EXPIRED"   ? "subtasks_expired"
                                             : "subtasks_failed";
  Add(d, bucket, pending);
  d["subtasks_pending"] = 0;
  int64_t now = NowEpoch();
  d["status"] = status;
  d["fatal_error"] = fatal;
  d["completion_time"] = IsoTime(now);
  d["is_ok"] = nullptr;
  d["nice_status"] = nullptr;
  d["nice_status_short_description"] = nullptr;
  d["nice_status_details"] = nullptr;
  int64_t started = t.request.contains("_emulator")
                        ? t.request["_emulator"].value("started_at", now)
                        : now;
  d["effective_bytes_per_second"] =
      d.value("bytes_transferred", int64_t{0}) / std::max<int64_t>(1, now - started);
  t.events.push_back(std::move(event));
}

std::string Join(const std::string& base, const std::string& rel) {
  if (rel.empty()) return base;
  return (!base.empty() && base.back() == '/') ? base + rel : base + "/" + rel;
}

json& Ems(Task& t) { return t.request["_emulator"]; }

class Attempt {
 public:
  // Ends the task FAILED with this fatal error (also used for injected faults).
  void Fail(const std::string& code, const std::string& description, const std::string& details);
  // Suspends the task until `until_ms` (an injected fault): see SuspendTask.
  void Suspend(const std::string& code, int64_t until_ms) {
    Update([&](Task& t) { SuspendTask(t, code, until_ms); });
    gone_ = true;
  }
  Attempt(Emulator& emu, std::string id, const std::function<bool()>& aborted)
      : emu_(emu), id_(std::move(id)), aborted_(aborted) {
    server_ = emu_.BaseUrl().substr(std::string("https://").size());
  }

  bool Begin();
  void RunTransfer();
  void RunDelete();
  const std::string& type() const { return type_; }

 private:
  enum class Step { kDone, kFault, kStop };

  bool Update(const std::function<void(Task&)>& f);
  bool Stopping() const { return aborted_() || gone_ || NowEpoch() >= deadline_; }
  bool Flag(const char* key, size_t i) const { return req_["_emulator"][key][i].get<bool>(); }
  std::string Details(const Collection& c, const std::string& op, const std::string& path,
                      const std::string& command, int err, const std::string& reason) const;
  Step Fault(const Collection& c, bool source, const std::string& path, int err,
             const std::string& reason, const std::string& code = "");
  Step SourceError(size_t i, bool whole_item, const std::string& sc, const std::string& dc,
                   int err, const std::string& reason);
  void FailDelete(const Collection& c, const std::string& path, int err, const std::string& reason);
  Step TransferItem(size_t i, const json& item);
  Step TransferTree(size_t i, const std::string& sp, const std::string& dp, const ResolvedPath& s,
                    const ResolvedPath& d);
  Step CopyEntry(size_t i, bool whole_item, const std::string& sc, const std::string& dc,
                 const fs::path& src, const fs::path& dst);
  bool SyncSkip(const fs::path& src, const fs::path& dst, const struct stat& sst) const;
  Step DeleteItem(size_t i, const Collection& c, const json& item);

  Emulator& emu_;
  std::string id_, type_, server_;
  const std::function<bool()>& aborted_;
  json req_;  // the task's request, with "_emulator" kept in step with State
  int64_t deadline_ = 0;
  bool gone_ = false;          // the task stopped being ACTIVE under us
  bool faulted_ = false;       // an item faulted in this attempt
  bool item_faulted_ = false;  // the current item already reported its fault
  std::optional<Collection> src_, dst_;
  std::set<std::string> completed_;  // destination paths already done
};

bool Attempt::Begin() {
  int64_t now = NowEpoch();
  bool ok = emu_.state().With([&](StateData& d) {
    auto it = d.tasks.find(id_);
    if (it == d.tasks.end() || it->second.doc.value("status", "") != "ACTIVE") return false;
    Task& t = it->second;
    json& ems = Ems(t);
    if (!ems.value("started", false)) {
      ems["started"] = true;
      ems["started_at"] = now;
      t.doc["nice_status"] = "OK";
      t.doc["nice_status_short_description"] = "OK";
      bool transfer = t.doc.value("type", "") == "TRANSFER";
      t.events.push_back(Event("STARTED", "started",
                               transfer ? "{\n  \"type\": \"GridFTP Transfer\",\n"
                                          "  \"concurrency\": 1,\n  \"protocol\": \"Globus\"\n}"
                                        : "{\n  \"type\": \"Delete\"\n}",
                               false));
    }
    req_ = t.request;
    type_ = t.doc.value("type", "");
    deadline_ = t.deadline;
    return true;
  });
  if (!ok) return false;
  emu_.state().MarkDirty();
  for (const auto& p : req_["_emulator"]["completed"]) completed_.insert(p.get<std::string>());
  return true;
}

bool Attempt::Update(const std::function<void(Task&)>& f) {
  bool ok = emu_.state().With([&](StateData& d) {
    auto it = d.tasks.find(id_);
    if (it == d.tasks.end() || it->second.doc.value("status", "") != "ACTIVE") return false;
    f(it->second);
    return true;
  });
  if (ok) {
    emu_.state().MarkDirty();
  } else {
    gone_ = true;
  }
  return ok;
}

std::string Attempt::Details(const Collection& c, const std::string& op, const std::string& path,
                             const std::string& command, int err,
                             const std::string& reason) const {
  EndpointError e{"", op, path, command, "Fatal FTP response",
                  GlobusReply(GlobusCodeForErrno(err), err, reason)};
  return FormatEndpointError(e, c, server_);
}

Attempt::Step Attempt::Fault(const Collection& c, bool source, const std::string& path, int err,
                             const std::string& reason, const std::string& code_in) {
  std::string code = code_in.empty() ? EventCode(err) : code_in;
  std::string details =
      Details(c, "transfer", path, (source ? "RETR " : "STOR ") + path, err, reason);
  if ((err == ENOSPC || err == EDQUOT) && req_.value("fail_on_quota_errors", false)) {
    Fail(code, Describe(code), details);
    return Step::kStop;
  }
  faulted_ = true;
  if (item_faulted_) return Step::kFault;  // one event per item and attempt
  item_faulted_ = true;
  Update([&](Task& t) {
    Add(t.doc, "faults", 1);
    t.doc["is_ok"] = false;
    t.doc["nice_status_details"] = details;
    t.events.push_back(Event(code, Describe(code), details, true));
  });
  return gone_ ? Step::kStop : Step::kFault;
}

Attempt::Step Attempt::SourceError(size_t i, bool whole_item, const std::string& sc,
                                   const std::string& dc, int err, const std::string& reason) {
  bool skippable = err == ENOENT || err == ENOTDIR || err == EACCES || err == EPERM;
  if (!skippable || !req_.value("skip_source_errors", false)) {
    return Fault(*src_, true, sc, err, reason);
  }
  Update([&](Task& t) {
    Add(t.doc, "subtasks_skipped_errors", 1);
    if (whole_item) {
      Ems(t)["done"][i] = true;
    } else {
      Ems(t)["completed"].push_back(dc);
    }
    RecountPending(t.doc);
  });
  if (whole_item) req_["_emulator"]["done"][i] = true;
  completed_.insert(dc);
  return gone_ ? Step::kStop : Step::kDone;
}

void Attempt::Fail(const std::string& code, const std::string& description,
                   const std::string& details) {
  Update([&](Task& t) {
    Finish(t, "FAILED", {{"code", code}, {"description", description}},
           Event(code, description, details, true));
  });
  gone_ = true;
}

void Attempt::FailDelete(const Collection& c, const std::string& path, int err,
                         const std::string& reason) {
  std::string code = EventCode(err);
  Fail(code, Describe(code), Details(c, "delete", path, "DELE " + path, err, reason));
}

void Attempt::RunTransfer() {
  src_ = emu_.FindCollection(req_.value("source_endpoint", ""));
  dst_ = emu_.FindCollection(req_.value("destination_endpoint", ""));
  if (!src_ || !dst_) {
    Fail("ENDPOINT_ERROR", "endpoint error", "The collection is no longer served");
    return;
  }
  const json items = req_["DATA"];
  for (size_t i = 0; i < items.size(); ++i) {
    if (Flag("done", i)) continue;
    if (Stopping()) return;
    item_faulted_ = false;
    if (TransferItem(i, items[i]) == Step::kStop) return;
  }
  if (faulted_) {
    int64_t next = NowEpochMs() + kRetryIntervalMs;
    Update([&](Task& t) { Ems(t)["next_attempt_ms"] = next; });
    return;
  }
  Update([&](Task& t) {
    std::string details = "{\n  \"files_succeeded\": " +
                          std::to_string(t.doc.value("files_transferred", int64_t{0})) + "\n}";
    Finish(t, "SUCCEEDED", nullptr, Event("SUCCEEDED", "succeeded", details, false));
  });
}

Attempt::Step Attempt::TransferItem(size_t i, const json& item) {
  std::string sp = item["source_path"], dp = item["destination_path"];
  json recursive = item.value("recursive", json());
  PathProblem problem;
  auto s = ResolvePath(*src_, sp, &problem);
  if (!s) return SourceError(i, true, sp, dp, EACCES, "Path not allowed");
  struct stat st;
  if (::stat(s->local.c_str(), &st) != 0) {
    return SourceError(i, true, sp, dp, errno, "System error in stat");
  }
  if (!InsideRoot(src_->root, s->local)) {
    return SourceError(i, true, sp, dp, EACCES, "Path not allowed");
  }
  bool is_dir = S_ISDIR(st.st_mode);
  if (!is_dir && !S_ISREG(st.st_mode)) {
    return Fault(*src_, true, sp, EINVAL, "Not a regular file", "NOT_A_FILE");
  }
  if (recursive.is_boolean() && recursive.get<bool>() && !is_dir) {
    return Fault(*src_, true, sp, ENOTDIR, "System error in opendir");
  }
  if (recursive.is_boolean() && !recursive.get<bool>() && is_dir) {
    return Fault(*src_, true, sp, EISDIR, "System error in open");
  }
  auto d = ResolvePath(*dst_, dp, &problem);
  if (!d) return Fault(*dst_, false, dp, EACCES, "Path not allowed");
  if (is_dir) return TransferTree(i, sp, dp, *s, *d);
  if (!Flag("expanded", i)) {
    Update([&](Task& t) {
      Add(t.doc, "files", 1);
      Ems(t)["expanded"][i] = true;
    });
    req_["_emulator"]["expanded"][i] = true;
  }
  return CopyEntry(i, true, sp, dp, s->local, d->local);
}

Attempt::Step Attempt::TransferTree(size_t i, const std::string& sp, const std::string& dp,
                                    const ResolvedPath& s, const ResolvedPath& d) {
  const json rules = req_.value("filter_rules", json());
  Tree tree;
  std::string bad;
  if (int err = WalkTree(src_->root, s.local, rules,
                         req_.value("recursive_symlinks", "ignore"), &tree, &bad)) {
    return SourceError(i, true, Join(sp, bad), dp, err, "System error in opendir");
  }
  if (!Flag("expanded", i)) {
    Update([&](Task& t) {
      Add(t.doc, "files", tree.files);
      Add(t.doc, "directories", 1 + tree.dirs);
      Add(t.doc, "symlinks", tree.symlinks);
      Add(t.doc, "subtasks_total", tree.files + tree.dirs);
      Ems(t)["item_dirs"][i] = tree.dirs;
      Ems(t)["expanded"][i] = true;
      RecountPending(t.doc);
    });
    req_["_emulator"]["item_dirs"][i] = tree.dirs;
    req_["_emulator"]["expanded"][i] = true;
  }
  struct stat st;
  if (::stat(d.local.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Fault(*dst_, false, dp, ENOTDIR, "System error in mkdir");
    if (!InsideRoot(dst_->root, d.local)) return Fault(*dst_, false, dp, EACCES, "Path not allowed");
  } else {
    std::error_code ec;
    fs::create_directories(d.local, ec);
    if (ec) return Fault(*dst_, false, dp, ec.value(), "System error in mkdir");
  }
  std::set<std::string> keep;
  for (const auto& e : tree.entries) {
    if (Stopping()) return Step::kStop;
    keep.insert(e.rel);
    std::string sc = Join(sp, e.rel), dc = Join(dp, e.rel);
    fs::path target = d.local / e.rel;
    Step step = Step::kDone;
    struct stat x;
    bool exists = ::lstat(target.c_str(), &x) == 0;
    if (e.kind == 'd') {
      int err = exists ? (S_ISDIR(x.st_mode) ? 0 : ENOTDIR)
                       : (::mkdir(target.c_str(), 0777) == 0 || errno == EEXIST ? 0 : errno);
      if (err) step = Fault(*dst_, false, dc, err, "System error in mkdir");
    } else if (e.kind == 'f') {
      step = CopyEntry(i, false, sc, dc, e.local, target);
    } else if (!completed_.count(dc)) {  // 'l': recursive_symlinks=keep
      int err = exists && S_ISDIR(x.st_mode) ? EISDIR : 0;
      if (!err && exists && ::unlink(target.c_str()) != 0) err = errno;
      if (!err && ::symlink(e.link.c_str(), target.c_str()) != 0) err = errno;
      if (err) {
        step = Fault(*dst_, false, dc, err, "System error in symlink");
      } else {
        Update([&](Task& t) { Ems(t)["completed"].push_back(dc); });
        completed_.insert(dc);
      }
    }
    if (step == Step::kStop || gone_) return Step::kStop;
  }
  if (item_faulted_) return Step::kFault;
  if (req_.value("delete_destination_extra", false)) DeleteExtra(d.local, keep, rules);
  int64_t dirs = req_["_emulator"]["item_dirs"][i];
  Update([&](Task& t) {
    Add(t.doc, "subtasks_succeeded", 1 + dirs);
    Ems(t)["done"][i] = true;
    RecountPending(t.doc);
  });
  req_["_emulator"]["done"][i] = true;
  return gone_ ? Step::kStop : Step::kDone;
}

bool Attempt::SyncSkip(const fs::path& src, const fs::path& dst, const struct stat& sst) const {
  json level = req_.value("sync_level", json());
  struct stat dst_st;
  if (!level.is_number_integer() || ::stat(dst.c_str(), &dst_st) != 0 ||
      !S_ISREG(dst_st.st_mode)) {
    return false;
  }
  switch (level.get<int>()) {
    case 0: return true;                                   // exists
    case 1: return sst.st_size == dst_st.st_size;          // size
    case 2: return sst.st_mtime <= dst_st.st_mtime;        // mtime: copy a newer source
    default: {                                             // checksum
      if (sst.st_size != dst_st.st_size) return false;
      std::string a = Sha256File(src, aborted_);
      return !a.empty() && a == Sha256File(dst, aborted_);
    }
  }
}

Attempt::Step Attempt::CopyEntry(size_t i, bool whole_item, const std::string& sc,
                                 const std::string& dc, const fs::path& src, const fs::path& dst) {
  if (!whole_item && completed_.count(dc)) return Step::kDone;
  struct stat sst;
  if (::stat(src.c_str(), &sst) != 0) {
    return SourceError(i, whole_item, sc, dc, errno, "System error in stat");
  }
  struct stat dl;
  if (::lstat(dst.c_str(), &dl) == 0 && S_ISDIR(dl.st_mode)) {
    return Fault(*dst_, false, dc, EISDIR, "System error in open");
  }
  if (kCreateDestinationParents) {
    std::error_code ec;
    fs::create_directories(dst.parent_path(), ec);
    if (ec) return Fault(*dst_, false, dc, ec.value(), "System error in mkdir");
  }
  CopyResult r;
  bool skipped = SyncSkip(src, dst, sst);
  if (!skipped) {
    r = CopyIntoPlace(src, dst, req_.value("preserve_timestamp", false),
                 req_.value("verify_checksum", false), aborted_);
    if (r.stopped) return Step::kStop;
    if (r.mismatch) {
      return Fault(*dst_, false, dc, EIO, "Checksum verification failed", "VERIFY_CHECKSUM");
    }
    if (r.err && r.source_side) return SourceError(i, whole_item, sc, dc, r.err, "System error in open");
    if (r.err) return Fault(*dst_, false, dc, r.err, "System error in open");
  }
  Update([&](Task& t) {
    json& ems = Ems(t);
    if (skipped) {
      Add(t.doc, "files_skipped", 1);
    } else {
      Add(t.doc, "files_transferred", 1);
      Add(t.doc, "bytes_transferred", r.bytes);
      ems["successful"].push_back({{"DATA_TYPE", "successful_transfer"},
                                   {"source_path", sc},
                                   {"destination_path", dc}});
    }
    Add(t.doc, "bytes_checksummed", r.checksummed);
    Add(t.doc, "subtasks_succeeded", 1);
    if (whole_item) {
      ems["done"][i] = true;
    } else {
      ems["completed"].push_back(dc);
    }
    RecountPending(t.doc);
  });
  if (whole_item) req_["_emulator"]["done"][i] = true;
  completed_.insert(dc);
  return gone_ ? Step::kStop : Step::kDone;
}

void Attempt::RunDelete() {
  auto c = emu_.FindCollection(req_.value("endpoint", ""));
  if (!c) {
    Fail("ENDPOINT_ERROR", "endpoint error", "The collection is no longer served");
    return;
  }
  const json items = req_["DATA"];
  for (size_t i = 0; i < items.size(); ++i) {
    if (Flag("done", i)) continue;
    if (Stopping()) return;
    if (DeleteItem(i, *c, items[i]) == Step::kStop) return;
  }
  Update([&](Task& t) {
    std::string details =
        "{\n  \"files_deleted\": " + std::to_string(t.doc.value("files", int64_t{0})) + "\n}";
    Finish(t, "SUCCEEDED", nullptr, Event("SUCCEEDED", "succeeded", details, false));
  });
}

Attempt::Step Attempt::DeleteItem(size_t i, const Collection& c, const json& item) {
  std::string asked = item["path"];
  std::string norm = NormalisePath(asked, HomePath(c)).value_or("/");
  std::string parent = ParentPath(norm), last = BaseName(norm);
  auto join = [](const std::string& p, const std::string& n) {
    return p == "/" ? "/" + n : p + "/" + n;
  };
  bool globs = req_.value("interpret_globs", false);
  std::vector<std::string> targets;
  if (norm != "/" && globs && HasGlob(last)) {
    PathProblem problem;
    auto pd = ResolvePath(c, parent, &problem);
    if (!pd) {
      FailDelete(c, asked, EACCES, "Path not allowed");
      return Step::kStop;
    }
    int err = 0;
    for (const auto& name : SortedNames(pd->local, &err)) {
      if (::fnmatch(last.c_str(), name.c_str(), 0) == 0) targets.push_back(join(parent, name));
    }
  } else {
    targets.push_back(norm != "/" && globs ? join(parent, UnescapeGlob(last)) : norm);
  }
  bool ignore_missing = req_.value("ignore_missing", false);
  if (targets.empty() && !ignore_missing) {
    FailDelete(c, asked, ENOENT, "System error in stat");
    return Step::kStop;
  }
  DeleteCounts n;
  for (const auto& cp : targets) {
    if (Stopping()) return Step::kStop;
    PathProblem problem;
    auto r = ResolvePath(c, cp, &problem);
    if (!r || r->collection_path == "/") {
      FailDelete(c, cp, EACCES, "Path not allowed");
      return Step::kStop;
    }
    struct stat st;
    if (::lstat(r->local.c_str(), &st) != 0) {
      int err = errno == ENOTDIR ? ENOENT : errno;
      if (err == ENOENT && ignore_missing) continue;
      FailDelete(c, cp, err, "System error in stat");
      return Step::kStop;
    }
    if (S_ISDIR(st.st_mode)) {
      if (!req_.value("recursive", false)) {
        Fail("IS_A_DIRECTORY", "path is a directory; recursive delete not requested",
             Details(c, "delete", cp, "RMD " + cp, EISDIR, "Recursive delete not requested"));
        return Step::kStop;
      }
      fs::path bad;
      int err = DeleteTree(r->local, &n, aborted_, &bad);
      if (err < 0) return Step::kStop;
      if (err) {
        std::string rel = bad.string().substr(std::min(bad.string().size(), c.root.string().size()));
        FailDelete(c, rel.empty() ? "/" : rel, err, "System error in delete");
        return Step::kStop;
      }
    } else if (::unlink(r->local.c_str()) != 0) {
      FailDelete(c, cp, errno, "System error in unlink");
      return Step::kStop;
    } else {
      ++(S_ISLNK(st.st_mode) ? n.symlinks : n.files);
    }
  }
  // The item was counted as one file at submission; now count what it was.
  int64_t entries = std::max<int64_t>(1, n.files + n.dirs + n.symlinks);
  Update([&](Task& t) {
    Add(t.doc, "files", n.files - 1);
    Add(t.doc, "directories", n.dirs);
    Add(t.doc, "symlinks", n.symlinks);
    Add(t.doc, "subtasks_total", entries - 1);
    Add(t.doc, "subtasks_succeeded", entries);
    Ems(t)["done"][i] = true;
    RecountPending(t.doc);
  });
  req_["_emulator"]["done"][i] = true;
  return gone_ ? Step::kStop : Step::kDone;
}

}  // namespace

void ExpireTask(Task& t) {
  Finish(t, "FAILED", {{"code", "EXPIRED"}, {"description", "deadline exceeded"}},
         Event("EXPIRED", "deadline exceeded",
               "The task deadline (" + t.doc.value("deadline", "") + ") has passed", true));
}

void CancelTask(Task& t) {
  Finish(t, "FAILED", {{"code", "CANCELED"}, {"description", "canceled"}},
         Event("CANCELED", "canceled", "Canceled by the task owner", true));
}

void RunTaskAttempt(Emulator& emu, const std::string& id, const std::function<bool()>& aborted) {
  Attempt attempt(emu, id, aborted);
  if (!attempt.Begin()) return;
  auto fault = emu.TakeTaskFault(attempt.type() == "DELETE" ? "task.delete" : "task.transfer");
  if (fault && fault->inactive_ms > 0) {
    attempt.Suspend(
        fault->nice_status.empty() ? std::string(kDefaultInactiveStatus) : fault->nice_status,
        NowEpochMs() + fault->inactive_ms);
    return;
  }
  if (fault) {
    std::string code = fault->code.empty() ? "PERMISSION_DENIED" : fault->code;
    attempt.Fail(code, "injected by globus-emulator", "Error: injected task failure (" + code + ")");
    return;
  }
  if (attempt.type() == "DELETE") {
    attempt.RunDelete();
  } else {
    attempt.RunTransfer();
  }
}

}  // namespace emu
