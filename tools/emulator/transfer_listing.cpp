#include "transfer_listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <system_error>

#include "emulator.h"
#include "paths.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;

namespace {

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

// uid/gid -> name, cached for one listing (getpwuid_r reads /etc/passwd).
class NameCache {
 public:
  std::string User(uid_t uid) {
    auto it = users_.find(uid);
    if (it != users_.end()) return it->second;
    std::string name = std::to_string(uid);
    struct passwd pw, *res = nullptr;
    std::vector<char> buf(16384);
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) == 0 && res) name = res->pw_name;
    return users_[uid] = name;
  }
  std::string Group(gid_t gid) {
    auto it = groups_.find(gid);
    if (it != groups_.end()) return it->second;
    std::string name = std::to_string(gid);
    struct group gr, *res = nullptr;
    std::vector<char> buf(16384);
    if (getgrgid_r(gid, &gr, buf.data(), buf.size(), &res) == 0 && res) name = res->gr_name;
    return groups_[gid] = name;
  }

 private:
  std::map<uid_t, std::string> users_;
  std::map<gid_t, std::string> groups_;
};

// Transfer's type of an entry that is neither a file nor a folder.
const char* SpecialType(mode_t mode) {
  if (S_ISCHR(mode)) return "chr";
  if (S_ISBLK(mode)) return "blk";
  if (S_ISFIFO(mode)) return "pipe";
  return "other";
}

// A valid link's target as GCS reports it: the real path (realpath), as a
// path on the collection ("/" is the collection's root folder).
std::string RealCollectionPath(const std::filesystem::path& root, const std::filesystem::path& local) {
  std::error_code ec;
  const std::string real = std::filesystem::canonical(local, ec).native();
  if (ec || real.size() <= root.native().size()) return "/";
  return real.substr(root.native().size());
}

void FillFacts(json& doc, const struct stat& st, NameCache& names) {
  char perms[8];
  std::snprintf(perms, sizeof(perms), "%04o", static_cast<unsigned>(st.st_mode & 07777));
  doc["size"] = static_cast<int64_t>(st.st_size);
  doc["last_modified"] = FileTime(static_cast<int64_t>(st.st_mtime));
  doc["permissions"] = perms;
  doc["user"] = names.User(st.st_uid);
  doc["group"] = names.Group(st.st_gid);
}

std::optional<json> FileDocWith(const std::filesystem::path& root,
                                const std::filesystem::path& local, const std::string& name,
                                int* err, NameCache& names) {
  struct stat ls;
  if (::lstat(local.c_str(), &ls) != 0) {
    *err = errno;
    return std::nullopt;
  }
  *err = 0;
  json doc = {{"DATA_TYPE", "file"},    {"name", name},         {"type", "file"},
              {"link_target", nullptr}, {"link_user", nullptr}, {"link_group", nullptr},
              {"link_size", nullptr},   {"link_last_modified", nullptr}};
  if (S_ISLNK(ls.st_mode)) {
    std::string target(4096, '\0');
    ssize_t n = ::readlink(local.c_str(), target.data(), target.size());
    target.resize(n > 0 ? static_cast<size_t>(n) : 0);
    doc["link_target"] = target;  // a broken link: what it holds (readlink)
    doc["link_size"] = static_cast<int64_t>(ls.st_size);
    doc["link_last_modified"] = FileTime(static_cast<int64_t>(ls.st_mtime));
    doc["link_user"] = names.User(ls.st_uid);
    doc["link_group"] = names.Group(ls.st_gid);
    struct stat ts;
    bool valid = ::stat(local.c_str(), &ts) == 0 && InsideRoot(root, local);
    if (valid) {
      // A valid link: its target's type and facts, and its real path
      // (the GridFTP file module realpath()s it).
      doc["link_target"] = RealCollectionPath(root, local);
      doc["type"] = S_ISDIR(ts.st_mode) ? "dir" : S_ISREG(ts.st_mode) ? "file" : SpecialType(ts.st_mode);
      FillFacts(doc, ts, names);
    } else {
      doc["type"] = "invalid_symlink";
      FillFacts(doc, ls, names);
    }
    return doc;
  }
  doc["type"] = S_ISDIR(ls.st_mode) ? "dir" : S_ISREG(ls.st_mode) ? "file" : SpecialType(ls.st_mode);
  FillFacts(doc, ls, names);
  return doc;
}

// --- error documents ---

Response EndpointFailure(const Request& req, int status, const std::string& code,
                         const Collection& c, const std::string& server, const EndpointError& e) {
  return GlobusError(req, status, code, FormatEndpointError(e, c, server));
}

Response BadRequest(const Request& req, const std::string& message) {
  return GlobusError(req, 400, "ClientError.BadRequest", message);
}

// 404 for a missing path; `code` is "ClientError.NotFound" (ls, rename) or
// "NotFound" (stat), as §3.2 records them.
Response PathNotFound(const Request& req, const std::string& code, const std::string& op,
                      const std::string& asked, const Collection& c, const std::string& server) {
  EndpointError e{"Path not found", op, "", "", "No such file or directory",
                  GlobusReply("PATH_NOT_FOUND", ENOENT, "System error in stat",
                              {"Error: '" + asked + "' not found"})};
  return EndpointFailure(req, 404, code, c, server, e);
}

Response PathNotAllowed(const Request& req, const std::string& op, const std::string& command,
                        const Collection& c, const std::string& server) {
  EndpointError e{"Denied by endpoint", op, "", command, "Fatal FTP Response",
                  {"500 Command failed : Path not allowed."}};
  return EndpointFailure(req, 403, "EndpointPermissionDenied", c, server, e);
}

// Answers a ResolvePath failure.
Response PathProblemResponse(const Request& req, PathProblem problem, const std::string& asked,
                             const std::string& op, const std::string& verb, const Collection& c,
                             const std::string& server) {
  if (problem == PathProblem::kOutsideRoot) {
    return PathNotAllowed(req, op, verb + " " + asked, c, server);
  }
  if (problem == PathProblem::kNotAbsolute) {
    return BadRequest(req, "Invalid path '" + asked + "': paths must be absolute");
  }
  return BadRequest(req, "Invalid path name '" + asked + "'");
}

std::optional<bool> ParseBoolParam(const std::string& v) {
  std::string l = v;
  for (auto& ch : l) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (l == "1" || l == "true") return true;
  if (l == "0" || l == "false") return false;
  return std::nullopt;
}

json OperationResult(const Request& req, const std::string& type, const std::string& code,
                     const std::string& message) {
  return {{"DATA_TYPE", type},
          {"code", code},
          {"message", message},
          {"request_id", NewRequestId()},
          {"resource", req.raw_path}};
}

// A listing that failed on the storage side (stat or opendir): 502.
Response ListingFailed(const Request& req, const Collection& c, const std::string& server,
                       const std::string& asked, int err, const std::string& reason) {
  EndpointError e{"Directory listing failed", "list", "", "MLSD " + asked, "Fatal FTP Response",
                  GlobusReply(GlobusCodeForErrno(err), err, reason)};
  return EndpointFailure(req, 502,
                         err == EACCES ? "ExternalError.DirListingFailed.PermissionDenied"
                                       : "ExternalError.DirListingFailed",
                         c, server, e);
}

// --max-ls-entries: a folder with more entries than Transfer will list
// (globus-api.md §3.2 "SizeLimit"; the wording is the emulator's).
Response TooLargeToList(const Request& req, const Collection& c, const std::string& server,
                        const std::string& asked, size_t count) {
  const std::string what = "Directory too large to list (" + std::to_string(count) +
                           " entries, more than " + std::to_string(c.max_ls_entries) + ")";
  EndpointError e{what, "list", "", "MLSD " + asked, what, {}};
  return EndpointFailure(req, 502, "ExternalError.DirListingFailed.SizeLimit", c, server, e);
}

// The names a listing of `dir` shows, unsorted: what ReadDirectory would
// make documents of. Every kind of entry is listed (files, folders, links,
// and chr/blk/pipe/other as their own types), so no stat is needed; an
// entry that vanishes before its document is made is dropped there.
// Returns 0 or errno.
int ListNames(const std::filesystem::path& /*root*/, const std::filesystem::path& dir,
              bool show_hidden, std::vector<std::string>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return errno;
  while (struct dirent* ent = ::readdir(d)) {
    const char* name = ent->d_name;
    if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
    if (!show_hidden && name[0] == '.') continue;
    out->emplace_back(name);
  }
  ::closedir(d);
  return 0;
}

}  // namespace

// --- error texts ---

std::string FormatEndpointError(const EndpointError& e, const Collection& c,
                                const std::string& server) {
  std::string out;
  if (!e.summary.empty()) out += e.summary + ", ";
  out += "Error (" + e.op + ")\n";
  out += "Endpoint: " + (c.display_name.empty() ? c.name : c.display_name) + " (" + c.id + ")\n";
  out += "Server: " + server + "\n";
  if (!e.file.empty()) out += "File: " + e.file + "\n";
  if (!e.command.empty()) out += "Command: " + e.command + "\n";
  out += "Message: " + e.message + "\n---\nDetails: ";
  // The real service shows the reply's CR LF as the four characters "\r\n".
  for (const auto& line : e.reply) out += line + "\\r\\n";
  out += "\n";
  return out;
}

std::vector<std::string> GlobusReply(const std::string& globus_code, int err,
                                     const std::string& reason, std::vector<std::string> first,
                                     int status) {
  std::string s = std::to_string(status);
  first.push_back(s + "-GlobusError: v=1 c=" + globus_code);
  first.push_back(s + "-GridFTP-Errno: " + std::to_string(err));
  first.push_back(s + "-GridFTP-Reason: " + reason);
  first.push_back(s + "-GridFTP-Error-String: " + ErrnoText(err));
  first.push_back(s + " End.");
  return first;
}

std::string GlobusCodeForErrno(int err) {
  switch (err) {
    case ENOENT: return "PATH_NOT_FOUND";
    case EACCES:
    case EPERM: return "PERMISSION_DENIED";
    case EEXIST:
    case ENOTEMPTY: return "PATH_EXISTS";
    case ENOTDIR: return "NOT_A_DIRECTORY";
    case EISDIR: return "IS_A_DIRECTORY";
    case ENOSPC: return "NO_SPACE_LEFT";
    case EDQUOT: return "QUOTA_EXCEEDED";
    case EINVAL:
    case ENAMETOOLONG: return "INVALID_PATH_NAME";
    default: return "UNKNOWN";
  }
}

// --- file documents ---

bool InsideRoot(const std::filesystem::path& root, const std::filesystem::path& local) {
  std::error_code ec;
  auto real = std::filesystem::canonical(local, ec);
  if (ec) return false;
  const auto& r = root.native();
  const auto& s = real.native();
  return s == r || s.rfind(r + "/", 0) == 0;
}

std::optional<json> MakeFileDoc(const std::filesystem::path& root,
                                const std::filesystem::path& local, const std::string& name,
                                int* err) {
  NameCache names;
  return FileDocWith(root, local, name, err, names);
}

int ReadDirectory(const std::filesystem::path& root, const std::filesystem::path& dir,
                  bool show_hidden, std::vector<json>* out) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return errno;
  NameCache names;
  while (struct dirent* ent = ::readdir(d)) {
    std::string name = ent->d_name;
    if (name == "." || name == "..") continue;
    if (!show_hidden && name[0] == '.') continue;
    int err = 0;
    auto doc = FileDocWith(root, dir / name, name, &err, names);
    if (doc) out->push_back(std::move(*doc));  // vanished or special: skipped
  }
  ::closedir(d);
  return 0;
}

// --- operations ---

Response HandleLs(const Request& req, const Collection& c, const std::string& server) {
  // No path: the collection's default directory, else Transfer's own ("/~/").
  std::string asked = req.QueryParam("path").value_or(
      c.default_directory.empty() ? std::string("/~/") : c.default_directory);
  PathProblem problem;
  auto r = ResolvePath(c, asked, &problem);
  if (!r) return PathProblemResponse(req, problem, asked, "list", "MLSD", c, server);

  std::string error;
  bool show_hidden = true;
  if (auto v = req.QueryParam("show_hidden")) {
    auto b = ParseBoolParam(*v);
    if (!b) return BadRequest(req, "Invalid show_hidden '" + *v + "': must be 1 or 0");
    show_hidden = *b;
  }
  auto limit = IntParam(req, "limit", 100000, 0, 100000, &error);
  auto offset = IntParam(req, "offset", 0, 0, INT64_MAX, &error);
  if (!limit || !offset) return BadRequest(req, error);
  static const std::vector<std::string> kOrderFields = {
      "name", "type", "size", "last_modified", "permissions", "user", "group"};
  auto order = ParseOrderBy(req.QueryParam("orderby").value_or("name ASC"), kOrderFields, &error);
  if (!order) return BadRequest(req, error);
  auto filter = ParseLsFilter(QueryValues(req, "filter"), &error);
  if (!filter) return BadRequest(req, error);

  std::string echoed = asked.empty() || asked.back() != '/' ? asked + "/" : asked;
  struct stat ls, st;
  bool have_l = ::lstat(r->local.c_str(), &ls) == 0;
  if (have_l && S_ISLNK(ls.st_mode) && ::stat(r->local.c_str(), &st) == 0 &&
      !InsideRoot(c.root, r->local)) {
    return PathNotAllowed(req, "list", "MLSD " + asked, c, server);
  }
  if (::stat(r->local.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return PathNotFound(req, "ClientError.NotFound", "list", asked, c, server);
    }
    return ListingFailed(req, c, server, asked, err, "System error in stat");
  }
  if (!S_ISDIR(st.st_mode)) {
    EndpointError e{"Directory listing failed", "list", "", "MLSD " + asked, "Fatal FTP Response",
                    GlobusReply("NOT_A_DIRECTORY", ENOTDIR, "System error in opendir")};
    return EndpointFailure(req, 502, "ExternalError.DirListingFailed.NotDirectory", c, server, e);
  }
  // Like Transfer, every page reads the whole folder; what it costs is one
  // read of the names and one sort, plus file documents for the page only
  // (for the default order, without filters), so paging a folder of
  // 150,000 entries is linear per page, not quadratic.
  const bool by_name_only = filter->all.empty() && order->size() == 1 && (*order)[0].field == "name";
  size_t total = 0;
  size_t begin = 0, end = 0;
  json data = json::array();
  if (by_name_only) {
    std::vector<std::string> names;
    if (int err = ListNames(c.root, r->local, show_hidden, &names)) {
      return ListingFailed(req, c, server, asked, err, "System error in opendir");
    }
    total = names.size();
    if (c.max_ls_entries > 0 && total > static_cast<size_t>(c.max_ls_entries)) {
      return TooLargeToList(req, c, server, asked, total);
    }
    std::sort(names.begin(), names.end());
    if ((*order)[0].descending) std::reverse(names.begin(), names.end());
    begin = std::min<size_t>(total, static_cast<size_t>(*offset));
    end = std::min<size_t>(total, begin + static_cast<size_t>(*limit));
    NameCache owners;
    for (size_t i = begin; i < end; ++i) {
      int err = 0;
      auto doc = FileDocWith(c.root, r->local / names[i], names[i], &err, owners);
      if (doc) data.push_back(std::move(*doc));  // vanished since: skipped
    }
  } else {
    std::vector<json> docs;
    if (int err = ReadDirectory(c.root, r->local, show_hidden, &docs)) {
      return ListingFailed(req, c, server, asked, err, "System error in opendir");
    }
    std::vector<json> kept;
    kept.reserve(docs.size());
    for (auto& d : docs) {
      if (filter->Matches(d)) kept.push_back(std::move(d));
    }
    total = kept.size();
    if (c.max_ls_entries > 0 && total > static_cast<size_t>(c.max_ls_entries)) {
      return TooLargeToList(req, c, server, asked, total);
    }
    SortDocs(&kept, *order);
    begin = std::min<size_t>(total, static_cast<size_t>(*offset));
    end = std::min<size_t>(total, begin + static_cast<size_t>(*limit));
    for (size_t i = begin; i < end; ++i) data.push_back(std::move(kept[i]));
  }
  // "/~/" is echoed as asked, never expanded (globus-api.md §2.2); only
  // --ls-absolute-path names the folder itself.
  json absolute = nullptr;
  if (c.ls_absolute_path) absolute = r->collection_path == "/" ? "/" : r->collection_path + "/";
  json body = {{"DATA_TYPE", "file_list"},  {"endpoint", c.id},
               {"path", echoed},            {"absolute_path", absolute},
               {"length", data.size()},     {"total", total},
               {"rename_supported", true},  {"symlink_supported", true},
               {"DATA", std::move(data)}};
  return JsonResponse(200, body);
}

Response HandleStat(const Request& req, const Collection& c, const std::string& server) {
  std::string asked = req.QueryParam("path").value_or(
      c.default_directory.empty() ? std::string("/~/") : c.default_directory);
  PathProblem problem;
  auto r = ResolvePath(c, asked, &problem);
  if (!r) return PathProblemResponse(req, problem, asked, "list", "MLST", c, server);
  std::string name = r->collection_path == "/" ? "/" : BaseName(r->collection_path);
  int err = 0;
  auto doc = MakeFileDoc(c.root, r->local, name, &err);
  if (doc) return JsonResponse(200, *doc);
  if (err == 0 || err == ENOENT || err == ENOTDIR) {
    return PathNotFound(req, "NotFound", "list", asked, c, server);
  }
  EndpointError e{"Stat failed", "list", "", "MLST " + asked, "Fatal FTP Response",
                  GlobusReply(GlobusCodeForErrno(err), err, "System error in stat")};
  return EndpointFailure(req, 502,
                         err == EACCES ? "ExternalError.StatFailed.PermissionDenied"
                                       : "ExternalError.StatFailed",
                         c, server, e);
}

Response HandleMkdir(Request& req, const Collection& c, const std::string& server) {
  auto body = ReadJsonObject(req);
  if (!body) return BadRequest(req, "The request body must be a JSON object");
  if (body->value("DATA_TYPE", json()) != "mkdir") {
    return BadRequest(req, "Expected DATA_TYPE 'mkdir'");
  }
  if (!body->contains("path") || !(*body)["path"].is_string()) {
    return BadRequest(req, "'path' is required and must be a string");
  }
  std::string asked = (*body)["path"];
  PathProblem problem;
  auto r = ResolvePath(c, asked, &problem);
  if (!r) return PathProblemResponse(req, problem, asked, "mkdir", "MKD", c, server);
  int err = r->collection_path == "/" ? EEXIST : 0;
  if (err == 0 && ::mkdir(r->local.c_str(), 0777) != 0) err = errno;
  if (err == 0) {
    return JsonResponse(202, OperationResult(req, "mkdir_result", "DirectoryCreated",
                                             "The directory was created successfully"));
  }
  std::string code = "ExternalError.MkdirFailed";
  if (err == EEXIST) code = "ExternalError.MkdirFailed.Exists";
  if (err == EACCES || err == EPERM) code = "ExternalError.MkdirFailed.PermissionDenied";
  EndpointError e{"", "mkdir", "", "MKD " + asked, "Fatal FTP Response",
                  GlobusReply(GlobusCodeForErrno(err), err, "System error in mkdir")};
  return EndpointFailure(req, 502, code, c, server, e);
}

Response HandleRename(Request& req, const Collection& c, const std::string& server) {
  auto body = ReadJsonObject(req);
  if (!body) return BadRequest(req, "The request body must be a JSON object");
  if (body->value("DATA_TYPE", json()) != "rename") {
    return BadRequest(req, "Expected DATA_TYPE 'rename'");
  }
  for (const char* key : {"old_path", "new_path"}) {
    if (!body->contains(key) || !(*body)[key].is_string()) {
      return BadRequest(req, std::string("'") + key + "' is required and must be a string");
    }
  }
  std::string old_asked = (*body)["old_path"], new_asked = (*body)["new_path"];
  PathProblem problem;
  auto from = ResolvePath(c, old_asked, &problem);
  if (!from) return PathProblemResponse(req, problem, old_asked, "rename", "RNFR", c, server);
  auto to = ResolvePath(c, new_asked, &problem);
  if (!to) return PathProblemResponse(req, problem, new_asked, "rename", "RNTO", c, server);
  if (from->collection_path == "/") return PathNotAllowed(req, "rename", "RNFR " + old_asked, c, server);

  struct stat st;
  if (::lstat(from->local.c_str(), &st) != 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return PathNotFound(req, "ClientError.NotFound", "rename", old_asked, c, server);
    }
    EndpointError e{"", "rename", "", "RNFR " + old_asked, "Fatal FTP Response",
                    GlobusReply(GlobusCodeForErrno(err), err, "System error in rename")};
    return EndpointFailure(req, 502, "ExternalError.RenameFailed.PermissionDenied", c, server, e);
  }
  int err = 0;
  if (to->collection_path == "/") {
    err = EEXIST;
  } else if (::renameat2(AT_FDCWD, from->local.c_str(), AT_FDCWD, to->local.c_str(),
                         RENAME_NOREPLACE) != 0) {
    err = errno;
    const std::string& f = from->collection_path;
    bool into_itself = to->collection_path.rfind(f + "/", 0) == 0;
    if (err == EINVAL && !into_itself) {
      // RENAME_NOREPLACE unsupported by this filesystem: check, then rename.
      struct stat t;
      err = ::lstat(to->local.c_str(), &t) == 0 ? EEXIST : 0;
      if (err == 0 && ::rename(from->local.c_str(), to->local.c_str()) != 0) err = errno;
    }
  }
  if (err == 0) {
    return JsonResponse(200, OperationResult(req, "result", "FileRenamed",
                                             "File or directory renamed successfully"));
  }
  std::string code = "ExternalError.RenameFailed";
  if (err == EEXIST || err == ENOTEMPTY) code = "ExternalError.RenameFailed.Exists";
  if (err == EACCES || err == EPERM) code = "ExternalError.RenameFailed.PermissionDenied";
  EndpointError e{"", "rename", "", "RNTO " + new_asked, "Fatal FTP Response",
                  GlobusReply(GlobusCodeForErrno(err), err, "System error in rename")};
  return EndpointFailure(req, 502, code, c, server, e);
}

}  // namespace emu
