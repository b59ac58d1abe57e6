#include "https_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "emulator.h"
#include "paths.h"
#include "scopes.h"
#include "session_check.h"
#include "util.h"

namespace emu {

using json = nlohmann::json;

namespace {

std::string HttpDate(int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// GCS-style JSON error (the GCS Manager "result#1.0.0" shape).
Response GcsError(int status, const std::string& code, const std::string& message,
                  const json& extra = nullptr) {
  json doc = {{"DATA_TYPE", "result#1.0.0"},
              {"http_response_code", status},
              {"code", code},
              {"message", message},
              {"detail", nullptr},
              {"has_next_page", false},
              {"data", json::array()}};
  if (extra.is_object()) {
    for (auto it = extra.begin(); it != extra.end(); ++it) doc[it.key()] = it.value();
  }
  return JsonResponse(status, doc);
}

struct ByteRange {
  uint64_t first = 0, last = 0;  // inclusive
};

// Parses a single "bytes=a-b" / "bytes=a-" / "bytes=-n" range. Returns
// nullopt for a header to ignore (malformed or several ranges), and sets
// *unsatisfiable when the range starts past the end.
std::optional<ByteRange> ParseRange(const std::string& h, uint64_t size, bool* unsatisfiable) {
  *unsatisfiable = false;
  if (h.rfind("bytes=", 0) != 0) return std::nullopt;
  std::string spec = h.substr(6);
  if (spec.find(',') != std::string::npos) return std::nullopt;
  auto dash = spec.find('-');
  if (dash == std::string::npos) return std::nullopt;
  std::string a = spec.substr(0, dash), b = spec.substr(dash + 1);
  auto digits = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  ByteRange r;
  if (a.empty()) {  // suffix: the last n bytes
    if (!digits(b)) return std::nullopt;
    uint64_t n = std::stoull(b);
    if (n == 0 || size == 0) {
      *unsatisfiable = true;
      return std::nullopt;
    }
    r.first = n >= size ? 0 : size - n;
    r.last = size - 1;
    return r;
  }
  if (!digits(a) || (!b.empty() && !digits(b))) return std::nullopt;
  r.first = std::stoull(a);
  r.last = b.empty() ? size - 1 : std::min<uint64_t>(std::stoull(b), size - 1);
  if (!b.empty() && std::stoull(b) < r.first) return std::nullopt;
  if (r.first >= size) {
    *unsatisfiable = true;
    return std::nullopt;
  }
  return r;
}

}  // namespace

Response HttpsService::Handle(Request& req, const std::string& route) {
  // /c/<collection id>/<path>
  std::string rest = req.path.substr(3);
  auto slash = rest.find('/');
  std::string id = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto c = emu_.FindCollection(id);
  if (!c || !c->https) return GcsError(404, "not_found", "No such collection HTTPS server");

  // Authorisation: a token for this collection carrying its https scope
  // (and data_access for non-HA mapped collections, §5).
  std::vector<std::string> required = {CollectionScope(c->id, "https")};
  if (c->NeedsDataAccess()) required.push_back(CollectionScope(c->id, "data_access"));
  auto at = emu_.BearerToken(req);
  bool ok = at && at->resource_server == c->id;
  for (const auto& s : required) {
    ok = ok && std::find(at->scopes.begin(), at->scopes.end(), s) != at->scopes.end();
  }
  if (!ok) {
    std::string scope_str;
    for (const auto& s : required) scope_str += (scope_str.empty() ? "" : " ") + s;
    auto xrw = req.headers.Get("x-requested-with");
    if (xrw && *xrw == "XMLHttpRequest") {
      return GcsError(401, "AuthenticationRequired",
                      "A valid access token for this collection's https scope is required",
                      {{"authorization_parameters", {{"required_scopes", required}}}});
    }
    Response r;
    r.status = 302;
    r.headers.Set("Location", emu_.BaseUrl() + "/v2/oauth2/authorize?client_id=" + c->id +
                                  "&response_type=code&scope=" + PercentEncode(scope_str) +
                                  "&redirect_uri=" + PercentEncode(emu_.HttpsServerUrl(*c) + "/authcallback"));
    return r;
  }
  if (auto params = SessionShortfall(emu_, *c)) {
    return GcsError(403, "permission_denied",
                    params->contains("session_required_identities")
                        ? "Session reauthentication required (collection authentication timeout)"
                        : "Multi-factor authentication required (collection authentication policy)",
                    {{"authorization_parameters", *params}});
  }


  PathProblem problem;
  // The HTTPS servers know paths from the collection's root only: '~' is
  // an ordinary name here (UNVERIFIED; docs/emulator.md).
  auto resolved = ResolvePath(*c, path, &problem, Tilde::kLiteral);
  if (!resolved) return GcsError(403, "permission_denied", "Path not allowed");

  if (route == "https.get" || route == "https.head") {
    struct stat st{};
    if (::stat(resolved->local.c_str(), &st) != 0) return GcsError(404, "not_found", "No such file");
    if (S_ISDIR(st.st_mode)) return GcsError(400, "is_a_directory", "The path is a directory");
    if (!S_ISREG(st.st_mode)) return GcsError(403, "permission_denied", "Not a regular file");
    uint64_t size = static_cast<uint64_t>(st.st_size);
    Response r;
    r.headers.Set("Content-Type", "application/octet-stream");
    r.headers.Set("Accept-Ranges", "bytes");
    r.headers.Set("Last-Modified", HttpDate(st.st_mtime));
    r.headers.Set("ETag", "\"" + std::to_string(size) + "-" + std::to_string(st.st_mtim.tv_sec) +
                              "." + std::to_string(st.st_mtim.tv_nsec) + "\"");
    if (req.QueryParam("download")) {
      r.headers.Set("Content-Disposition", "attachment; filename=\"" + BaseName(resolved->collection_path) + "\"");
    }
    FileBody body{resolved->local.string(), 0, size};
    if (auto range = req.headers.Get("range"); range && route == "https.get") {
      bool unsatisfiable = false;
      auto br = ParseRange(*range, size, &unsatisfiable);
      if (unsatisfiable) {
        Response e = GcsError(416, "range_not_satisfiable", "Range not satisfiable");
        e.headers.Set("Content-Range", "bytes */" + std::to_string(size));
        return e;
      }
      if (br) {
        r.status = 206;
        body.offset = br->first;
        body.length = br->last - br->first + 1;
        r.headers.Set("Content-Range", "bytes " + std::to_string(br->first) + "-" +
                                           std::to_string(br->last) + "/" + std::to_string(size));
      }
    }
    r.file = body;
    r.head_only = route == "https.head";
    return r;
  }

  if (route == "https.put") {
    if (resolved->collection_path == "/") return GcsError(400, "is_a_directory", "Cannot PUT the root");
    struct stat st{};
    auto parent = resolved->local.parent_path();
    if (::stat(parent.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return GcsError(404, "not_found", "The parent directory does not exist");
    }
    if (::stat(resolved->local.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      return GcsError(409, "is_a_directory", "The path is a directory");
    }
    if (req.content_length < 0 && !req.headers.Has("transfer-encoding")) {
      return GcsError(411, "length_required", "Content-Length is required");
    }
    // Upload to a hidden temporary file beside the target, renamed into place
    // only once the whole body has arrived; a broken upload leaves no trace.
    std::string tmp = (parent / (".globus-emulator-upload-" + NewToken("", 9))).string();
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return GcsError(403, "permission_denied", "Cannot write here");
    std::vector<char> buf(256 * 1024);
    bool write_ok = true, body_ok = true;
    uint64_t total = 0;
    for (;;) {
      int64_t n = req.ReadBody(buf.data(), buf.size());
      if (n < 0) {
        body_ok = false;
        break;
      }
      if (n == 0) break;
      total += static_cast<uint64_t>(n);
      for (int64_t off = 0; off < n && write_ok;) {
        ssize_t w = ::write(fd, buf.data() + off, static_cast<size_t>(n - off));
        if (w <= 0) write_ok = false;
        else off += w;
      }
    }
    emu_.CountHttpsBytesReceived(total);
    if (write_ok) write_ok = ::fsync(fd) == 0;
    ::close(fd);
    if (!body_ok || !write_ok) {
      ::unlink(tmp.c_str());
      if (!body_ok) {
        Response r;
        r.drop = true;  // the client went away mid-body; nothing to answer
        return r;
      }
      return GcsError(507, "write_failed", "Could not store the file");
    }
    if (::rename(tmp.c_str(), resolved->local.c_str()) != 0) {
      ::unlink(tmp.c_str());
      return GcsError(500, "write_failed", "Could not store the file");
    }
    return Response::Text(200, "", "text/plain");
  }
  return GcsError(405, "method_not_allowed", "Only GET, HEAD and PUT are supported");
}

}  // namespace emu
