// FakeTransfer: an in-process TransferApi over an in-memory tree per
// collection, for unit tests of the filesystem core.
//
// It answers exactly as Transfer (and globus-emulator) would: the same HTTP
// status and Globus code for every failure, with the GridFTP detail
// ("GlobusError: v=1 c=PATH_NOT_FOUND") in the message, each error built by
// http::ParseErrorDocument from a Transfer-shaped body so it is parsed like
// a real one; delete failures are FAILED TaskOutcomes with Transfer's fatal
// codes. tests/fs/transfer_api_contract_test.cpp runs the same suite against
// this fake and against TransferClient + the emulator, so the two cannot
// drift. Paths are normalised like Transfer's ("/~/" is the root, "." and
// ".." resolved); symbolic links are followed in the middle of a path and
// by List, never by Stat, Rename or delete.
//
// Test hooks: counters per operation, FailNext (inject an error into the
// next calls of one operation), SetLatency (sleep on the injected Clock
// before each call).
//
// Thread-safety: every method may be called from many threads. One mutex
// (mu_) guards all state; it is never held while sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/http/clock.h"
#include "fs/remote/transfer_api.h"

namespace globusfs::fs {

class FakeTransfer final : public TransferApi {
 public:
  // Operation names for calls(), FailNext().
  static constexpr std::string_view kOpCollection = "collection";
  static constexpr std::string_view kOpList = "ls";
  static constexpr std::string_view kOpStat = "stat";
  static constexpr std::string_view kOpMkdir = "mkdir";
  static constexpr std::string_view kOpRename = "rename";
  static constexpr std::string_view kOpDelete = "delete";

  // The tree (defined in fake_transfer.cpp; opaque to users).
  struct Node;
  struct Collection;

  // A null `clock` means RealClock (used only for latency and new mtimes).
  explicit FakeTransfer(std::shared_ptr<http::Clock> clock = nullptr);
  ~FakeTransfer() override;
  FakeTransfer(const FakeTransfer&) = delete;
  FakeTransfer& operator=(const FakeTransfer&) = delete;

  // --- TransferApi ---
  http::Result<auth::CollectionInfo> GetCollection(const std::string& collection_id) override;
  http::Result<std::vector<FileEntry>> List(const std::string& collection_id,
                                            const std::string& path) override;
  http::Result<FileEntry> Stat(const std::string& collection_id, const std::string& path) override;
  http::Result<void> Mkdir(const std::string& collection_id, const std::string& path) override;
  http::Result<void> Rename(const std::string& collection_id, const std::string& from,
                            const std::string& to) override;
  http::Result<TaskOutcome> DeleteAndWait(const DeleteRequest& request) override;

  // --- setting up state (missing parent directories are created, 0755, as
  // is an unknown collection) ---
  // An empty collection. info.id is set to `id`; an empty entity_type
  // becomes "GCSv5_mapped_collection". Replaces an existing one.
  void AddCollection(const std::string& id, auth::CollectionInfo info = {});
  // Each replaces whatever is at `path`, except that AddDir on an existing
  // directory (or the root) only sets its mtime and mode.
  void AddFile(const std::string& collection_id, const std::string& path, uint64_t size = 0,
               int64_t mtime = 0, uint32_t mode = 0644);
  void AddDir(const std::string& collection_id, const std::string& path, int64_t mtime = 0,
              uint32_t mode = 0755);
  // `type` is what Transfer reports for the link: kFile or kDir for a valid
  // link (listed as kSymlink), kInvalidSymlink for a broken one. size, mtime
  // and mode are the reported ones (the target's, for a valid link).
  void AddSymlink(const std::string& collection_id, const std::string& path,
                  const std::string& target, EntryType type, uint64_t size = 0, int64_t mtime = 0,
                  uint32_t mode = 0777);
  // Removes `path` and everything under it; false if it was not there.
  bool Remove(const std::string& collection_id, const std::string& path);
  // What Stat would answer, without counting a call or applying faults.
  std::optional<FileEntry> Lookup(const std::string& collection_id, const std::string& path) const;
  bool Exists(const std::string& collection_id, const std::string& path) const {
    return Lookup(collection_id, path).has_value();
  }

  // --- test hooks ---
  // Calls made to `op` (one of the kOp* names), failed ones included.
  uint64_t calls(std::string_view op) const;
  void ResetCalls();
  // The next `count` calls of `op` fail with `error` before touching state.
  void FailNext(std::string_view op, http::Error error, int count = 1);
  // Every call sleeps this long (on the clock) before it runs.
  void SetLatency(std::chrono::nanoseconds latency);

 private:
  // Counts the call, sleeps the latency, pops an injected fault if any.
  std::optional<http::Error> Begin(std::string_view op);
  Collection* FindLocked(const std::string& id);
  const Collection* FindLocked(const std::string& id) const;
  // Creates the parents of `path` as directories and returns the slot for
  // its last component; null if `path` is the root or not absolute.
  std::unique_ptr<Node>* SlotForSetupLocked(const std::string& collection_id,
                                            const std::string& path);
  int64_t Now() const;

  const std::shared_ptr<http::Clock> clock_;

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, std::unique_ptr<Collection>, std::less<>> collections_;
  std::map<std::string, uint64_t, std::less<>> calls_;
  std::map<std::string, std::deque<http::Error>, std::less<>> faults_;
  std::chrono::nanoseconds latency_{0};
  uint64_t next_task_ = 1;
};

}  // namespace globusfs::fs
