#include "fs/mount_table.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "auth/uuid.h"

namespace globusfs::fs {

using http::ErrorKind;
using http::MakeError;
using json = nlohmann::json;

namespace {


}  // namespace

std::string NormalizeCollectionPath(const std::string& path) {
  if (path.empty()) return "";
  std::string p = path;
  if (p == "~" || p.rfind("~/", 0) == 0) p = "/" + p;
  if (p[0] != '/') return "";
  std::string out;
  for (char c : p) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

std::string ParentOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string NameOf(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string ToTransferPath(const std::string& path) { return path == "/~" ? "/~/" : path; }

bool IsUnder(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
                         path[dir.size()] == '/');
}

http::Result<MountEntry> ParseCollectionSpec(const std::string& spec) {
  auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0) {
    return MakeError(ErrorKind::kConfig, "--collection wants NAME=UUID[:BASEPATH], got '" + spec + "'");
  }
  MountEntry e;
  e.name = spec.substr(0, eq);
  std::string rest = spec.substr(eq + 1);
  e.collection_id = rest.substr(0, 36);
  if (!auth::LooksLikeUuid(e.collection_id)) {
    return MakeError(ErrorKind::kConfig, "--collection " + e.name + ": '" + rest.substr(0, rest.find(':')) +
                                             "' is not a collection UUID");
  }
  if (rest.size() > 36) {
    if (rest[36] != ':') {
      return MakeError(ErrorKind::kConfig, "--collection wants NAME=UUID[:BASEPATH], got '" + spec + "'");
    }
    e.base_path = rest.substr(37);
    if (NormalizeCollectionPath(e.base_path).empty()) {
      return MakeError(ErrorKind::kConfig, "--collection " + e.name + ": the base path must be absolute "
                                               "(\"/data\" or \"/~/...\"), got '" + e.base_path + "'");
    }
  }
  return e;
}

http::Result<MountTable> LoadMountTableFile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return MakeError(ErrorKind::kConfig, "cannot read the mount table " + file.string());
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("collections") || !j["collections"].is_array()) {
    return MakeError(ErrorKind::kConfig, file.string() + ": expected {\"collections\": [{\"name\", \"id\", \"path\"}...]}");
  }
  MountTable t;
  t.single = j.value("single", false);
  for (const auto& c : j["collections"]) {
    if (!c.is_object() || !c.contains("name") || !c.contains("id") || !c["name"].is_string() ||
        !c["id"].is_string()) {
      return MakeError(ErrorKind::kConfig, file.string() + ": each collection needs a \"name\" and an \"id\"");
    }
    std::string spec = c["name"].get<std::string>() + "=" + c["id"].get<std::string>();
    if (c.contains("path") && c["path"].is_string() && !c["path"].get<std::string>().empty()) {
      spec += ":" + c["path"].get<std::string>();
    }
    auto e = ParseCollectionSpec(spec);
    if (!e) return MakeError(ErrorKind::kConfig, file.string() + ": " + e.error().message);
    t.entries.push_back(*e);
  }
  return t;
}

http::Result<void> ValidateMountTable(const MountTable& t) {
  if (t.entries.empty()) {
    return MakeError(ErrorKind::kConfig, "no collections to mount: give --collection NAME=UUID[:BASEPATH] or --config FILE");
  }
  if (t.single && t.entries.size() != 1) {
    return MakeError(ErrorKind::kConfig, "--single mounts exactly one collection");
  }
  std::set<std::string> names;
  for (const auto& e : t.entries) {
    if (e.name.empty() || e.name == "." || e.name == ".." || e.name.find('/') != std::string::npos ||
        e.name.size() > 255) {
      return MakeError(ErrorKind::kConfig, "'" + e.name + "' cannot be a folder name");
    }
    if (!names.insert(e.name).second) {
      return MakeError(ErrorKind::kConfig, "the name '" + e.name + "' is used twice");
    }
  }
  return {};
}

}  // namespace globusfs::fs
