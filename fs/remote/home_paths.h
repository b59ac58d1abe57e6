// '~' on a collection's HTTPS server (globus-api.md §2.2, §2.10, §6).
//
// Transfer takes collection paths under "/~/": the user's home folder on
// the collection, which `globus ls COLLECTION` lists when the collection
// has no default_directory (the usual GCSv5 case), so a mount without a
// BASEPATH shows it. A collection's HTTPS server knows only paths from the
// collection's root: nothing documents '~' there (UNVERIFIED;
// globus-emulator refuses it). So a file under "/~/" is read and written
// over HTTPS at <home>/..., <home> being the absolute path Transfer gives
// for "/~/" (TransferApi::HomePath), asked once per collection.
//
//  - ToHttpsPath(): the mapping itself (pure).
//  - HomePaths: each collection's "/~/", seeded at start-up, else asked of
//    Transfer on first use and kept once Transfer has answered (a path, or
//    "" when it cannot tell: that stays until the next mount); a failed
//    question (Transfer unreachable, a login missing) is asked again later.
//  - HomeMappedData: a DataApi wrapper that gives the DataApi it wraps the
//    mapped path, or fails with the kConfig error kHomeUnknownCode
//    (Classify: kNotSupported, so EOPNOTSUPP) naming the collection and
//    the fix when Transfer cannot tell.
//
// Thread-safety: ToHttpsPath is pure; HomePaths and HomeMappedData may be
// called from many threads (one mutex in HomePaths, never held across a
// Transfer call). The TransferApi and the wrapped DataApi must outlive them.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "auth/http/error.h"
#include "auth/http/result.h"
#include "fs/remote/data_api.h"
#include "fs/remote/transfer_api.h"

namespace globusfs::fs {

// Code of the kConfig error for a file under "/~/" of a collection whose
// home folder Transfer does not name. Classify() maps it to kNotSupported.
inline constexpr std::string_view kHomeUnknownCode = "HomeUnknown";

// Whether `path` is "/~" or below it ("~" and "~/x" too).
bool IsUnderHome(std::string_view path);

// The path a collection's HTTPS server knows for the collection path
// `path`: under "/~" it is `home` + the rest ("/~/a/b" with home
// "/home/ada" -> "/home/ada/a/b"; "/~/" -> "/home/ada/"; home "/" ->
// "/a/b"); any other path is returned as it is. nullopt when `path` is
// under "/~" and `home` is empty (unknown).
std::optional<std::string> ToHttpsPath(std::string_view path, std::string_view home);

// The kHomeUnknownCode error for `op` on `path` of `collection_id`: says
// why, and the fix (mount the home folder by its absolute path).
http::Error HomeUnknownError(std::string_view op, std::string_view path,
                             const std::string& collection_id);

// The same, said once at start-up for the mount `name` of `collection_id`:
// one line, naming the mount's own --collection fix.
std::string HomeUnknownNote(const std::string& name, const std::string& collection_id);

class HomePaths {
 public:
  explicit HomePaths(TransferApi& api) : api_(api) {}
  HomePaths(const HomePaths&) = delete;
  HomePaths& operator=(const HomePaths&) = delete;

  // What start-up learnt: the absolute path, or "" when Transfer cannot tell.
  void Set(const std::string& collection_id, std::string home);
  // The collection's "/~/" as an absolute path, "" when Transfer cannot
  // tell. Blocks on TransferApi::HomePath the first time (concurrent first
  // callers may each ask); its errors are returned and not kept.
  http::Result<std::string> Get(const std::string& collection_id);

 private:
  TransferApi& api_;
  std::mutex mu_;                              // guards homes_
  std::map<std::string, std::string> homes_;  // collection id -> home ("" unknown)
};

class HomeMappedData final : public DataApi {
 public:
  HomeMappedData(DataApi& inner, HomePaths& homes) : inner_(inner), homes_(homes) {}

  http::Result<void> ReadRange(const DataTarget& target, const std::string& path, uint64_t offset,
                               uint64_t length, std::string* out) override;
  http::Result<DataObjectInfo> Head(const DataTarget& target, const std::string& path) override;
  http::Result<void> Upload(const DataTarget& target, const std::string& path,
                            const std::filesystem::path& local_file, uint64_t size) override;

 private:
  // The path to send for `path`, or the error to return instead.
  http::Result<std::string> Map(std::string_view op, const DataTarget& target,
                                const std::string& path);

  DataApi& inner_;
  HomePaths& homes_;
};

}  // namespace globusfs::fs
