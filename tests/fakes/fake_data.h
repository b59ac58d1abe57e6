// FakeData: an in-process DataApi over in-memory files per (collection,
// path), for unit tests of the filesystem core.
//
// It answers as a collection's HTTPS server (as globus-emulator emulates
// it) would, seen through DataClient: the same HTTP status and code for
// every failure, each error built by http::ParseErrorDocument from a
// GCS-style JSON body ({"DATA_TYPE": "result#1.0.0", "code": "not_found",
// ...}); HEAD errors have no body, as on the wire. 404 for a missing file,
// a missing parent folder of an upload or an unknown collection; 400/409
// "is_a_directory" for reading / uploading onto a folder; 401
// "AuthenticationRequired" (with authorization_parameters.required_scopes)
// when the collection is set unauthorized. tests/fs/data_api_contract_test.cpp
// runs one suite against this fake and against DataClient + the emulator.
// Paths are normalised like the emulator's HTTPS servers do ("." and ".."
// resolved; '~' is an ordinary name: HomeMappedData, home_paths.h, maps
// "/~/" before a DataApi sees it). Folders exist when made with MakeDir or
// as parents of a file set with SetFile; an upload does not create folders.
//
// Test hooks: counters per operation, bytes_served(), FailNext (inject an
// error into the next calls of one operation), SetIgnoreRange (answer like
// a server that ignores Range: the bytes served then include the skipped
// prefix), SetLatency (sleep on the injected Clock before each call),
// SetAuthorized.
//
// Thread-safety: every method may be called from many threads. One mutex
// (mu_) guards all state; it is never held while sleeping or reading the
// local file of an upload.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "auth/http/clock.h"
#include "fs/remote/data_api.h"
#include "tests/fakes/fake_hooks.h"

namespace globusfs::fs {

class FakeData final : public DataApi {
 public:
  // Operation names for calls(), FailNext().
  static constexpr std::string_view kOpRead = "read";
  static constexpr std::string_view kOpHead = "head";
  static constexpr std::string_view kOpUpload = "upload";

  struct File {
    std::string bytes;
    int64_t mtime = 0;
  };

  // A null `clock` means RealClock (used for latency and upload mtimes).
  explicit FakeData(std::shared_ptr<http::Clock> clock = nullptr);
  ~FakeData() override;
  FakeData(const FakeData&) = delete;
  FakeData& operator=(const FakeData&) = delete;

  // --- DataApi (only target.collection_id is used) ---
  http::Result<void> ReadRange(const DataTarget& target, const std::string& path, uint64_t offset,
                               uint64_t length, std::string* out) override;
  http::Result<DataObjectInfo> Head(const DataTarget& target, const std::string& path) override;
  http::Result<void> Upload(const DataTarget& target, const std::string& path,
                            const std::filesystem::path& local_file, uint64_t size) override;

  // --- setting up state (collections and parent folders are created) ---
  void AddCollection(const std::string& collection_id);
  void SetFile(const std::string& collection_id, const std::string& path, std::string bytes,
               int64_t mtime = 0);
  void MakeDir(const std::string& collection_id, const std::string& path);
  bool RemoveFile(const std::string& collection_id, const std::string& path);
  // The file as stored, without counting a call or applying faults.
  std::optional<File> GetFile(const std::string& collection_id, const std::string& path) const;

  // --- test hooks ---
  // Calls made to `op` (one of the kOp* names), failed ones included.
  uint64_t calls(std::string_view op) const;
  // Body bytes a server would have sent for the reads so far.
  uint64_t bytes_served() const;
  void ResetCalls();  // zeroes calls() and bytes_served()
  // The next `count` calls of `op` fail with `error` before touching state.
  void FailNext(std::string_view op, http::Error error, int count = 1);
  // true: reads are answered like a 200 server (bytes_served counts the
  // prefix up to the offset too); the caller still gets the right bytes.
  void SetIgnoreRange(bool ignore);
  // Every call sleeps this long (on the clock) before it runs.
  void SetLatency(std::chrono::nanoseconds latency);
  // false: every call for this collection answers 401 (a missing token).
  void SetAuthorized(const std::string& collection_id, bool authorized);

 private:
  struct Collection {
    std::map<std::string, File> files;  // by normalised path
    std::set<std::string> dirs;         // normalised; "/" always
    bool authorized = true;
  };

  // The collection or the 401/404 error a request for it gets (HEAD: no body).
  Collection* FindLocked(const std::string& id, bool head, http::Error* error);
  Collection& EnsureLocked(const std::string& id);
  void AddParentsLocked(Collection& c, const std::string& normalised);

  const std::shared_ptr<http::Clock> clock_;
  FakeHooks hooks_;  // calls(), FailNext(), SetLatency()

  mutable std::mutex mu_;  // guards everything below
  std::map<std::string, Collection, std::less<>> collections_;
  uint64_t bytes_served_ = 0;
  bool ignore_range_ = false;
};

}  // namespace globusfs::fs
