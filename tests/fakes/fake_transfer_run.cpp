// One attempt of a FakeTransfer task (see tests/fakes/fake_transfer.h), as
// globus-emulator's worker runs it: a transfer copies the fake's entries and
// records a fault and an error event per failing item (it stays ACTIVE); a
// delete removes its paths and ends FAILED at its first error. Also the
// helpers every task file shares (IsoTime, Describe, RecountPending).
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <ctime>
#include <optional>
#include <utility>

#include "tests/fakes/fake_transfer.h"
#include "tests/fakes/fake_transfer_internal.h"

namespace globusfs::fs {
namespace fake_transfer_internal {

std::string IsoTime(int64_t seconds) {
  const std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S+00:00", &tm);
  return text;
}

// "FILE_NOT_FOUND" -> "file not found", as Transfer describes its codes.
std::string Describe(const std::string& code) {
  std::string out = code;
  for (char& c : out) {
    c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

void RecountPending(TaskStatus& s, int64_t ended) {
  s.subtasks_pending =
      std::max<int64_t>(0, s.subtasks_total - s.subtasks_succeeded - s.subtasks_failed - ended);
}

}  // namespace fake_transfer_internal

using namespace fake_transfer_internal;

namespace {

using Task = FakeTransfer::Task;

// The event code (and GridFTP code) of a failed file operation.
struct Problem {
  const char* code;  // FILE_NOT_FOUND, ...
  const char* grid;  // PATH_NOT_FOUND, ...
  int err;
};
constexpr Problem kMissing{"FILE_NOT_FOUND", "PATH_NOT_FOUND", ENOENT};
constexpr Problem kNotADir{"NOT_A_DIRECTORY", "NOT_A_DIRECTORY", ENOTDIR};
constexpr Problem kIsADir{"IS_A_DIRECTORY", "IS_A_DIRECTORY", EISDIR};
constexpr Problem kDenied{"PERMISSION_DENIED", "PERMISSION_DENIED", EACCES};

// A fault of one transfer item: what goes into its error event.
struct Fault {
  Problem problem;
  std::string details;
};

Fault MakeFault(const auth::CollectionInfo& info, Problem p, const std::string& command,
                const std::string& reason) {
  return Fault{p, EndpointMessage(Ctx{info, ""}, "", "transfer", command, p.grid, p.err, reason)};
}

// A source tree as it was when an attempt began (values, not pointers: the
// copy may replace the very nodes it reads when source and destination
// overlap). Symbolic links are left out (recursive_symlinks "ignore").
struct Snapshot {
  std::string name;  // "" for the item itself
  bool dir = true;
  uint64_t size = 0;
  int64_t mtime = 0;
  std::vector<Snapshot> children;  // sorted by name
  int64_t files = 0, dirs = 0;     // below this directory
};

Snapshot Snap(const std::string& name, const Node& n) {
  Snapshot s{name, n.IsDir(), n.size, n.mtime, {}, 0, 0};
  for (const auto& [child_name, child] : n.children) {
    if (child->type != EntryType::kDir && child->type != EntryType::kFile) continue;
    Snapshot c = Snap(child_name, *child);
    s.files += c.dir ? c.files : 1;
    s.dirs += c.dir ? 1 + c.dirs : 0;
    s.children.push_back(std::move(c));
  }
  return s;
}

std::unique_ptr<Node> NewDir(int64_t now) {
  auto dir = std::make_unique<Node>();
  dir->mtime = now;
  dir->size = kDirSize;
  return dir;
}

// The directory at `parts` in `root`, created with its missing parents
// (links followed); null with *problem when a component is not a directory.
Node* MakeDirs(Node* root, const Parts& parts, int64_t now, Problem* problem) {
  Node* cur = root;
  Parts walked;
  for (const std::string& part : parts) {
    walked.push_back(part);
    auto& slot = cur->children[part];
    if (!slot) {
      slot = NewDir(now);
      cur->mtime = now;
    }
    Node* next = slot.get();
    if (next->type == EntryType::kSymlink || next->type == EntryType::kInvalidSymlink) {
      Found f = Resolve(root, walked, /*follow_last=*/true);
      next = f.status == Walk::kOk ? f.node : nullptr;
    }
    if (next == nullptr || !next->IsDir()) {
      *problem = kNotADir;
      return nullptr;
    }
    cur = next;
  }
  return cur;
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir.ends_with('/') ? dir + name : dir + "/" + name;
}

// Merges a snapshot directory's contents into `into`. The first fault is
// kept in *fault and the rest carries on, as the emulator does; files
// copied are recorded in task.completed so a retry neither copies nor
// counts them again.
void CopyTree(Task& task, const Snapshot& from, Node* into, const std::string& path,
              const auth::CollectionInfo& info, int64_t now, std::optional<Fault>* fault) {
  for (const Snapshot& child : from.children) {
    const std::string& name = child.name;
    const std::string child_path = Join(path, name);
    if (!child.dir && task.completed.count(child_path) != 0) continue;  // by an earlier attempt
    auto& slot = into->children[name];
    if (child.dir) {
      if (!slot) {
        slot = NewDir(now);
        into->mtime = now;
      }
      if (!slot->IsDir()) {
        if (!*fault) *fault = MakeFault(info, kNotADir, "MKD " + child_path, "System error in mkdir");
        continue;
      }
      CopyTree(task, child, slot.get(), child_path, info, now, fault);
      continue;
    }
    if (slot && slot->IsDir()) {
      if (!*fault) *fault = MakeFault(info, kIsADir, "STOR " + child_path, "System error in open");
      continue;
    }
    const int64_t mtime = task.transfer.preserve_timestamp ? child.mtime : now;
    slot = std::make_unique<Node>(
        Node{EntryType::kFile, EntryType::kFile, child.size, mtime, 0644, "", {}});
    into->mtime = now;
    ++task.status.files_transferred;
    task.status.bytes_transferred += static_cast<int64_t>(child.size);
    ++task.status.subtasks_succeeded;
    task.completed.insert(child_path);
  }
}

// One item of a transfer attempt: the fault it ran into, or nullopt when
// the item is done.
std::optional<Fault> CopyItem(Task& task, size_t i, FakeTransfer::Collection& src,
                              FakeTransfer::Collection& dst, int64_t now) {
  const TransferItem& item = task.transfer.items[i];
  TaskStatus& s = task.status;
  const std::string& from = item.source_path;
  const std::string& to = item.destination_path;
  const Found f = Resolve(src.root.get(), Components(from).value_or(Parts{}), true);
  if (f.status != Walk::kOk) {
    return MakeFault(src.info, f.status == Walk::kNotDir ? kNotADir : kMissing, "RETR " + from,
                     "System error in stat");
  }
  const bool is_dir = f.node->IsDir();
  if (item.recursive && !is_dir) {
    return MakeFault(src.info, kNotADir, "RETR " + from, "System error in opendir");
  }
  if (!item.recursive && is_dir) {
    return MakeFault(src.info, kIsADir, "RETR " + from, "System error in open");
  }
  const Parts dp = Components(to).value_or(Parts{});
  Problem problem = kNotADir;
  if (is_dir) {
    const Snapshot tree = Snap("", *f.node);
    if (!task.expanded[i]) {
      s.files += tree.files;
      s.subtasks_total += tree.files + tree.dirs;
      task.item_dirs[i] = tree.dirs;
      task.expanded[i] = true;
    }
    Node* into = MakeDirs(dst.root.get(), dp, now, &problem);
    if (into == nullptr) return MakeFault(dst.info, problem, "MKD " + to, "System error in mkdir");
    std::optional<Fault> fault;
    CopyTree(task, tree, into, to, dst.info, now, &fault);
    if (fault) return fault;
    s.subtasks_succeeded += 1 + task.item_dirs[i];
    task.done[i] = true;
    return std::nullopt;
  }
  if (!task.expanded[i]) {
    ++s.files;
    task.expanded[i] = true;
  }
  if (dp.empty()) return MakeFault(dst.info, kIsADir, "STOR " + to, "System error in open");
  Node* parent = MakeDirs(dst.root.get(), Parts(dp.begin(), dp.end() - 1), now, &problem);
  if (parent == nullptr) return MakeFault(dst.info, problem, "STOR " + to, "System error in mkdir");
  auto& slot = parent->children[dp.back()];
  if (slot && slot->IsDir()) {
    return MakeFault(dst.info, kIsADir, "STOR " + to, "System error in open");
  }
  // Read the source before the slot is replaced: it may be the same node.
  const uint64_t size = f.node->size;
  const int64_t mtime = task.transfer.preserve_timestamp ? f.node->mtime : now;
  slot = std::make_unique<Node>(Node{EntryType::kFile, EntryType::kFile, size, mtime, 0644, "", {}});
  parent->mtime = now;
  ++s.files_transferred;
  s.bytes_transferred += static_cast<int64_t>(size);
  ++s.subtasks_succeeded;
  task.done[i] = true;
  return std::nullopt;
}

}  // namespace

void FakeTransfer::RunTransferLocked(Task& t) {
  Collection* src = FindLocked(t.transfer.source_collection);
  Collection* dst = FindLocked(t.transfer.destination_collection);
  const int64_t now = Now();
  if (src == nullptr || dst == nullptr) {
    FinishLocked(t, "FAILED", "ENDPOINT_ERROR", "endpoint error",
                 TaskEvent{"ENDPOINT_ERROR", "endpoint error", "The collection is no longer served",
                           true, IsoTime(now)});
    return;
  }
  bool faulted = false;
  for (size_t i = 0; i < t.transfer.items.size(); ++i) {
    if (t.done[i]) continue;
    if (std::optional<Fault> fault = CopyItem(t, i, *src, *dst, now)) {
      // Never fatal (§2.9): a fault and one error event per item and
      // attempt; the task stays ACTIVE for the next attempt.
      faulted = true;
      ++t.status.faults;
      const std::string code = fault->problem.code;
      t.events.push_back(TaskEvent{code, Describe(code), fault->details, true, IsoTime(now)});
    }
  }
  RecountPending(t.status, t.subtasks_ended);
  if (faulted) return;
  FinishLocked(t, "SUCCEEDED", "", "",
               TaskEvent{"SUCCEEDED", "succeeded",
                         "{\n  \"files_succeeded\": " +
                             std::to_string(t.status.files_transferred) + "\n}",
                         false, IsoTime(now)});
}

void FakeTransfer::RunDeleteLocked(Task& t) {
  const DeleteRequest& r = t.remove;
  Collection* c = FindLocked(r.collection_id);
  const int64_t now = Now();
  const auto fail = [&](Problem p, const std::string& description, const std::string& path,
                        const std::string& command, const std::string& reason) {
    const std::string details = EndpointMessage(Ctx{c->info, ""}, "", "delete", command + path,
                                                p.grid, p.err, reason);
    FinishLocked(t, "FAILED", p.code, description,
                 TaskEvent{p.code, description, details, true, IsoTime(now)});
  };
  if (c == nullptr) {
    FinishLocked(t, "FAILED", "ENDPOINT_ERROR", "endpoint error",
                 TaskEvent{"ENDPOINT_ERROR", "endpoint error", "The collection is no longer served",
                           true, IsoTime(now)});
    return;
  }
  // Items run in order; the first failure ends the task (earlier ones stay done).
  for (size_t i = 0; i < r.paths.size(); ++i) {
    if (t.done[i]) continue;
    const std::string& path = r.paths[i];
    const Parts parts = Components(path).value_or(Parts{});
    if (parts.empty()) return fail(kDenied, "permission denied", path, "DELE ", "Path not allowed");
    Found f = Resolve(c->root.get(), parts, /*follow_last=*/false);
    if (f.status != Walk::kOk && !r.ignore_missing) {
      return fail(kMissing, "file not found", path, "DELE ", "System error in stat");
    }
    if (f.status == Walk::kOk) {
      if (f.node->IsDir() && !r.recursive) {
        return fail(kIsADir, "path is a directory; recursive delete not requested", path, "RMD ",
                    "Recursive delete not requested");
      }
      f.parent->children.erase(parts.back());
      f.parent->mtime = now;
    }
    t.done[i] = true;
    ++t.status.subtasks_succeeded;
  }
  FinishLocked(t, "SUCCEEDED", "", "",
               TaskEvent{"SUCCEEDED", "succeeded",
                         "{\n  \"files_deleted\": " + std::to_string(t.status.files) + "\n}",
                         false, IsoTime(now)});
}

}  // namespace globusfs::fs
