#include "fs/remote/fake_transfer.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <utility>

#include "auth/http/url.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {

struct FakeTransfer::Node {
  EntryType type = EntryType::kDir;
  EntryType link_type = EntryType::kFile;  // kSymlink only: what the target is
  uint64_t size = 0;
  int64_t mtime = 0;
  uint32_t mode = 0755;
  std::string link_target;
  std::map<std::string, std::unique_ptr<Node>> children;  // kDir only

  bool IsDir() const { return type == EntryType::kDir; }
};

struct FakeTransfer::Collection {
  auth::CollectionInfo info;
  std::unique_ptr<Node> root = std::make_unique<Node>();
};

// A task and the worker's bookkeeping (as the emulator keeps it in
// request["_emulator"]): which items are done or expanded, which files of a
// tree were already copied (not copied or counted again by a retry).
struct FakeTransfer::Task {
  std::string kind;             // kTransfer or kDelete
  std::string submission_id;
  TransferRequest transfer;     // kind kTransfer
  DeleteRequest remove;         // kind kDelete
  TaskStatus status;
  std::vector<TaskEvent> events;  // oldest first
  std::vector<bool> done, expanded;
  std::vector<int64_t> item_dirs;  // subdirectories of each tree item
  std::set<std::string> completed;  // destination paths of tree files copied
  int64_t subtasks_ended = 0;       // canceled or expired (not in TaskStatus)
  int64_t deadline = 0;             // seconds since the epoch
  std::string forced_fatal;         // FailNextTask
  bool started = false;
};

namespace {

using json = nlohmann::json;
using Node = FakeTransfer::Node;
using Parts = std::vector<std::string>;

constexpr int kMaxLinkHops = 8;
constexpr uint64_t kDirSize = 4096;

// Transfer's path normalisation (as globus-emulator's NormalisePath): "~"
// first means the root (the default directory), "." and ".." are resolved.
// nullopt when the path is not absolute.
std::optional<Parts> Components(std::string_view path) {
  std::string p(path);
  if (p == "~" || p.starts_with("~/")) p = "/" + p;
  if (p.empty() || p[0] != '/') return std::nullopt;
  Parts parts;
  bool first = true;
  size_t i = 0;
  while (i <= p.size()) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    std::string part = p.substr(i, j - i);
    const bool was_first = first;
    if (!part.empty()) first = false;
    if (part == "~" && was_first) {
      parts.clear();
    } else if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(std::move(part));
    }
    i = j + 1;
  }
  return parts;
}

enum class Walk { kOk, kMissing, kNotDir };

struct Found {
  Walk status = Walk::kOk;
  Node* node = nullptr;    // kOk: the entry
  Node* parent = nullptr;  // the directory holding the last component, when reached
  Parts canonical;         // kOk: the entry's path with every link resolved
};

// Walks `parts` from `root`, following links in the middle of the path and,
// if `follow_last`, the last one. Link targets are collection paths, or
// relative to the link's directory.
Found Resolve(Node* root, const Parts& parts, bool follow_last, int hops = 0) {
  Found f;
  Node* cur = root;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!cur->IsDir()) return {Walk::kNotDir};
    f.parent = cur;
    auto it = cur->children.find(parts[i]);
    if (it == cur->children.end()) {
      if (i + 1 < parts.size()) f.parent = nullptr;
      f.status = Walk::kMissing;
      return f;
    }
    Node* next = it->second.get();
    const bool last = i + 1 == parts.size();
    if (next->type == EntryType::kInvalidSymlink && (!last || follow_last)) {
      return {Walk::kMissing};
    }
    if (next->type == EntryType::kSymlink && (!last || follow_last)) {
      if (hops >= kMaxLinkHops) return {Walk::kMissing};
      std::string target = next->link_target;
      if (!target.starts_with("/")) {
        std::string dir;
        for (const auto& p : f.canonical) dir += "/" + p;
        target = dir + "/" + target;
      }
      auto target_parts = Components(target);
      if (!target_parts) return {Walk::kMissing};
      Found t = Resolve(root, *target_parts, true, hops + 1);
      if (t.status != Walk::kOk)
        return {t.status == Walk::kNotDir ? Walk::kNotDir : Walk::kMissing};
      next = t.node;
      f.canonical = std::move(t.canonical);
    } else {
      f.canonical.push_back(parts[i]);
    }
    cur = next;
  }
  f.node = cur;
  return f;
}

bool Contains(const Node& tree, const Node* wanted) {
  if (&tree == wanted) return true;
  for (const auto& [name, child] : tree.children) {
    if (Contains(*child, wanted)) return true;
  }
  return false;
}

FileEntry ToEntry(const std::string& name, const Node& n) {
  return FileEntry{name, n.type, n.size, n.mtime, n.mode, n.link_target};
}

// --- Transfer-shaped errors (as globus-emulator words them) ---

http::Error TransferError(int status, std::string_view code, const std::string& message,
                          const std::string& resource) {
  static std::atomic<uint64_t> counter{0};
  const json body = {{"code", code},
                     {"message", message},
                     {"request_id", "fake" + std::to_string(++counter)},
                     {"resource", resource}};
  return http::ParseErrorDocument(status, body.dump());
}

struct Ctx {
  const auth::CollectionInfo& info;
  std::string resource;
};

// An endpoint (GridFTP) failure message, with "GlobusError: v=1 c=CODE".
std::string EndpointMessage(const Ctx& ctx, const std::string& summary, const std::string& op,
                            const std::string& command, const std::string& grid_code, int err,
                            const std::string& reason) {
  const std::string text = std::error_code(err, std::generic_category()).message();
  std::string out = summary.empty() ? "" : summary + ", ";
  out += "Error (" + op +
         ")\nEndpoint: " + (ctx.info.display_name.empty() ? ctx.info.id : ctx.info.display_name) +
         " (" + ctx.info.id + ")\nServer: fake.transfer\n";
  if (!command.empty()) out += "Command: " + command + "\n";
  out += "Message: " + (summary == "Path not found" ? text : "Fatal FTP Response") +
         "\n---\nDetails: 500-GlobusError: v=1 c=" + grid_code +
         "\\r\\n500-GridFTP-Errno: " + std::to_string(err) + "\\r\\n500-GridFTP-Reason: " + reason +
         "\\r\\n500-GridFTP-Error-String: " + text + "\\r\\n500 End.\\r\\n\n";
  return out;
}

http::Error PathNotFound(const Ctx& ctx, std::string_view code, const std::string& op) {
  return TransferError(404, code,
                       EndpointMessage(ctx, "Path not found", op, "", "PATH_NOT_FOUND", ENOENT,
                                       "System error in stat"),
                       ctx.resource);
}

http::Error EndpointFailure(const Ctx& ctx, int status, std::string_view code,
                            const std::string& op, const std::string& command,
                            const std::string& grid_code, int err, const std::string& reason) {
  return TransferError(status, code, EndpointMessage(ctx, "", op, command, grid_code, err, reason),
                       ctx.resource);
}

http::Error NotAbsolute(const std::string& resource, const std::string& path) {
  return TransferError(400, "ClientError.BadRequest",
                       "Invalid path '" + path + "': paths must be absolute", resource);
}

http::Error EndpointNotFound(const std::string& id, const std::string& resource) {
  return TransferError(404, "EndpointNotFound", "No such endpoint '" + id + "'", resource);
}

std::string OpResource(const std::string& id, const char* op) {
  return "/v0.10/operation/endpoint/" + http::UrlEncodeComponent(id) + "/" + op;
}

// --- tasks ---

constexpr int64_t kDefaultDeadlineS = 24 * 3600;
constexpr int kMaxEvents = 1000;

bool LooksLikeUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

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

void RecountPending(TaskStatus& s, int64_t ended) {
  s.subtasks_pending =
      std::max<int64_t>(0, s.subtasks_total - s.subtasks_succeeded - s.subtasks_failed - ended);
}

}  // namespace

FakeTransfer::FakeTransfer(std::shared_ptr<http::Clock> clock)
    : clock_(clock ? std::move(clock) : std::make_shared<http::RealClock>()), hooks_(clock_) {}

FakeTransfer::~FakeTransfer() = default;

int64_t FakeTransfer::Now() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_->SystemNow().time_since_epoch())
      .count();
}

FakeTransfer::Collection* FakeTransfer::FindLocked(const std::string& id) {
  auto it = collections_.find(id);
  return it == collections_.end() ? nullptr : it->second.get();
}

const FakeTransfer::Collection* FakeTransfer::FindLocked(const std::string& id) const {
  auto it = collections_.find(id);
  return it == collections_.end() ? nullptr : it->second.get();
}

// --- TransferApi ---

http::Result<auth::CollectionInfo> FakeTransfer::GetCollection(const std::string& id) {
  if (auto e = hooks_.Begin(kOpCollection)) return *e;
  if (auto bad = CheckPath(id)) return *bad;
  std::lock_guard lock(mu_);
  const Collection* c = FindLocked(id);
  if (c == nullptr) return EndpointNotFound(id, "/v0.10/endpoint/" + http::UrlEncodeComponent(id));
  return c->info;
}

http::Result<std::vector<FileEntry>> FakeTransfer::List(const std::string& id,
                                                        const std::string& path) {
  if (auto e = hooks_.Begin(kOpList)) return *e;
  for (const auto* text : {&id, &path}) {
    if (auto bad = CheckPath(*text)) return *bad;
  }
  std::lock_guard lock(mu_);
  const std::string resource = OpResource(id, "ls");
  Collection* c = FindLocked(id);
  if (c == nullptr) return EndpointNotFound(id, resource);
  const Ctx ctx{c->info, resource};
  auto parts = Components(path);
  if (!parts) return NotAbsolute(resource, path);
  Found f = Resolve(c->root.get(), *parts, /*follow_last=*/true);
  if (f.status != Walk::kOk) return PathNotFound(ctx, "ClientError.NotFound", "list");
  if (!f.node->IsDir()) {
    return EndpointFailure(ctx, 502, "ExternalError.DirListingFailed.NotDirectory", "list",
                           "MLSD " + path, "NOT_A_DIRECTORY", ENOTDIR, "System error in opendir");
  }
  const size_t count = f.node->children.size();
  if (max_list_entries_ > 0 && count > max_list_entries_) {
    // As globus-emulator --max-ls-entries words it (docs/emulator.md).
    const std::string summary = "Directory too large to list (" + std::to_string(count) +
                                " entries, more than " + std::to_string(max_list_entries_) + ")";
    return TransferError(502, "ExternalError.DirListingFailed.SizeLimit",
                         summary + ", Error (list)\nEndpoint: " + ctx.info.display_name + " (" +
                             ctx.info.id + ")\nServer: fake.transfer\nCommand: MLSD " + path +
                             "\nMessage: " + summary + "\n---\nDetails: \n",
                         resource);
  }
  std::vector<FileEntry> out;
  out.reserve(count);
  for (const auto& [name, child] : f.node->children) out.push_back(ToEntry(name, *child));
  return out;  // std::map order: sorted by name, bytewise
}

http::Result<std::string> FakeTransfer::HomePath(const std::string& id) {
  if (auto e = hooks_.Begin(kOpList)) return *e;
  if (auto bad = CheckPath(id)) return *bad;
  std::lock_guard lock(mu_);
  if (FindLocked(id) == nullptr) return EndpointNotFound(id, OpResource(id, "ls"));
  return std::string("/");
}

http::Result<FileEntry> FakeTransfer::Stat(const std::string& id, const std::string& path) {
  if (auto e = hooks_.Begin(kOpStat)) return *e;
  for (const auto* text : {&id, &path}) {
    if (auto bad = CheckPath(*text)) return *bad;
  }
  std::lock_guard lock(mu_);
  const std::string resource = OpResource(id, "stat");
  Collection* c = FindLocked(id);
  if (c == nullptr) return EndpointNotFound(id, resource);
  auto parts = Components(path);
  if (!parts) return NotAbsolute(resource, path);
  Found f = Resolve(c->root.get(), *parts, /*follow_last=*/false);
  if (f.status != Walk::kOk) return PathNotFound(Ctx{c->info, resource}, "NotFound", "list");
  return ToEntry(parts->empty() ? "/" : parts->back(), *f.node);
}

http::Result<void> FakeTransfer::Mkdir(const std::string& id, const std::string& path) {
  if (auto e = hooks_.Begin(kOpMkdir)) return *e;
  for (const auto* text : {&id, &path}) {
    if (auto bad = CheckPath(*text)) return *bad;
  }
  std::lock_guard lock(mu_);
  const std::string resource = OpResource(id, "mkdir");
  Collection* c = FindLocked(id);
  if (c == nullptr) return EndpointNotFound(id, resource);
  const Ctx ctx{c->info, resource};
  auto parts = Components(path);
  if (!parts) return NotAbsolute(resource, path);
  const std::string command = "MKD " + path;
  Found f = parts->empty() ? Found{} : Resolve(c->root.get(), *parts, /*follow_last=*/false);
  if (f.status == Walk::kOk) {
    return EndpointFailure(ctx, 502, "ExternalError.MkdirFailed.Exists", "mkdir", command,
                           "PATH_EXISTS", EEXIST, "System error in mkdir");
  }
  if (f.status == Walk::kNotDir) {
    return EndpointFailure(ctx, 502, "ExternalError.MkdirFailed", "mkdir", command,
                           "NOT_A_DIRECTORY", ENOTDIR, "System error in mkdir");
  }
  if (f.parent == nullptr) {
    return EndpointFailure(ctx, 502, "ExternalError.MkdirFailed", "mkdir", command,
                           "PATH_NOT_FOUND", ENOENT, "System error in mkdir");
  }
  auto dir = std::make_unique<Node>();
  dir->mtime = f.parent->mtime = Now();
  dir->size = kDirSize;
  f.parent->children[parts->back()] = std::move(dir);
  return {};
}

http::Result<void> FakeTransfer::Rename(const std::string& id, const std::string& from,
                                        const std::string& to) {
  if (auto e = hooks_.Begin(kOpRename)) return *e;
  for (const auto* text : {&id, &from, &to}) {
    if (auto bad = CheckPath(*text)) return *bad;
  }
  std::lock_guard lock(mu_);
  const std::string resource = OpResource(id, "rename");
  Collection* c = FindLocked(id);
  if (c == nullptr) return EndpointNotFound(id, resource);
  const Ctx ctx{c->info, resource};
  auto src = Components(from);
  if (!src) return NotAbsolute(resource, from);
  auto dst = Components(to);
  if (!dst) return NotAbsolute(resource, to);
  if (src->empty()) {
    return TransferError(403, "EndpointPermissionDenied",
                         EndpointMessage(ctx, "Denied by endpoint", "rename", "RNFR " + from,
                                         "PERMISSION_DENIED", EACCES, "Path not allowed"),
                         resource);
  }
  Found s = Resolve(c->root.get(), *src, /*follow_last=*/false);
  if (s.status != Walk::kOk) return PathNotFound(ctx, "ClientError.NotFound", "rename");
  const auto fail = [&](std::string_view code, const char* grid, int err) {
    return EndpointFailure(ctx, 502, code, "rename", "RNTO " + to, grid, err,
                           "System error in rename");
  };
  if (dst->empty()) return fail("ExternalError.RenameFailed.Exists", "PATH_EXISTS", EEXIST);
  Found d = Resolve(c->root.get(), *dst, /*follow_last=*/false);
  if (d.status == Walk::kOk)
    return fail("ExternalError.RenameFailed.Exists", "PATH_EXISTS", EEXIST);
  if (d.status == Walk::kNotDir) {
    return fail("ExternalError.RenameFailed", "NOT_A_DIRECTORY", ENOTDIR);
  }
  if (d.parent == nullptr) return fail("ExternalError.RenameFailed", "PATH_NOT_FOUND", ENOENT);
  if (Contains(*s.node, d.parent)) {
    return fail("ExternalError.RenameFailed", "INVALID_PATH_NAME", EINVAL);
  }
  auto moved = std::move(s.parent->children[src->back()]);
  s.parent->children.erase(src->back());
  s.parent->mtime = d.parent->mtime = Now();
  d.parent->children[dst->back()] = std::move(moved);
  return {};
}

// --- tasks ---

namespace {

using Task = FakeTransfer::Task;

std::string SubmissionIdFrom(uint64_t n) {
  char id[40];
  std::snprintf(id, sizeof(id), "fa4e0000-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(n & 0xFFFFFFFFFFFFull));
  return id;
}

http::Error TaskNotFound(const std::string& task_id) {
  return TransferError(404, "ClientError.NotFound", "No task found with id '" + task_id + "'",
                       "/v0.10/task/" + http::UrlEncodeComponent(task_id));
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

FakeTransfer::Task* FakeTransfer::FindTaskLocked(std::string_view task_id) {
  auto it = tasks_.find(task_id);
  return it == tasks_.end() ? nullptr : it->second.get();
}

http::Result<std::string> FakeTransfer::NewSubmissionId() {
  if (auto e = hooks_.Begin(kOpSubmissionId)) return *e;
  std::lock_guard lock(mu_);
  return SubmissionIdFrom(next_submission_++);
}

http::Result<std::string> FakeTransfer::SubmitTransfer(const TransferRequest& request) {
  if (auto e = hooks_.Begin(kOpSubmitTransfer)) return *e;
  if (auto bad = CheckSubmissionId(request.submission_id)) return *bad;
  for (const auto* text :
       {&request.source_collection, &request.destination_collection, &request.deadline}) {
    if (auto bad = CheckPath(*text)) return *bad;
  }
  for (const TransferItem& item : request.items) {
    for (const auto* text : {&item.source_path, &item.destination_path}) {
      if (auto bad = CheckPath(*text)) return *bad;
    }
  }
  auto task = std::make_unique<Task>();
  task->kind = std::string(kTransfer);
  task->submission_id = request.submission_id;
  task->transfer = request;
  std::lock_guard lock(mu_);
  bool created = false;
  auto id = SubmitLocked(std::move(task), &created);
  if (id && created && run_tasks_immediately_) RunAttemptLocked(*FindTaskLocked(*id));
  return id;
}

http::Result<std::string> FakeTransfer::SubmitDelete(const DeleteRequest& request) {
  if (auto e = hooks_.Begin(kOpSubmitDelete)) return *e;
  if (auto bad = CheckSubmissionId(request.submission_id)) return *bad;
  if (auto bad = CheckPath(request.collection_id)) return *bad;
  for (const auto& path : request.paths) {
    if (auto bad = CheckPath(path)) return *bad;
  }
  auto task = std::make_unique<Task>();
  task->kind = std::string(kDelete);
  task->submission_id = request.submission_id;
  task->remove = request;
  std::lock_guard lock(mu_);
  bool created = false;
  auto id = SubmitLocked(std::move(task), &created);
  if (id && created && run_tasks_immediately_) RunAttemptLocked(*FindTaskLocked(*id));
  return id;
}

http::Result<TaskOutcome> FakeTransfer::DeleteAndWait(const DeleteRequest& request) {
  if (auto e = hooks_.Begin(kOpDelete)) return *e;
  if (auto bad = CheckPath(request.collection_id)) return *bad;
  for (const auto& path : request.paths) {
    if (auto bad = CheckPath(path)) return *bad;
  }
  if (!request.submission_id.empty()) {
    if (auto bad = CheckSubmissionId(request.submission_id)) return *bad;
  }
  auto task = std::make_unique<Task>();
  task->kind = std::string(kDelete);
  task->remove = request;
  std::lock_guard lock(mu_);
  if (task->remove.submission_id.empty()) {
    task->remove.submission_id = SubmissionIdFrom(next_submission_++);
  }
  task->submission_id = task->remove.submission_id;
  bool created = false;
  auto id = SubmitLocked(std::move(task), &created);
  if (!id) return std::move(id).error();
  Task& t = *FindTaskLocked(*id);
  RunAttemptLocked(t);  // one attempt always ends a delete
  return TaskOutcome{*id, t.status.status, t.status.fatal_code, t.status.fatal_description};
}

http::Result<std::string> FakeTransfer::SubmitLocked(std::unique_ptr<Task> task, bool* created) {
  *created = false;
  const bool is_delete = task->kind == kDelete;
  const std::string resource = is_delete ? "/v0.10/delete" : "/v0.10/transfer";
  // In the emulator's order: submission id, collections, items, deadline.
  if (!LooksLikeUuid(task->submission_id)) {
    return TransferError(400, "ClientError.BadRequest",
                         "A valid submission_id is required (GET /v0.10/submission_id)", resource);
  }
  const auto bad_path = [&](const char* key, const std::string& path) {
    return TransferError(400, "ClientError.BadRequest",
                         std::string("Invalid ") + key + ": " + path + " (paths must be absolute)",
                         resource);
  };
  size_t items = 0;
  int64_t deadline = Now() + kDefaultDeadlineS;
  if (is_delete) {
    const DeleteRequest& r = task->remove;
    if (FindLocked(r.collection_id) == nullptr) return EndpointNotFound(r.collection_id, resource);
    if (r.paths.empty()) {
      return TransferError(400, "ClientError.BadRequest.NoDeleteItems",
                           "A delete requires at least one item", resource);
    }
    for (const auto& path : r.paths) {
      if (!Components(path)) return bad_path("path", path);
    }
    items = r.paths.size();
  } else {
    const TransferRequest& r = task->transfer;
    for (const auto* id : {&r.source_collection, &r.destination_collection}) {
      if (FindLocked(*id) == nullptr) return EndpointNotFound(*id, resource);
    }
    if (r.items.empty()) {
      return TransferError(400, "ClientError.BadRequest.NoTransferItems",
                           "A transfer requires at least one item", resource);
    }
    for (const auto& item : r.items) {
      if (!Components(item.source_path)) return bad_path("source_path", item.source_path);
      if (!Components(item.destination_path)) {
        return bad_path("destination_path", item.destination_path);
      }
    }
    if (!r.deadline.empty()) {
      deadline = ParseTransferTime(r.deadline);
      if (deadline <= 0) {
        return TransferError(
            400, "ClientError.BadRequest",
            "Invalid deadline: expected an ISO 8601 time such as 2021-01-15T18:13:10+00:00",
            resource);
      }
    }
    items = r.items.size();
  }
  if (auto it = submissions_.find(task->submission_id); it != submissions_.end()) {
    return it->second;  // "Duplicate": the original task, whatever this request holds
  }
  const std::string id = "fake-task-" + std::to_string(next_task_++);
  const std::string& label = is_delete ? task->remove.label : task->transfer.label;
  TaskStatus& s = task->status;
  s.task_id = id;
  s.type = is_delete ? "DELETE" : "TRANSFER";
  s.status = "ACTIVE";
  s.label = label.empty() ? "" : SanitizeLabel(label);
  s.files = is_delete ? static_cast<int64_t>(items) : 0;
  s.subtasks_total = s.subtasks_pending = static_cast<int64_t>(items);
  task->done.assign(items, false);
  task->expanded.assign(items, false);
  task->item_dirs.assign(items, 0);
  task->deadline = deadline;
  if (auto& queue = task_failures_[task->kind]; !queue.empty()) {
    task->forced_fatal = std::move(queue.front());
    queue.pop_front();
  }
  ++tasks_submitted_[task->kind];
  submissions_[task->submission_id] = id;
  task_order_.push_back(id);
  tasks_[id] = std::move(task);
  *created = true;
  return id;
}

void FakeTransfer::FinishLocked(Task& t, const std::string& status, const std::string& fatal_code,
                                const std::string& fatal_description, TaskEvent event) {
  TaskStatus& s = t.status;
  RecountPending(s, t.subtasks_ended);
  if (status == "SUCCEEDED") {
    s.subtasks_succeeded += s.subtasks_pending;
  } else if (fatal_code == "CANCELED" || fatal_code == "EXPIRED") {
    t.subtasks_ended += s.subtasks_pending;
  } else {
    s.subtasks_failed += s.subtasks_pending;
  }
  s.subtasks_pending = 0;
  s.status = status;
  s.fatal_code = fatal_code;
  s.fatal_description = fatal_description;
  t.events.push_back(std::move(event));
}

void FakeTransfer::RunAttemptLocked(Task& t) {
  if (t.status.status != "ACTIVE") return;
  const std::string now = IsoTime(Now());
  if (Now() >= t.deadline) {
    FinishLocked(t, "FAILED", "EXPIRED", "deadline exceeded",
                 TaskEvent{"EXPIRED", "deadline exceeded",
                           "The task deadline (" + IsoTime(t.deadline) + ") has passed", true, now});
    return;
  }
  if (!t.started) {
    t.started = true;
    t.events.push_back(TaskEvent{"STARTED", "started",
                                 t.kind == kDelete
                                     ? "{\n  \"type\": \"Delete\"\n}"
                                     : "{\n  \"type\": \"GridFTP Transfer\",\n"
                                       "  \"concurrency\": 1,\n  \"protocol\": \"Globus\"\n}",
                                 false, now});
  }
  if (!t.forced_fatal.empty()) {
    const std::string code = t.forced_fatal;
    FinishLocked(t, "FAILED", code, Describe(code),
                 TaskEvent{code, Describe(code), "injected by FakeTransfer::FailNextTask", true,
                           now});
    return;
  }
  if (t.kind == kDelete) {
    RunDeleteLocked(t);
  } else {
    RunTransferLocked(t);
  }
}

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

http::Result<TaskStatus> FakeTransfer::GetTask(const std::string& task_id) {
  if (auto e = hooks_.Begin(kOpGetTask)) return *e;
  if (auto bad = CheckTaskId(task_id)) return *bad;
  std::lock_guard lock(mu_);
  const Task* t = FindTaskLocked(task_id);
  if (t == nullptr) return TaskNotFound(task_id);
  return t->status;
}

http::Result<std::vector<TaskEvent>> FakeTransfer::GetTaskEvents(const std::string& task_id,
                                                                 int limit) {
  if (auto e = hooks_.Begin(kOpTaskEvents)) return *e;
  if (auto bad = CheckTaskId(task_id)) return *bad;
  std::lock_guard lock(mu_);
  const Task* t = FindTaskLocked(task_id);
  if (t == nullptr) return TaskNotFound(task_id);
  const size_t n = std::min(t->events.size(), static_cast<size_t>(std::clamp(limit, 1, kMaxEvents)));
  return std::vector<TaskEvent>(t->events.rbegin(), t->events.rbegin() + static_cast<ptrdiff_t>(n));
}

http::Result<void> FakeTransfer::CancelTask(const std::string& task_id) {
  if (auto e = hooks_.Begin(kOpCancelTask)) return *e;
  if (auto bad = CheckTaskId(task_id)) return *bad;
  std::lock_guard lock(mu_);
  Task* t = FindTaskLocked(task_id);
  if (t == nullptr) return TaskNotFound(task_id);
  if (t->status.status == "ACTIVE") {  // otherwise "TaskComplete": also success
    FinishLocked(*t, "FAILED", "CANCELED", "canceled",
                 TaskEvent{"CANCELED", "canceled", "Canceled by the task owner", true,
                           IsoTime(Now())});
  }
  return {};
}

// --- setting up state ---

void FakeTransfer::AddCollection(const std::string& id, auth::CollectionInfo info) {
  info.id = id;
  if (info.entity_type.empty()) info.entity_type = "GCSv5_mapped_collection";
  auto c = std::make_unique<Collection>();
  c->info = std::move(info);
  c->root->size = kDirSize;
  std::lock_guard lock(mu_);
  collections_[id] = std::move(c);
}

std::unique_ptr<FakeTransfer::Node>* FakeTransfer::SlotForSetupLocked(const std::string& id,
                                                                      const std::string& path) {
  auto parts = Components(path);
  if (!parts || parts->empty()) return nullptr;
  auto& c = collections_[id];
  if (!c) {
    c = std::make_unique<Collection>();
    c->info.id = id;
    c->info.entity_type = "GCSv5_mapped_collection";
  }
  Node* dir = c->root.get();
  for (size_t i = 0; i + 1 < parts->size(); ++i) {
    auto& slot = dir->children[(*parts)[i]];
    if (!slot || !slot->IsDir()) {
      slot = std::make_unique<Node>();
      slot->size = kDirSize;
    }
    dir = slot.get();
  }
  return &dir->children[parts->back()];
}

void FakeTransfer::AddFile(const std::string& id, const std::string& path, uint64_t size,
                           int64_t mtime, uint32_t mode) {
  std::lock_guard lock(mu_);
  if (auto* slot = SlotForSetupLocked(id, path)) {
    *slot = std::make_unique<Node>(
        Node{EntryType::kFile, EntryType::kFile, size, mtime, mode & 07777, "", {}});
  }
}

void FakeTransfer::AddDir(const std::string& id, const std::string& path, int64_t mtime,
                          uint32_t mode) {
  std::lock_guard lock(mu_);
  auto parts = Components(path);
  if (parts && parts->empty()) {  // the root: only its facts change
    if (Collection* c = FindLocked(id)) {
      c->root->mtime = mtime;
      c->root->mode = mode & 07777;
    }
    return;
  }
  if (auto* slot = SlotForSetupLocked(id, path)) {
    if (*slot && (*slot)->IsDir()) {  // an existing directory keeps its children
      (*slot)->mtime = mtime;
      (*slot)->mode = mode & 07777;
      return;
    }
    *slot = std::make_unique<Node>(
        Node{EntryType::kDir, EntryType::kFile, kDirSize, mtime, mode & 07777, "", {}});
  }
}

void FakeTransfer::AddSymlink(const std::string& id, const std::string& path,
                              const std::string& target, EntryType type, uint64_t size,
                              int64_t mtime, uint32_t mode) {
  std::lock_guard lock(mu_);
  if (auto* slot = SlotForSetupLocked(id, path)) {
    const bool broken = type == EntryType::kInvalidSymlink;
    *slot =
        std::make_unique<Node>(Node{broken ? EntryType::kInvalidSymlink : EntryType::kSymlink,
                                    type == EntryType::kDir ? EntryType::kDir : EntryType::kFile,
                                    size,
                                    mtime,
                                    mode & 07777,
                                    target,
                                    {}});
  }
}

bool FakeTransfer::Remove(const std::string& id, const std::string& path) {
  std::lock_guard lock(mu_);
  Collection* c = FindLocked(id);
  auto parts = Components(path);
  if (c == nullptr || !parts || parts->empty()) return false;
  Found f = Resolve(c->root.get(), *parts, /*follow_last=*/false);
  if (f.status != Walk::kOk) return false;
  f.parent->children.erase(parts->back());
  return true;
}

std::optional<FileEntry> FakeTransfer::Lookup(const std::string& id,
                                              const std::string& path) const {
  std::lock_guard lock(mu_);
  const Collection* c = FindLocked(id);
  auto parts = Components(path);
  if (c == nullptr || !parts) return std::nullopt;
  Found f = Resolve(c->root.get(), *parts, /*follow_last=*/false);
  if (f.status != Walk::kOk) return std::nullopt;
  return ToEntry(parts->empty() ? "/" : parts->back(), *f.node);
}

// --- test hooks ---

uint64_t FakeTransfer::calls(std::string_view op) const { return hooks_.calls(op); }

void FakeTransfer::ResetCalls() { hooks_.ResetCalls(); }

void FakeTransfer::FailNext(std::string_view op, http::Error error, int count) {
  hooks_.FailNext(op, std::move(error), count);
}

void FakeTransfer::FailAlways(std::string_view op, http::Error error) {
  hooks_.FailAlways(op, std::move(error));
}

void FakeTransfer::ClearFailures(std::string_view op) { hooks_.ClearFailures(op); }

void FakeTransfer::SetMaxListEntries(size_t max_entries) {
  std::lock_guard lock(mu_);
  max_list_entries_ = max_entries;
}

void FakeTransfer::SetLatency(std::chrono::nanoseconds latency) { hooks_.SetLatency(latency); }

int FakeTransfer::RunPendingTasks() {
  std::lock_guard lock(mu_);
  int ran = 0;
  for (const std::string& id : task_order_) {
    Task* t = FindTaskLocked(id);
    if (t == nullptr || t->status.status != "ACTIVE") continue;
    RunAttemptLocked(*t);
    ++ran;
  }
  return ran;
}

void FakeTransfer::set_run_tasks_immediately(bool on) {
  std::lock_guard lock(mu_);
  run_tasks_immediately_ = on;
}

void FakeTransfer::FailNextTask(std::string_view kind, std::string fatal_code) {
  std::lock_guard lock(mu_);
  task_failures_[std::string(kind)].push_back(std::move(fatal_code));
}

uint64_t FakeTransfer::tasks_submitted(std::string_view kind) const {
  std::lock_guard lock(mu_);
  auto it = tasks_submitted_.find(kind);
  return it == tasks_submitted_.end() ? 0 : it->second;
}

}  // namespace globusfs::fs
