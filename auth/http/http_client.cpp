#include "auth/http/http_client.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <utility>

namespace globusfs::http {
namespace {

// Bodies not streamed to a sink (errors, redirects) are kept up to this size.
constexpr size_t kMaxKeptBody = 1 << 20;
constexpr size_t kMaxPooledHandles = 32;

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view TrimHeaderSpace(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 9110 token characters (method and header names).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return std::isalnum(c) ||
           std::string_view("!#$%&'*+-.^_`|~").find(ch) != std::string_view::npos;
  });
}

bool IsSafeHeaderValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool IsCertificateTrustError(CURLcode code) {
  return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_ISSUER_ERROR ||
         code == CURLE_SSL_PINNEDPUBKEYNOTMATCH || code == CURLE_SSL_INVALIDCERTSTATUS;
}

bool IsTlsError(CURLcode code) {
  return IsCertificateTrustError(code) || code == CURLE_SSL_CONNECT_ERROR ||
         code == CURLE_SSL_ENGINE_NOTFOUND || code == CURLE_SSL_ENGINE_SETFAILED ||
         code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CIPHER ||
         code == CURLE_SSL_ENGINE_INITFAILED || code == CURLE_SSL_SHUTDOWN_FAILED ||
         code == CURLE_SSL_CLIENTCERT || code == CURLE_USE_SSL_FAILED ||
         code == CURLE_SSL_CACERT_BADFILE || code == CURLE_SSL_CRL_BADFILE;
}

}  // namespace

std::optional<std::string> HttpResponse::Header(std::string_view name) const {
  const auto it = headers.find(Lower(name));
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

// The state of one network round trip, shared with the curl callbacks.
struct HttpClient::Attempt {
  explicit Attempt(const HttpRequest& req) : request(req) { errbuf[0] = '\0'; }

  const HttpRequest& request;
  std::optional<Error> local_error;  // the request could not be sent at all
  CURLcode curl_code = CURLE_OK;
  char errbuf[CURL_ERROR_SIZE];
  int status = 0;
  std::multimap<std::string, std::string> headers;
  std::string body;
  uint64_t sink_bytes = 0;    // delivered to request.body_sink
  uint64_t source_bytes = 0;  // read from request.body_source
  bool sink_aborted = false;
  bool source_aborted = false;

  bool IsSuccessBody() const { return status >= 200 && status < 300; }

  static size_t OnHeader(char* data, size_t size, size_t count, void* userdata) {
    auto& self = *static_cast<Attempt*>(userdata);
    const size_t total = size * count;
    const std::string_view line = TrimHeaderSpace(std::string_view(data, total));
    if (line.starts_with("HTTP/")) {
      // A new response (after a 1xx): forget the previous one's headers.
      self.headers.clear();
      const size_t space = line.find(' ');
      int status = 0;
      if (space != std::string_view::npos) {
        const std::string_view digits = line.substr(space + 1, 3);
        std::from_chars(digits.data(), digits.data() + digits.size(), status);
      }
      self.status = status;
    } else if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
      self.headers.emplace(Lower(TrimHeaderSpace(line.substr(0, colon))),
                           std::string(TrimHeaderSpace(line.substr(colon + 1))));
    }
    return total;
  }

  static size_t OnWrite(char* data, size_t size, size_t count, void* userdata) {
    auto& self = *static_cast<Attempt*>(userdata);
    const size_t total = size * count;
    if (self.IsSuccessBody() && self.request.body_sink) {
      if (!self.request.body_sink(data, total)) {
        self.sink_aborted = true;
        return 0;  // makes curl fail with CURLE_WRITE_ERROR
      }
      self.sink_bytes += total;
    } else if (self.IsSuccessBody()) {
      self.body.append(data, total);
    } else if (self.body.size() < kMaxKeptBody) {
      self.body.append(data, std::min(total, kMaxKeptBody - self.body.size()));
    }
    return total;
  }

  static size_t OnRead(char* buffer, size_t size, size_t count, void* userdata) {
    auto& self = *static_cast<Attempt*>(userdata);
    const size_t capacity = size * count;
    const size_t n = self.request.body_source(buffer, capacity);
    if (n == HttpRequest::kAbortUpload || n > capacity) {
      self.source_aborted = true;
      return CURL_READFUNC_ABORT;
    }
    self.source_bytes += n;
    return n;
  }

  // curl asks to rewind an upload when it re-sends on a fresh connection.
  static int OnSeek(void* userdata, curl_off_t offset, int origin) {
    auto& self = *static_cast<Attempt*>(userdata);
    if (offset != 0 || origin != SEEK_SET || !self.request.rewind_source) {
      return CURL_SEEKFUNC_CANTSEEK;
    }
    self.request.rewind_source();
    self.source_bytes = 0;
    return CURL_SEEKFUNC_OK;
  }
};

namespace {

Error TransportError(const HttpConfig& config, const HttpRequest& request, CURLcode code,
                     const char* errbuf, bool sink_aborted, bool source_aborted) {
  const std::string where = request.method + " " + RedactUrl(request.url) + ": ";
  const std::string detail = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code);
  if (sink_aborted) return MakeError(ErrorKind::kCancelled, where + "download aborted by receiver");
  if (source_aborted || code == CURLE_ABORTED_BY_CALLBACK) {
    return MakeError(ErrorKind::kCancelled, where + "upload aborted by sender");
  }
  if (code == CURLE_OPERATION_TIMEDOUT) {
    return MakeError(ErrorKind::kTimeout, where + "timed out (" + detail + ")");
  }
  if (code == CURLE_SSL_CACERT_BADFILE) {
    return MakeError(ErrorKind::kConfig, where + "could not load the CA bundle \"" +
                                             config.ca_file +
                                             "\" named by GLOBUS_SDK_VERIFY_SSL (" + detail + ")");
  }
  if (IsCertificateTrustError(code)) {
    return MakeError(ErrorKind::kTls,
                     where + "the server's TLS certificate was not trusted (" + detail +
                         "). If this server uses a private CA, set GLOBUS_SDK_VERIFY_SSL to "
                         "the path of a CA bundle file that contains it");
  }
  if (IsTlsError(code)) {
    return MakeError(ErrorKind::kTls,
                     where + "TLS connection failed (" + detail +
                         "); check the URL, and if the server's certificate is not trusted "
                         "set GLOBUS_SDK_VERIFY_SSL to a CA bundle file");
  }
  // For an https:// URL, "unsupported protocol" means the server answered
  // with something that is not HTTP (e.g. a stray body read as HTTP/0.9 on
  // a reused connection): a transport failure worth retrying, not a config.
  bool https = request.url.rfind("https://", 0) == 0;
  if (code == CURLE_URL_MALFORMAT || (code == CURLE_UNSUPPORTED_PROTOCOL && !https)) {
    return MakeError(ErrorKind::kConfig, where + "not a valid https URL (" + detail + ")");
  }
  return MakeError(ErrorKind::kNetwork, where + detail);
}

int OnProgress(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<const std::atomic<bool>*>(cancelled)->load() ? 1 : 0;
}

// Whether a failed attempt may be sent again, given what it consumed.
bool CanResend(const HttpRequest& request, uint64_t source_bytes, uint64_t sink_bytes) {
  if (request.body_source && source_bytes > 0 && !request.rewind_source) return false;
  if (request.body_sink && sink_bytes > 0 && !request.reset_sink) return false;
  return true;
}

void PrepareResend(const HttpRequest& request) {
  if (request.body_source && request.rewind_source) request.rewind_source();
  if (request.body_sink && request.reset_sink) request.reset_sink();
}

}  // namespace

HttpClient::HttpClient(HttpConfig config, std::shared_ptr<Clock> clock, RetryPolicy policy)
    : config_(std::move(config)),
      clock_(clock ? std::move(clock) : std::make_shared<RealClock>()),
      policy_(std::move(policy)),
      share_(CurlShare::Create()) {
  if (!policy_.has_random()) policy_.set_random([clock = clock_] { return clock->Random(); });
}

HttpClient::~HttpClient() = default;

CurlEasy HttpClient::AcquireHandle() {
  {
    std::lock_guard lock(pool_mu_);
    if (!free_handles_.empty()) {
      CurlEasy handle = std::move(free_handles_.back());
      free_handles_.pop_back();
      return handle;
    }
  }
  return CurlEasy::Create();
}

void HttpClient::ReleaseHandle(CurlEasy handle) {
  if (!handle) return;
  // Clears options (callbacks, pointers into the finished request) but keeps
  // live connections and caches.
  curl_easy_reset(handle.get());
  std::lock_guard lock(pool_mu_);
  if (free_handles_.size() < kMaxPooledHandles) free_handles_.push_back(std::move(handle));
}

void HttpClient::Perform(const HttpRequest& request, const std::string* authorization,
                         Attempt& attempt) {
  const std::string where = request.method + " " + RedactUrl(request.url);
  if (!IsToken(request.method)) {
    attempt.local_error = MakeError(ErrorKind::kConfig, "invalid HTTP method for " + where);
    return;
  }
  CurlSlist header_list;
  bool has_expect = false;
  bool has_content_type = false;
  bool ok = true;
  for (const auto& [name, value] : request.headers) {
    if (!IsToken(name) || !IsSafeHeaderValue(value)) {
      attempt.local_error = MakeError(ErrorKind::kConfig, "invalid request header for " + where);
      return;
    }
    const std::string lower = Lower(name);
    if (authorization != nullptr && lower == "authorization") continue;
    if (lower == "expect") has_expect = true;
    if (lower == "content-type") has_content_type = true;
    // curl drops "Name:" lines; "Name;" sends an empty value.
    ok = ok && header_list.Append((value.empty() ? name + ";" : name + ": " + value).c_str());
  }
  // Never wait for "100 Continue": bodies are small or streamed anyway.
  if (!has_expect) ok = ok && header_list.Append("Expect:");
  // No invented Content-Type (curl would send a form type with a body).
  if (!has_content_type) ok = ok && header_list.Append("Content-Type:");
  if (authorization != nullptr) {
    if (!IsSafeHeaderValue(*authorization)) {
      attempt.local_error =
          MakeError(ErrorKind::kConfig, "authorizer returned an invalid header for " + where);
      return;
    }
    ok = ok && header_list.Append(("Authorization: " + *authorization).c_str());
  }
  CurlEasy easy = AcquireHandle();
  if (!ok || !easy) {
    attempt.local_error = MakeError(ErrorKind::kNetwork, where + ": out of memory in libcurl");
    return;
  }
  CURL* h = easy.get();

  // The security-relevant options must take effect, or nothing is sent.
  const bool secured = curl_easy_setopt(h, CURLOPT_URL, request.url.c_str()) == CURLE_OK &&
                       curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
                       curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
                       curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
                       curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
                       (config_.ca_file.empty() ||
                        curl_easy_setopt(h, CURLOPT_CAINFO, config_.ca_file.c_str()) == CURLE_OK);
  if (!secured) {
    attempt.local_error =
        MakeError(ErrorKind::kConfig, where + ": libcurl refused the TLS/URL options");
    ReleaseHandle(std::move(easy));
    return;
  }
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  if (share_) curl_easy_setopt(h, CURLOPT_SHARE, share_.get());
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, attempt.errbuf);
  curl_easy_setopt(h, CURLOPT_USERAGENT, config_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());
  if (config_.timeout_s) {
    // At most ~31 years: beyond, the conversions to long below are undefined.
    const double seconds = std::clamp(*config_.timeout_s, 0.001, 1e9);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::ceil(seconds * 1000)));
    // A stall timeout, like a read timeout: < 1 byte/s for `seconds` aborts.
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, static_cast<long>(std::ceil(seconds)));
  }
  // Aborts a transfer in flight once CancelAll() was called.
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &OnProgress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &cancelled_);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Attempt::OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &attempt);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Attempt::OnWrite);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &attempt);

  const std::string& method = request.method;
  if (request.body_source) {
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, &Attempt::OnRead);
    curl_easy_setopt(h, CURLOPT_READDATA, &attempt);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, &Attempt::OnSeek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &attempt);
    if (request.body_size >= 0) {
      curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_size));
    }
    if (method != "PUT") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  } else if (method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (request.body.empty() && method != "POST" && method != "PUT" && method != "PATCH") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    if (method != "GET") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  } else {
    // A body (possibly empty, so that Content-Length: 0 is sent).
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    if (method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  attempt.curl_code = curl_easy_perform(h);
  if (attempt.curl_code == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    attempt.status = static_cast<int>(status);
  }
  ReleaseHandle(std::move(easy));
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request, Authorizer* authorizer) {
  bool unauthorized_handled = false;
  int retries = 0;
  bool resent_after_transport_failure = false;
  while (true) {
    if (cancelled_.load()) {
      return MakeError(ErrorKind::kCancelled,
                       request.method + " " + RedactUrl(request.url) + ": cancelled (shutting down)");
    }
    std::optional<std::string> authorization;
    if (authorizer != nullptr) {
      Result<std::string> header = authorizer->AuthorizationHeader();
      if (!header) return std::move(header).error();
      authorization = std::move(header).value();
    }

    Attempt attempt(request);
    Perform(request, authorization ? &*authorization : nullptr, attempt);
    authorization.reset();
    if (attempt.local_error) return std::move(*attempt.local_error);

    if (cancelled_.load() && attempt.curl_code != CURLE_OK) {
      return MakeError(ErrorKind::kCancelled,
                       request.method + " " + RedactUrl(request.url) + ": cancelled (shutting down)");
    }
    const bool got_response = attempt.curl_code == CURLE_OK;
    if (got_response && attempt.status < 400) {
      return HttpResponse{attempt.status, std::move(attempt.headers), std::move(attempt.body)};
    }

    if (got_response && attempt.status == 401 && authorizer != nullptr && !unauthorized_handled) {
      unauthorized_handled = true;
      if (authorizer->HandleUnauthorized() &&
          CanResend(request, attempt.source_bytes, attempt.sink_bytes)) {
        PrepareResend(request);
        continue;
      }
    }

    RetryPolicy::Outcome outcome;
    Error error;
    if (got_response) {
      error = ParseErrorDocument(attempt.status, attempt.body);
      outcome.http_status = attempt.status;
      outcome.code = error.code;
      const auto retry_after = attempt.headers.find("retry-after");
      if (retry_after != attempt.headers.end()) outcome.retry_after = retry_after->second;
    } else {
      error = TransportError(config_, request, attempt.curl_code, attempt.errbuf,
                             attempt.sink_aborted, attempt.source_aborted);
      outcome.transport_error = error.kind;
    }
    error.resent_after_transport_failure = resent_after_transport_failure;
    if (!request.retry) return error;
    const auto delay = policy_.Decide(retries, outcome);
    if (!delay || !CanResend(request, attempt.source_bytes, attempt.sink_bytes)) return error;
    clock_->SleepUnless(*delay, cancelled_);
    ++retries;
    resent_after_transport_failure = resent_after_transport_failure || !got_response;
    PrepareResend(request);
  }
}

Result<nlohmann::json> HttpClient::SendJson(HttpRequest request, Authorizer* authorizer,
                                            const nlohmann::json::parser_callback_t& filter) {
  const bool has_accept = std::any_of(request.headers.begin(), request.headers.end(),
                                      [](const auto& h) { return Lower(h.first) == "accept"; });
  if (!has_accept) request.headers.emplace_back("Accept", "application/json");
  Result<HttpResponse> response = Send(request, authorizer);
  if (!response) return std::move(response).error();
  const std::string where = request.method + " " + RedactUrl(request.url);
  if (response->status >= 300) {
    Error error = MakeError(ErrorKind::kHttp, "unexpected redirect from " + where);
    error.http_status = response->status;
    return error;
  }
  if (TrimHeaderSpace(response->body).empty()) return nlohmann::json(nullptr);
  nlohmann::json doc = nlohmann::json::parse(response->body, filter, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    Error error = MakeError(ErrorKind::kMalformed,
                            "malformed JSON in the HTTP " + std::to_string(response->status) +
                                " response to " + where + " (" +
                                std::to_string(response->body.size()) + " bytes)");
    error.http_status = response->status;
    return error;
  }
  return doc;
}

Result<nlohmann::json> HttpClient::GetJson(std::string url, Authorizer* authorizer,
                                           HeaderList headers,
                                           const nlohmann::json::parser_callback_t& filter) {
  HttpRequest request;
  request.method = "GET";
  request.url = std::move(url);
  request.headers = std::move(headers);
  return SendJson(std::move(request), authorizer, filter);
}

Result<nlohmann::json> HttpClient::PostJson(std::string url, const nlohmann::json& body,
                                            Authorizer* authorizer, HeaderList headers) {
  HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.headers.emplace_back("Content-Type", "application/json");
  // Invalid UTF-8 in a string is replaced rather than thrown.
  request.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return SendJson(std::move(request), authorizer);
}

Result<nlohmann::json> HttpClient::PostForm(std::string url, const HeaderList& form,
                                            Authorizer* authorizer, HeaderList headers) {
  HttpRequest request;
  request.method = "POST";
  request.url = std::move(url);
  request.headers = std::move(headers);
  request.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  request.body = FormEncode(form);
  return SendJson(std::move(request), authorizer);
}

}  // namespace globusfs::http
