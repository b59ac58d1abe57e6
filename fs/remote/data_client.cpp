#include "fs/remote/data_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

#include "auth/http/url.h"
#include "fs/remote/transfer_json.h"

namespace globusfs::fs {
namespace {

using http::Error;
using http::ErrorKind;

// ReadRange never reserves more than this up front (a caller may ask for
// far more than a file holds, e.g. "the rest of the file").
constexpr uint64_t kMaxReserve = 64ull << 20;

constexpr const char* kAuthRequiredCode = "AuthenticationRequired";

http::HeaderList BaseHeaders() { return {{"X-Requested-With", "XMLHttpRequest"}}; }

// Prefixes the message with the operation and the collection path.
Error Annotate(std::string_view op, std::string_view path, Error error) {
  error.message = http::TruncateUtf8(
      std::string(op) + " " + std::string(path) + ": " + error.message, http::kMaxErrorMessage);
  return error;
}

// A 3xx: the server wants a browser login (it ignored X-Requested-With).
Error RedirectError(std::string_view op, std::string_view path, int status) {
  Error e = http::MakeError(
      ErrorKind::kHttp,
      std::string(op) + " " + std::string(path) +
          ": the collection's HTTPS server redirected (HTTP " + std::to_string(status) +
          ") to a login page: the token for its https scope is missing, expired or not "
          "consented; log in again (globusfs-auth login)");
  e.http_status = 401;
  e.code = kAuthRequiredCode;
  return e;
}

Error Malformed(std::string_view op, std::string_view path, const std::string& what, int status) {
  Error e = http::MakeError(ErrorKind::kMalformed,
                            std::string(op) + " " + std::string(path) + ": " + what);
  e.http_status = status;
  return e;
}

std::optional<uint64_t> ParseU64(std::string_view s) {
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "bytes a-b/n" (or "bytes a-b/*": no total), RFC 9110 §14.4.
struct ContentRange {
  uint64_t first = 0;
  uint64_t last = 0;
  std::optional<uint64_t> total;
};

std::optional<ContentRange> ParseContentRange(std::string_view h) {
  if (!h.starts_with("bytes ")) return std::nullopt;
  h.remove_prefix(6);
  const size_t dash = h.find('-');
  const size_t slash = h.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return std::nullopt;
  }
  ContentRange r;
  const auto first = ParseU64(h.substr(0, dash));
  const auto last = ParseU64(h.substr(dash + 1, slash - dash - 1));
  if (!first || !last || *last < *first) return std::nullopt;
  r.first = *first;
  r.last = *last;
  const std::string_view total = h.substr(slash + 1);
  if (total != "*") {
    r.total = ParseU64(total);
    if (!r.total || *r.total <= r.last) return std::nullopt;
  }
  return r;
}

// Receives the body of a ranged GET without knowing yet whether it is the
// 206 (the range itself) or a 200 (the whole file): it keeps both readings,
// each bounded by `length` bytes. Stream bytes [0, length) go to *out (the
// 206 reading); bytes [offset, offset + length) to `window` (the 200
// reading, only needed when offset > 0). More than `length` bytes can only
// be a 200: the 206 reading is dropped, and once the window is full the
// transfer is cut (the sink returns false; done() tells it was on purpose).
class RangeSink {
 public:
  RangeSink(uint64_t offset, uint64_t length, std::string* out)
      : offset_(offset), length_(length), out_(out) {}

  bool Accept(const char* data, size_t n) {
    if (done_) return false;
    const uint64_t end = pos_ + n;
    if (!whole_body_) {
      if (pos_ < length_) {
        out_->append(data, static_cast<size_t>(std::min<uint64_t>(n, length_ - pos_)));
      }
      if (end > length_) {
        whole_body_ = true;
        if (offset_ > 0) std::string().swap(*out_);  // the 206 reading is moot
      }
    }
    if (offset_ > 0) {
      const uint64_t lo = std::max(pos_, offset_);
      const uint64_t hi = std::min(end, offset_ + length_);
      if (lo < hi) window_.append(data + (lo - pos_), static_cast<size_t>(hi - lo));
    }
    pos_ = end;
    if (whole_body_ && pos_ >= offset_ + length_) {
      done_ = true;
      return false;
    }
    return true;
  }

  void Reset() {
    out_->clear();
    window_.clear();
    pos_ = 0;
    whole_body_ = false;
    done_ = false;
  }

  // The transfer was cut on purpose: the 200 reading is complete.
  bool done() const { return done_; }
  // Body bytes received (of the last attempt).
  uint64_t received() const { return pos_; }
  // More bytes than asked for arrived: this was not a 206.
  bool whole_body() const { return whole_body_; }

  // Makes *out the 200 reading.
  void TakeWholeBodyReading() {
    if (offset_ > 0) *out_ = std::move(window_);
    // offset 0: *out already holds stream bytes [0, length).
  }

 private:
  const uint64_t offset_;
  const uint64_t length_;
  std::string* const out_;
  std::string window_;
  uint64_t pos_ = 0;
  bool whole_body_ = false;
  bool done_ = false;
};

// Streams `size` bytes of a local file with pread. Open() is called for the
// first attempt and Rewind() for every retry (each reopens the file, so a
// retry sees the file as it is then). The first local failure is kept in
// error() and aborts the upload.
class LocalFileSource {
 public:
  LocalFileSource(std::string op_path, std::filesystem::path file, uint64_t size)
      : op_path_(std::move(op_path)), file_(std::move(file)), size_(size) {}
  ~LocalFileSource() { Close(); }
  LocalFileSource(const LocalFileSource&) = delete;
  LocalFileSource& operator=(const LocalFileSource&) = delete;

  bool Open() {
    Close();
    offset_ = 0;
    do {
      fd_ = ::open(file_.c_str(), O_RDONLY | O_CLOEXEC);
    } while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) Fail("cannot open the staged file", errno);
    return fd_ >= 0;
  }

  void Rewind() {
    if (!error_) Open();
  }

  size_t Read(char* buffer, size_t capacity) {
    if (error_ || fd_ < 0) return http::HttpRequest::kAbortUpload;
    if (offset_ >= size_) return 0;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(capacity, size_ - offset_));
    ssize_t n;
    do {
      n = ::pread(fd_, buffer, want, static_cast<off_t>(offset_));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      Fail("cannot read the staged file", errno);
      return http::HttpRequest::kAbortUpload;
    }
    if (n == 0) {
      Fail("the staged file ended after " + std::to_string(offset_) + " of the " +
               std::to_string(size_) + " bytes to upload",
           0);
      return http::HttpRequest::kAbortUpload;
    }
    offset_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }

  const std::optional<Error>& error() const { return error_; }

 private:
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void Fail(const std::string& what, int err) {
    std::string message = op_path_ + ": " + what + " '" + file_.string() + "'";
    if (err != 0) message += " (" + std::string(std::strerror(err)) + ")";
    error_ = http::MakeError(ErrorKind::kConfig, message);
  }

  const std::string op_path_;  // "upload <collection path>", for messages
  const std::filesystem::path file_;
  const uint64_t size_;
  int fd_ = -1;
  uint64_t offset_ = 0;
  std::optional<Error> error_;
};

// --- HTTP dates ----------------------------------------------------------------

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {  // H. Hinnant's algorithm
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

int MonthNumber(std::string_view s) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (s == kMonths[i]) return i + 1;
  }
  return 0;
}

std::optional<int> SmallNumber(std::string_view s, size_t min_digits, size_t max_digits) {
  if (s.size() < min_digits || s.size() > max_digits) return std::nullopt;
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

int64_t ParseHttpDate(std::string_view text) {
  // Tokens split on space, ',' and '-': the weekday first, then either
  // "DD Mon YYYY HH:MM:SS GMT" (IMF-fixdate), "DD Mon YY HH:MM:SS GMT"
  // (RFC 850) or "Mon D HH:MM:SS YYYY" (asctime).
  std::vector<std::string_view> t;
  size_t i = 0;
  while (i < text.size()) {
    const size_t j = text.find_first_of(" ,-", i);
    const size_t end = j == std::string_view::npos ? text.size() : j;
    if (end > i) t.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  if (t.size() < 5) return 0;
  std::optional<int> day, year;
  int month = 0;
  std::string_view clock;
  if (SmallNumber(t[1], 1, 2)) {
    if (t.size() != 6 || (t[5] != "GMT" && t[5] != "UTC")) return 0;
    day = SmallNumber(t[1], 1, 2);
    month = MonthNumber(t[2]);
    year = SmallNumber(t[3], 2, 4);
    if (year && t[3].size() == 2) *year += *year < 70 ? 2000 : 1900;
    clock = t[4];
  } else {
    if (t.size() != 5) return 0;
    month = MonthNumber(t[1]);
    day = SmallNumber(t[2], 1, 2);
    clock = t[3];
    year = SmallNumber(t[4], 4, 4);
  }
  if (!day || !year || month == 0 || *year < 1970 || *day < 1 || *day > DaysInMonth(*year, month) ||
      clock.size() != 8 || clock[2] != ':' || clock[5] != ':') {
    return 0;
  }
  const auto hh = SmallNumber(clock.substr(0, 2), 2, 2);
  const auto mm = SmallNumber(clock.substr(3, 2), 2, 2);
  const auto ss = SmallNumber(clock.substr(6, 2), 2, 2);
  if (!hh || !mm || !ss || *hh > 23 || *mm > 59 || *ss > 60) return 0;
  return DaysFromCivil(*year, static_cast<unsigned>(month), static_cast<unsigned>(*day)) * 86400 +
         *hh * 3600 + *mm * 60 + *ss;
}

DataClient::DataClient(http::HttpClient& http, AuthorizerFor authorizer_for,
                       DataClientOptions options)
    : http_(http), authorizer_for_(std::move(authorizer_for)), options_(options) {}

std::string DataClient::FileUrl(const DataTarget& target, std::string_view path) {
  std::string url = target.https_server;
  if (!path.starts_with('/')) url += '/';
  size_t i = 0;
  while (i <= path.size()) {
    const size_t slash = path.find('/', i);
    const size_t end = slash == std::string_view::npos ? path.size() : slash;
    url += http::UrlEncodeComponent(path.substr(i, end - i));
    if (slash == std::string_view::npos) break;
    url += '/';
    i = slash + 1;
  }
  return url;
}

http::Result<void> DataClient::ReadRange(const DataTarget& target, const std::string& path,
                                         uint64_t offset, uint64_t length, std::string* out) {
  constexpr std::string_view kOp = "read";
  out->clear();
  if (auto bad = CheckPath(path)) return Annotate(kOp, path, std::move(*bad));
  length = std::min(length, std::numeric_limits<uint64_t>::max() - offset);  // last byte fits
  if (length == 0) return {};
  out->reserve(static_cast<size_t>(std::min(length, kMaxReserve)));

  RangeSink sink(offset, length, out);
  http::HttpRequest request;
  request.method = "GET";
  request.url = FileUrl(target, path);
  request.headers = BaseHeaders();
  if (options_.send_range) {
    request.headers.emplace_back(
        "Range", "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
  }
  request.body_sink = [&sink](const char* data, size_t n) { return sink.Accept(data, n); };
  request.reset_sink = [&sink] { sink.Reset(); };

  http::Result<http::HttpResponse> response =
      http_.Send(request, authorizer_for_ ? authorizer_for_(target.collection_id) : nullptr);
  if (!response) {
    const Error& e = response.error();
    if (e.kind == ErrorKind::kCancelled && sink.done()) {  // a 200, cut once we had the range
      sink.TakeWholeBodyReading();
      return {};
    }
    if (e.kind == ErrorKind::kHttp && e.http_status == 416) {  // the range starts past the end
      out->clear();
      return {};
    }
    out->clear();
    return Annotate(kOp, path, std::move(response).error());
  }
  const int status = response->status;
  if (status == 206) {
    // The bytes must be exactly the range Content-Range names, and that
    // range must be the one asked for (or its head, cut at the end of the
    // file as the total says). Anything else is a garbled answer: never
    // handed to the reader, never cached.
    const std::string header = response->Header("content-range").value_or("");
    const auto range = ParseContentRange(header);
    const uint64_t last_asked = offset + length - 1;
    std::string problem;
    if (!range || range->first != offset || range->last > last_asked) {
      problem = "does not hold the range asked for";
    } else if (range->last < last_asked && (!range->total || *range->total != range->last + 1)) {
      problem = "holds less than the range asked for, and not up to the end of the file";
    } else if (sink.whole_body() || sink.received() != range->last - range->first + 1) {
      problem = "has " + std::to_string(sink.received()) + " bytes, not the " +
                std::to_string(range->last - range->first + 1) + " its Content-Range names";
    }
    if (!problem.empty()) {
      out->clear();
      return Malformed(kOp, path,
                       "the 206 answer " + problem + " (bytes=" + std::to_string(offset) + "-" +
                           std::to_string(last_asked) + ", Content-Range '" +
                           http::TruncateUtf8(header, 80) + "')",
                       status);
    }
    return {};
  }
  if (status == 200) {  // the server ignored Range (or none was sent): the whole file
    // The whole body arrived (the transfer was not cut): it is the file, so
    // its length must be the file's size the answer states.
    const auto declared = ParseU64(response->Header("content-length").value_or(""));
    if (declared && *declared != sink.received()) {
      out->clear();
      return Malformed(kOp, path,
                       "the 200 answer has " + std::to_string(sink.received()) +
                           " bytes, but its Content-Length is " + std::to_string(*declared),
                       status);
    }
    sink.TakeWholeBodyReading();
    return {};
  }
  out->clear();
  if (status >= 300 && status < 400) return RedirectError(kOp, path, status);
  return Malformed(kOp, path, "unexpected HTTP " + std::to_string(status) + " answer to a GET",
                   status);
}

http::Result<DataObjectInfo> DataClient::Head(const DataTarget& target, const std::string& path) {
  constexpr std::string_view kOp = "head";
  if (auto bad = CheckPath(path)) return Annotate(kOp, path, std::move(*bad));
  http::HttpRequest request;
  request.method = "HEAD";
  request.url = FileUrl(target, path);
  request.headers = BaseHeaders();
  http::Result<http::HttpResponse> response =
      http_.Send(request, authorizer_for_ ? authorizer_for_(target.collection_id) : nullptr);
  if (!response) return Annotate(kOp, path, std::move(response).error());
  const int status = response->status;
  if (status >= 300 && status < 400) return RedirectError(kOp, path, status);
  if (status < 200 || status >= 300) {
    return Malformed(kOp, path, "unexpected HTTP " + std::to_string(status) + " answer to a HEAD",
                     status);
  }
  const auto length = ParseU64(response->Header("content-length").value_or(""));
  if (!length) return Malformed(kOp, path, "the answer has no usable Content-Length", status);
  DataObjectInfo info;
  info.size = *length;
  info.mtime = ParseHttpDate(response->Header("last-modified").value_or(""));
  return info;
}

http::Result<void> DataClient::Upload(const DataTarget& target, const std::string& path,
                                      const std::filesystem::path& local_file, uint64_t size) {
  constexpr std::string_view kOp = "upload";
  if (auto bad = CheckPath(path)) return Annotate(kOp, path, std::move(*bad));
  if (size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return http::MakeError(ErrorKind::kConfig, std::string(kOp) + " " + path + ": size too large");
  }
  LocalFileSource source(std::string(kOp) + " " + path, local_file, size);
  if (!source.Open()) return *source.error();

  http::HttpRequest request;
  request.method = "PUT";
  request.url = FileUrl(target, path);
  request.headers = BaseHeaders();
  request.headers.emplace_back("Content-Type", "application/octet-stream");
  request.body_source = [&source](char* buffer, size_t capacity) {
    return source.Read(buffer, capacity);
  };
  request.body_size = static_cast<int64_t>(size);
  request.rewind_source = [&source] { source.Rewind(); };

  http::Result<http::HttpResponse> response =
      http_.Send(request, authorizer_for_ ? authorizer_for_(target.collection_id) : nullptr);
  if (source.error()) return *source.error();  // a local failure aborted the upload
  if (!response) return Annotate(kOp, path, std::move(response).error());
  const int status = response->status;
  if (status >= 200 && status < 300) return {};
  if (status >= 300 && status < 400) return RedirectError(kOp, path, status);
  return Malformed(kOp, path, "unexpected HTTP " + std::to_string(status) + " answer to a PUT",
                   status);
}

}  // namespace globusfs::fs
