// Backends for the TransferApi contract suite: one interface to set up and
// inspect collection state, implemented over FakeTransfer (state set
// directly) and over TransferClient + a real globus-emulator process (state
// written to the collection's local folder), so each contract test is
// written once and runs against both.
//
// The emulator is shared by every test of a process: started on first use,
// stopped by StopSharedEmulator() (call it from TearDownTestSuite). Each
// EmulatorBackend empties the collections "alpha" and "beta" first.
//
// Not thread-safe: one test thread sets up state (the TransferApi under
// test may be called from many).
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "auth/http/http_client.h"
#include "fs/remote/remote_error.h"
#include "fs/remote/transfer_api.h"
#include "fs/remote/transfer_client.h"
#include "tests/support/emulator_process.h"
#include "tests/support/static_bearer.h"

namespace globusfs::fs::contract {

inline constexpr const char* kTransferRs = "transfer.api.globus.org";

class Backend {
 public:
  virtual ~Backend() = default;
  virtual TransferApi& Api() = 0;
  // An API that lists `page_size` entries per request (the fake has no pages).
  virtual TransferApi& PagedApi(int64_t page_size) = 0;
  virtual std::string CollectionId(const std::string& name) = 0;
  // Creates missing parents. mtime nullopt: now.
  virtual void MakeFile(const std::string& coll, const std::string& path,
                        const std::string& content, std::optional<int64_t> mtime = std::nullopt,
                        uint32_t mode = 0644) = 0;
  // Creates the directory if missing, then sets its mode and mtime.
  virtual void MakeDir(const std::string& coll, const std::string& path,
                       std::optional<int64_t> mtime = std::nullopt, uint32_t mode = 0755) = 0;
  // `reported` is what Transfer will report: kFile/kDir (valid) or kInvalidSymlink.
  virtual void MakeSymlink(const std::string& coll, const std::string& path,
                           const std::string& target, EntryType reported) = 0;
  // A special file: kPipe (a FIFO), kOther (a socket), kCharDevice (root only).
  virtual void MakeSpecial(const std::string& coll, const std::string& path, EntryType type) = 0;
  // Whether anything (a dangling link included) is at `path`.
  virtual bool Exists(const std::string& coll, const std::string& path) = 0;
  // ls requests made so far, and whether the backend pages at all.
  virtual uint64_t LsRequests() = 0;
  virtual bool pages() const = 0;
  // Lets submitted tasks make progress between two polls: the fake runs one
  // attempt of every ACTIVE task (FakeTransfer::RunPendingTasks); the
  // emulator runs tasks on its own worker, so this only sleeps 20 ms.
  virtual void LetTasksRun() = 0;
  // Tasks created so far of kind "transfer" or "delete" (a Duplicate
  // submission creates none): FakeTransfer::tasks_submitted, or the
  // emulator's Stats()["tasks"][kind].
  virtual uint64_t TasksSubmitted(const std::string& kind) = 0;
  // Task submissions that reached the service: the emulator's POST
  // /transfer and /delete requests; the fake, which has no wire, counts the
  // tasks it created.
  virtual uint64_t SubmitRequests() = 0;
  // The next task created of `kind` ("transfer" or "delete") is suspended
  // when it first runs: INACTIVE with `nice_status` for `hold`, then it runs
  // on (FakeTransfer::InactivateNextTask; the emulator's task fault with
  // "inactive_ms").
  virtual void HoldNextTaskInactive(const std::string& kind, const std::string& nice_status,
                                    std::chrono::milliseconds hold) = 0;
};

// Collections "alpha" and "beta" with random ids, empty.
std::unique_ptr<Backend> MakeFakeBackend();

// "Bearer <token>", never refreshed.
using StaticAuthorizer = testing::StaticBearer;

// An HttpClient trusting the emulator's CA, with the SDK's retry policy but
// short sleeps.
std::unique_ptr<http::HttpClient> EmulatorHttp(testing::EmulatorProcess& emu);

// Polls tasks every 20..100 ms (the emulator's tasks start after 50 ms).
TransferClientOptions FastPolling();

class EmulatorBackend final : public Backend {
 public:
  EmulatorBackend();
  ~EmulatorBackend() override;

  TransferApi& Api() override { return *client_; }
  TransferApi& PagedApi(int64_t page_size) override;
  std::string CollectionId(const std::string& name) override;
  void MakeFile(const std::string& coll, const std::string& path, const std::string& content,
                std::optional<int64_t> mtime = std::nullopt, uint32_t mode = 0644) override;
  void MakeDir(const std::string& coll, const std::string& path,
               std::optional<int64_t> mtime = std::nullopt, uint32_t mode = 0755) override;
  void MakeSpecial(const std::string& coll, const std::string& path, EntryType type) override;
  void MakeSymlink(const std::string& coll, const std::string& path, const std::string& target,
                   EntryType reported) override;
  bool Exists(const std::string& coll, const std::string& path) override;
  uint64_t LsRequests() override;
  bool pages() const override { return true; }
  void LetTasksRun() override;
  uint64_t TasksSubmitted(const std::string& kind) override;
  uint64_t SubmitRequests() override;
  void HoldNextTaskInactive(const std::string& kind, const std::string& nice_status,
                            std::chrono::milliseconds hold) override;

  testing::EmulatorProcess& emu() { return emu_; }
  http::HttpClient& http() { return *http_; }
  http::Authorizer* authorizer() { return authorizer_.get(); }

 private:
  std::unique_ptr<TransferClient> MakeClient(const TransferClientOptions& options);

  testing::EmulatorProcess& emu_;
  std::unique_ptr<http::HttpClient> http_;
  std::unique_ptr<StaticAuthorizer> authorizer_;
  std::unique_ptr<TransferClient> client_;
  std::unique_ptr<TransferClient> paged_;
};

void StopSharedEmulator();

// The call failed, classified as `want`, with this HTTP status and Globus
// code when given (-1 / "" = not checked).
template <typename T>
::testing::AssertionResult Fails(const http::Result<T>& r, RemoteErrc want, int status = -1,
                                 std::string_view code = {}) {
  if (r.ok()) return ::testing::AssertionFailure() << "the call succeeded";
  const http::Error& e = r.error();
  if (Classify(e) != want || (status >= 0 && e.http_status != status) ||
      (!code.empty() && e.code != code)) {
    return ::testing::AssertionFailure()
           << "classified " << RemoteErrcName(Classify(e)) << ", want " << RemoteErrcName(want)
           << " / " << status << " " << code << "; got " << e.Summary();
  }
  return ::testing::AssertionSuccess();
}

std::vector<std::string> Names(const std::vector<FileEntry>& entries);
// The entry named `name`; fails the test (and returns a blank entry) if none.
const FileEntry& Find(const std::vector<FileEntry>& entries, const std::string& name);

}  // namespace globusfs::fs::contract
