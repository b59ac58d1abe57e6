#include "tests/fakes/fake_transfer.h"

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
#include "tests/fakes/fake_transfer_internal.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {

using json = nlohmann::json;

namespace fake_transfer_internal {

namespace {

constexpr int kMaxLinkHops = 8;

}  // namespace

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

// Walks `parts` from `root`, following links in the middle of the path and,
// if `follow_last`, the last one. Link targets are collection paths, or
// relative to the link's directory.
Found Resolve(Node* root, const Parts& parts, bool follow_last, int hops) {
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

// What Transfer reports for the node `name` in the folder `dir` (canonical
// parts): a link that resolves as its target's type with the target's
// absolute real path (GCS realpath()s valid links); one that does not as
// invalid_symlink with the text it holds.
FileEntry ToEntry(Node* root, const Parts& dir, const std::string& name, const Node& n) {
  FileEntry e{name, n.type, n.size, n.mtime, n.mode, n.link_target};
  if (n.type != EntryType::kSymlink) return e;
  Parts at = dir;
  at.push_back(name);
  Found t = Resolve(root, at, /*follow_last=*/true);
  if (t.status != Walk::kOk) {
    e.type = EntryType::kInvalidSymlink;
    return e;
  }
  std::string real;
  for (const auto& part : t.canonical) real += "/" + part;
  e.link_target = real.empty() ? "/" : real;
  e.type = t.node->IsDir() ? EntryType::kSymlinkDir : EntryType::kSymlink;
  e.size = t.node->size;  // the target's facts
  e.mtime = t.node->mtime;
  e.mode = t.node->mode;
  return e;
}

http::Error TransferError(int status, std::string_view code, const std::string& message,
                          const std::string& resource) {
  static std::atomic<uint64_t> counter{0};
  const json body = {{"code", code},
                     {"message", message},
                     {"request_id", "fake" + std::to_string(++counter)},
                     {"resource", resource}};
  return http::ParseErrorDocument(status, body.dump());
}

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

http::Error EndpointNotFound(const std::string& id, const std::string& resource) {
  return TransferError(404, "EndpointNotFound", "No such endpoint '" + id + "'", resource);
}

}  // namespace fake_transfer_internal

using namespace fake_transfer_internal;

namespace {

bool Contains(const Node& tree, const Node* wanted) {
  if (&tree == wanted) return true;
  for (const auto& [name, child] : tree.children) {
    if (Contains(*child, wanted)) return true;
  }
  return false;
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

std::string OpResource(const std::string& id, const char* op) {
  return "/v0.10/operation/endpoint/" + http::UrlEncodeComponent(id) + "/" + op;
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
  for (const auto& [name, child] : f.node->children) {
    out.push_back(ToEntry(c->root.get(), f.canonical, name, *child));
  }
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
  if (parts->empty()) return ToEntry(c->root.get(), {}, "/", *f.node);
  Parts dir(f.canonical.begin(), f.canonical.end() - 1);
  return ToEntry(c->root.get(), dir, parts->back(), *f.node);
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
  if (parts->empty()) return ToEntry(c->root.get(), {}, "/", *f.node);
  return ToEntry(c->root.get(), Parts(f.canonical.begin(), f.canonical.end() - 1), parts->back(), *f.node);
}

void FakeTransfer::AddSpecial(const std::string& id, const std::string& path, EntryType type, uint64_t size,
                              int64_t mtime, uint32_t mode) {
  std::lock_guard lock(mu_);
  if (auto* slot = SlotForSetupLocked(id, path)) {
    *slot = std::make_unique<Node>(Node{type, EntryType::kFile, size, mtime, mode & 07777, "", {}});
  }
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

}  // namespace globusfs::fs
