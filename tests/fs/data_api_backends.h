// Backends for the DataApi contract suite: one interface to set up and
// inspect collection files, implemented over FakeData (state set directly)
// and over DataClient + a real globus-emulator process (files written to
// and read from the collection's local folder), so each contract test is
// written once and runs against both.
//
// The emulator is shared by every test of a process: started on first use,
// stopped by StopSharedDataEmulator() (call it from TearDownTestSuite).
// Each DataEmulatorBackend empties the collections "alpha" and "beta" and
// resets the emulator's statistics and faults first.
//
// Not thread-safe: one test thread sets up state (the DataApi under test may
// be called from many).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "auth/http/http_client.h"
#include "fs/remote/data_api.h"
#include "fs/remote/data_client.h"
#include "tests/fakes/fake_data.h"
#include "tests/fs/transfer_api_backends.h"
#include "tests/support/emulator_process.h"

namespace globusfs::fs::contract {

class DataBackend {
 public:
  virtual ~DataBackend() = default;
  virtual DataApi& Api() = 0;
  virtual DataTarget Target(const std::string& coll) = 0;
  // Creates missing parents. mtime nullopt: now.
  virtual void MakeFile(const std::string& coll, const std::string& path,
                        const std::string& content,
                        std::optional<int64_t> mtime = std::nullopt) = 0;
  virtual void MakeDir(const std::string& coll, const std::string& path) = 0;
  // The file's bytes as stored, nullopt if there is none.
  virtual std::optional<std::string> Contents(const std::string& coll, const std::string& path) = 0;
  // From now on Api() calls for `coll` carry no valid token (the emulator
  // backend sends a garbage one; the fake answers 401).
  virtual void DenyAccess(const std::string& coll) = 0;
  // Reads (GET requests) that reached the server so far.
  virtual uint64_t Reads() = 0;
};

class FakeDataBackend final : public DataBackend {
 public:
  FakeDataBackend();
  DataApi& Api() override { return fake_; }
  DataTarget Target(const std::string& coll) override;
  void MakeFile(const std::string& coll, const std::string& path, const std::string& content,
                std::optional<int64_t> mtime = std::nullopt) override;
  void MakeDir(const std::string& coll, const std::string& path) override;
  std::optional<std::string> Contents(const std::string& coll, const std::string& path) override;
  void DenyAccess(const std::string& coll) override;
  uint64_t Reads() override { return fake_.calls(FakeData::kOpRead); }

  FakeData& fake() { return fake_; }

 private:
  FakeData fake_;
  std::map<std::string, std::string> ids_;
};

class DataEmulatorBackend final : public DataBackend {
 public:
  static constexpr const char* kGarbageToken = "garbage-token-c0ffee";

  DataEmulatorBackend();
  ~DataEmulatorBackend() override;

  // DataClient, except that each Head runs on a fresh connection (see
  // HeadOnFreshConnection in the .cpp: a globus-emulator bug).
  DataApi& Api() override { return *api_; }
  // DataClient as is.
  DataClient& client() { return *client_; }
  DataTarget Target(const std::string& coll) override;
  void MakeFile(const std::string& coll, const std::string& path, const std::string& content,
                std::optional<int64_t> mtime = std::nullopt) override;
  void MakeDir(const std::string& coll, const std::string& path) override;
  std::optional<std::string> Contents(const std::string& coll, const std::string& path) override;
  void DenyAccess(const std::string& coll) override;
  uint64_t Reads() override { return emu_.RequestCount("https.get"); }

  // Another client on the same HttpClient and tokens.
  std::unique_ptr<DataClient> MakeClient(DataClientOptions options);
  // A client whose authorizer_for always returns `authorizer` (may be null).
  std::unique_ptr<DataClient> MakeClientWith(http::Authorizer* authorizer);
  // The local file behind a collection path.
  std::filesystem::path Local(const std::string& coll, const std::string& path);

  testing::EmulatorProcess& emu() { return emu_; }
  http::HttpClient& http() { return *http_; }

 private:
  http::Authorizer* AuthorizerFor(const std::string& collection_id);

  testing::EmulatorProcess& emu_;
  std::unique_ptr<http::HttpClient> http_;
  std::map<std::string, std::unique_ptr<StaticAuthorizer>> by_collection_;  // id -> token
  StaticAuthorizer garbage_{kGarbageToken};
  std::set<std::string> denied_;  // collection ids
  std::unique_ptr<DataClient> client_;
  std::unique_ptr<DataApi> api_;
};

void StopSharedDataEmulator();

// ReadRange into a fresh string.
http::Result<std::string> ReadBytes(DataApi& api, const DataTarget& target, const std::string& path,
                                    uint64_t offset, uint64_t length);

// A local file holding `content` (a staged upload), removed by the destructor.
class TempFile {
 public:
  explicit TempFile(const std::string& content);
  ~TempFile();
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const std::filesystem::path& path() const { return path_; }
  uint64_t size() const { return size_; }

 private:
  std::filesystem::path path_;
  uint64_t size_;
};

// SHA-256 of `bytes`, as lower-case hex.
std::string Sha256Hex(std::string_view bytes);

// `size` bytes that differ at every offset mod 251 (a prime, so ranges of
// power-of-two sizes never line up with the pattern).
std::string Pattern(uint64_t size, uint64_t seed = 0);

}  // namespace globusfs::fs::contract
