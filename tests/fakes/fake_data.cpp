#include "tests/fakes/fake_data.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "fs/remote/transfer_json.h"

namespace globusfs::fs {
namespace {

using json = nlohmann::json;

// The emulator's NormalisePath as its HTTPS servers apply it: "." and ".."
// are resolved and never climb above the root, '~' is an ordinary name
// (only Transfer understands it); no trailing slash ("/" for the root).
std::string Normalise(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    const std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.emplace_back(part);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

std::string Parent(const std::string& normalised) {
  const size_t slash = normalised.rfind('/');
  return slash == 0 ? "/" : normalised.substr(0, slash);
}

// A collection HTTPS server's error, parsed as DataClient parses one. A
// HEAD answer has no body, so only its status survives.
http::Error GcsError(int status, const std::string& code, const std::string& message, bool head,
                     const json& extra = nullptr) {
  if (head) return http::ParseErrorDocument(status, "");
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
  return http::ParseErrorDocument(status, doc.dump());
}

http::Error Annotated(std::string_view op, std::string_view path, http::Error error) {
  error.message = http::TruncateUtf8(
      std::string(op) + " " + std::string(path) + ": " + error.message, http::kMaxErrorMessage);
  return error;
}

}  // namespace

FakeData::FakeData(std::shared_ptr<http::Clock> clock)
    : clock_(clock ? std::move(clock) : std::make_shared<http::RealClock>()), hooks_(clock_) {}

FakeData::~FakeData() = default;

FakeData::Collection* FakeData::FindLocked(const std::string& id, bool head, http::Error* error) {
  auto it = collections_.find(id);
  if (it == collections_.end()) {
    *error = GcsError(404, "not_found", "No such collection HTTPS server", head);
    return nullptr;
  }
  if (!it->second.authorized) {
    *error = GcsError(401, "AuthenticationRequired",
                      "A valid access token for this collection's https scope is required", head,
                      {{"authorization_parameters",
                        {{"required_scopes",
                          json::array({"https://auth.globus.org/scopes/" + id + "/https"})}}}});
    return nullptr;
  }
  return &it->second;
}

FakeData::Collection& FakeData::EnsureLocked(const std::string& id) {
  Collection& c = collections_[id];
  c.dirs.insert("/");
  return c;
}

void FakeData::AddParentsLocked(Collection& c, const std::string& normalised) {
  for (std::string p = Parent(normalised); c.dirs.insert(p).second && p != "/"; p = Parent(p)) {
    c.files.erase(p);  // a folder replaces a file of the same name
  }
}

http::Result<void> FakeData::ReadRange(const DataTarget& target, const std::string& path,
                                       uint64_t offset, uint64_t length, std::string* out) {
  out->clear();
  if (auto bad = CheckPath(path)) return Annotated("read", path, std::move(*bad));
  length = std::min(length, std::numeric_limits<uint64_t>::max() - offset);
  if (length == 0) return {};  // DataClient sends nothing
  if (auto fault = hooks_.Begin(kOpRead)) return Annotated("read", path, std::move(*fault));
  std::lock_guard lock(mu_);
  http::Error error;
  Collection* c = FindLocked(target.collection_id, false, &error);
  if (c == nullptr) return Annotated("read", path, std::move(error));
  const std::string p = Normalise(path);
  if (c->dirs.count(p) != 0) {
    return Annotated("read", path,
                     GcsError(400, "is_a_directory", "The path is a directory", false));
  }
  auto it = c->files.find(p);
  if (it == c->files.end()) {
    return Annotated("read", path, GcsError(404, "not_found", "No such file", false));
  }
  const std::string& bytes = it->second.bytes;
  const uint64_t size = bytes.size();
  if (ignore_range_) {
    bytes_served_ += std::min(size, offset + length);  // the reader cuts the 200 there
  }
  if (offset >= size) return {};  // 416, or a 200 shorter than the offset
  const uint64_t n = std::min(length, size - offset);
  out->assign(bytes, static_cast<size_t>(offset), static_cast<size_t>(n));
  if (!ignore_range_) bytes_served_ += n;
  return {};
}

http::Result<DataObjectInfo> FakeData::Head(const DataTarget& target, const std::string& path) {
  if (auto bad = CheckPath(path)) return Annotated("head", path, std::move(*bad));
  if (auto fault = hooks_.Begin(kOpHead)) return Annotated("head", path, std::move(*fault));
  std::lock_guard lock(mu_);
  http::Error error;
  Collection* c = FindLocked(target.collection_id, true, &error);
  if (c == nullptr) return Annotated("head", path, std::move(error));
  const std::string p = Normalise(path);
  if (c->dirs.count(p) != 0) return Annotated("head", path, GcsError(400, "", "", true));
  auto it = c->files.find(p);
  if (it == c->files.end()) return Annotated("head", path, GcsError(404, "", "", true));
  return DataObjectInfo{it->second.bytes.size(), it->second.mtime};
}

http::Result<void> FakeData::Upload(const DataTarget& target, const std::string& path,
                                    const std::filesystem::path& local_file, uint64_t size) {
  if (auto bad = CheckPath(path)) return Annotated("upload", path, std::move(*bad));
  // Read the local file first (as DataClient streams it), without the lock.
  std::ifstream in(local_file, std::ios::binary);
  if (!in) {
    return http::MakeError(
        http::ErrorKind::kConfig,
        "upload " + path + ": cannot open the staged file '" + local_file.string() + "'");
  }
  std::string bytes(static_cast<size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(size));
  if (static_cast<uint64_t>(in.gcount()) != size) {
    return http::MakeError(http::ErrorKind::kConfig,
                           "upload " + path + ": the staged file ended after " +
                               std::to_string(in.gcount()) + " of the " + std::to_string(size) +
                               " bytes to upload '" + local_file.string() + "'");
  }
  if (auto fault = hooks_.Begin(kOpUpload)) return Annotated("upload", path, std::move(*fault));
  const int64_t now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_->SystemNow().time_since_epoch())
          .count();
  std::lock_guard lock(mu_);
  http::Error error;
  Collection* c = FindLocked(target.collection_id, false, &error);
  if (c == nullptr) return Annotated("upload", path, std::move(error));
  const std::string p = Normalise(path);
  if (p == "/") {
    return Annotated("upload", path, GcsError(400, "is_a_directory", "Cannot PUT the root", false));
  }
  if (c->dirs.count(Parent(p)) == 0) {
    return Annotated("upload", path,
                     GcsError(404, "not_found", "The parent directory does not exist", false));
  }
  if (c->dirs.count(p) != 0) {
    return Annotated("upload", path,
                     GcsError(409, "is_a_directory", "The path is a directory", false));
  }
  c->files[p] = File{std::move(bytes), now};
  return {};
}

void FakeData::AddCollection(const std::string& collection_id) {
  std::lock_guard lock(mu_);
  EnsureLocked(collection_id);
}

void FakeData::SetFile(const std::string& collection_id, const std::string& path, std::string bytes,
                       int64_t mtime) {
  std::lock_guard lock(mu_);
  Collection& c = EnsureLocked(collection_id);
  const std::string p = Normalise(path);
  if (p == "/") return;
  AddParentsLocked(c, p);
  c.dirs.erase(p);
  c.files[p] = File{std::move(bytes), mtime};
}

void FakeData::MakeDir(const std::string& collection_id, const std::string& path) {
  std::lock_guard lock(mu_);
  Collection& c = EnsureLocked(collection_id);
  const std::string p = Normalise(path);
  if (p == "/") return;
  AddParentsLocked(c, p);
  c.files.erase(p);
  c.dirs.insert(p);
}

bool FakeData::RemoveFile(const std::string& collection_id, const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = collections_.find(collection_id);
  return it != collections_.end() && it->second.files.erase(Normalise(path)) > 0;
}

std::optional<FakeData::File> FakeData::GetFile(const std::string& collection_id,
                                                const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = collections_.find(collection_id);
  if (it == collections_.end()) return std::nullopt;
  auto f = it->second.files.find(Normalise(path));
  if (f == it->second.files.end()) return std::nullopt;
  return f->second;
}

uint64_t FakeData::calls(std::string_view op) const { return hooks_.calls(op); }

uint64_t FakeData::bytes_served() const {
  std::lock_guard lock(mu_);
  return bytes_served_;
}

void FakeData::ResetCalls() {
  hooks_.ResetCalls();
  std::lock_guard lock(mu_);
  bytes_served_ = 0;
}

void FakeData::FailNext(std::string_view op, http::Error error, int count) {
  hooks_.FailNext(op, std::move(error), count);
}

void FakeData::SetIgnoreRange(bool ignore) {
  std::lock_guard lock(mu_);
  ignore_range_ = ignore;
}

void FakeData::SetLatency(std::chrono::nanoseconds latency) { hooks_.SetLatency(latency); }

void FakeData::SetAuthorized(const std::string& collection_id, bool authorized) {
  std::lock_guard lock(mu_);
  EnsureLocked(collection_id).authorized = authorized;
}

}  // namespace globusfs::fs
