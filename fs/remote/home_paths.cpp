#include "fs/remote/home_paths.h"

#include <utility>

namespace globusfs::fs {

bool IsUnderHome(std::string_view path) {
  if (path.starts_with('/')) path.remove_prefix(1);
  return path == "~" || path.starts_with("~/");
}

std::optional<std::string> ToHttpsPath(std::string_view path, std::string_view home) {
  if (!IsUnderHome(path)) return std::string(path);
  if (home.empty()) return std::nullopt;
  // The rest after "~": "" or "/a/b" (or "/" for "/~/").
  std::string_view rest = path.substr(path.find('~') + 1);
  while (home.size() > 1 && home.ends_with('/')) home.remove_suffix(1);
  if (home == "/") return rest.empty() ? std::string("/") : std::string(rest);
  return std::string(home) + std::string(rest);
}

http::Error HomeUnknownError(std::string_view op, std::string_view path,
                             const std::string& collection_id) {
  http::Error e = http::MakeError(
      http::ErrorKind::kConfig,
      std::string(op) + " " + std::string(path) + ": collection " + collection_id +
          ": its HTTPS server does not understand '~', and Globus Transfer does not say which "
          "folder '/~/' (your home folder there) is, so files under it cannot be read or "
          "written; mount that folder by its absolute path instead: --collection NAME=" +
          collection_id + ":/path/of/your/home/ (globus ls " + collection_id +
          ":/ shows the top folders)");
  e.code = std::string(kHomeUnknownCode);
  return e;
}

std::string HomeUnknownNote(const std::string& name, const std::string& collection_id) {
  return "'" + name + "' (collection " + collection_id +
         "): Globus Transfer does not say which folder '/~/' (your home folder there) is, and the "
         "collection's HTTPS server does not understand '~': files under it cannot be read or "
         "written (EOPNOTSUPP); folders work. To use them, mount that folder by its absolute path: "
         "--collection " + name + "=" + collection_id + ":/path/of/your/home/";
}

void HomePaths::Set(const std::string& collection_id, std::string home) {
  std::lock_guard lock(mu_);
  homes_[collection_id] = std::move(home);
}

http::Result<std::string> HomePaths::Get(const std::string& collection_id) {
  {
    std::lock_guard lock(mu_);
    auto it = homes_.find(collection_id);
    if (it != homes_.end()) return it->second;
  }
  auto home = api_.HomePath(collection_id);
  if (!home) return std::move(home).error();
  std::lock_guard lock(mu_);
  return homes_.try_emplace(collection_id, std::move(*home)).first->second;
}

http::Result<std::string> HomeMappedData::Map(std::string_view op, const DataTarget& target,
                                              const std::string& path) {
  if (!IsUnderHome(path)) return path;
  auto home = homes_.Get(target.collection_id);
  if (!home) {
    http::Error e = std::move(home).error();
    e.message = http::TruncateUtf8(std::string(op) + " " + path + ": which folder '/~/' is: " +
                                       e.message,
                                   http::kMaxErrorMessage);
    return e;
  }
  auto mapped = ToHttpsPath(path, *home);
  if (!mapped) return HomeUnknownError(op, path, target.collection_id);
  return *mapped;
}

http::Result<void> HomeMappedData::ReadRange(const DataTarget& target, const std::string& path,
                                             uint64_t offset, uint64_t length, std::string* out) {
  auto mapped = Map("read", target, path);
  if (!mapped) return std::move(mapped).error();
  return inner_.ReadRange(target, *mapped, offset, length, out);
}

http::Result<DataObjectInfo> HomeMappedData::Head(const DataTarget& target,
                                                  const std::string& path) {
  auto mapped = Map("head", target, path);
  if (!mapped) return std::move(mapped).error();
  return inner_.Head(target, *mapped);
}

http::Result<void> HomeMappedData::Upload(const DataTarget& target, const std::string& path,
                                          const std::filesystem::path& local_file, uint64_t size) {
  auto mapped = Map("upload", target, path);
  if (!mapped) return std::move(mapped).error();
  return inner_.Upload(target, *mapped, local_file, size);
}

}  // namespace globusfs::fs
