// FakeTransfer's own definitions (tests/fakes/fake_transfer.h), shared by its
// source files: fake_transfer.cpp (the trees: namespace operations and
// setting up state), fake_transfer_tasks.cpp (the task table, documents and
// hooks) and fake_transfer_run.cpp (one attempt of a task).
//
// Not a public header: only those files include it. Everything here is
// guarded by FakeTransfer::mu_ like the rest of the fake's state.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fakes/fake_transfer.h"

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
  // InactivateNextTask: the first attempt suspends the task (INACTIVE with
  // this nice_status) for `inactive_hold`; the first attempt at or after
  // `inactive_until` (on the fake's clock) makes it ACTIVE again and runs it.
  std::string inactive_status;
  std::chrono::milliseconds inactive_hold{0};
  std::chrono::steady_clock::time_point inactive_until{};
  bool started = false;
};

namespace fake_transfer_internal {

using Node = FakeTransfer::Node;
using Parts = std::vector<std::string>;

constexpr uint64_t kDirSize = 4096;

// Transfer's path normalisation (as globus-emulator's NormalisePath): "~"
// first means the root (the default directory), "." and ".." are resolved.
// nullopt when the path is not absolute.
std::optional<Parts> Components(std::string_view path);

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
Found Resolve(Node* root, const Parts& parts, bool follow_last, int hops = 0);

// What Transfer reports for the node `name` in the folder `dir` (canonical
// parts): a valid link as its target's type and facts with the target's
// absolute real path; one that does not resolve as invalid_symlink.
FileEntry ToEntry(Node* root, const Parts& dir, const std::string& name, const Node& n);

// A Transfer-shaped error (as globus-emulator words it), parsed like a real one.
http::Error TransferError(int status, std::string_view code, const std::string& message,
                          const std::string& resource);

struct Ctx {
  const auth::CollectionInfo& info;
  std::string resource;
};

// An endpoint (GridFTP) failure message, with "GlobusError: v=1 c=CODE".
std::string EndpointMessage(const Ctx& ctx, const std::string& summary, const std::string& op,
                            const std::string& command, const std::string& grid_code, int err,
                            const std::string& reason);

http::Error EndpointNotFound(const std::string& id, const std::string& resource);

// Task and event times: "2021-01-15T18:13:11+00:00".
std::string IsoTime(int64_t seconds);
// "FILE_NOT_FOUND" -> "file not found", as Transfer describes its codes.
std::string Describe(const std::string& code);
// subtasks_pending from the other counts (`ended`: canceled or expired).
void RecountPending(TaskStatus& s, int64_t ended);

}  // namespace fake_transfer_internal
}  // namespace globusfs::fs
