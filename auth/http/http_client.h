// HttpClient: the one libcurl-based HTTPS client every globusfs component
// uses (Auth, Transfer, GCS data).
//
// Contract of Send:
//   - status < 400 is success and is returned as is; redirects are never
//     followed (a 3xx is returned to the caller). Only https:// URLs work.
//   - transport failures and 429/5xx are retried per RetryPolicy, sleeping
//     on the injected Clock; the final failure is returned as an Error
//     (kNetwork, kTimeout, kTls, or kHttp parsed by ParseErrorDocument),
//     with Error::resent_after_transport_failure set when an earlier
//     attempt got no complete answer (the request may have taken effect).
//   - on 401 with an Authorizer, HandleUnauthorized() is called at most once
//     per Send; if it returns true the request is re-sent at once (this does
//     not count as a backoff retry).
//   - TLS peer and host verification are always on.
//   - timeout_s bounds connecting and any stall (< 1 byte/s for that long);
//     there is no total timeout, so large transfers work.
//   - Error messages name the method, host and path only: never a query
//     string, a header value, or a response body beyond the parsed Globus
//     error message.
//
// Thread-safety: Send and the JSON helpers may be called from many threads
// at once. Easy handles come from a mutex-protected free list (keep-alive
// connections are reused); DNS and TLS sessions are shared via a CURLSH.
// No lock is held during network I/O, sleeps or Authorizer calls.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "auth/http/clock.h"
#include "auth/http/config.h"
#include "auth/http/curl.h"
#include "auth/http/result.h"
#include "auth/http/retry_policy.h"
#include "auth/http/url.h"

namespace globusfs::http {

struct HttpRequest {
  // What body_source returns to abort the upload (the Send fails with kCancelled).
  static constexpr size_t kAbortUpload = CURL_READFUNC_ABORT;

  std::string method = "GET";
  std::string url;  // must be https://
  // With an Authorizer, its header replaces any Authorization given here.
  HeaderList headers;
  // Small in-memory body (sent as is; set Content-Type in headers).
  std::string body;
  // Streaming upload: called with a buffer, returns bytes written, 0 at end,
  // kAbortUpload to abort. body_size is the total length, or -1 (chunked).
  std::function<size_t(char*, size_t)> body_source;
  int64_t body_size = -1;
  // Called before a retry of a streamed upload; without it a streamed
  // upload that has already read bytes is not retried.
  std::function<void()> rewind_source;
  // Streaming download of a 2xx body: false aborts (kCancelled). Bodies of
  // other statuses are kept (bounded) in HttpResponse::body / the Error.
  std::function<bool(const char*, size_t)> body_sink;
  // Called before a retry so the sink can discard partial data; without it
  // a download that has already delivered bytes is not retried.
  std::function<void()> reset_sink;
  bool retry = true;  // apply the RetryPolicy
};

struct HttpResponse {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // names lower-cased
  std::string body;                                 // empty when body_sink consumed it

  // First value of header `name` (any case), or nullopt.
  std::optional<std::string> Header(std::string_view name) const;
};

// Supplies credentials for a request. Implemented by the token store.
// Called without any HttpClient lock held; may itself call HttpClient::Send.
class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // The full Authorization header value, e.g. "Bearer <token>". An error
  // aborts the Send with that error.
  virtual Result<std::string> AuthorizationHeader() = 0;
  // Called after a 401: refresh the credentials. true = re-send once.
  virtual bool HandleUnauthorized() = 0;
};

class HttpClient {
 public:
  // A null `clock` means RealClock. If `policy` has no random source, the
  // clock's Random() is used.
  HttpClient(HttpConfig config, std::shared_ptr<Clock> clock, RetryPolicy policy = RetryPolicy());
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Blocks until the request (with retries) is done. See the file comment.
  Result<HttpResponse> Send(const HttpRequest& request, Authorizer* authorizer = nullptr);

  // JSON helpers: send with "Accept: application/json", expect a 2xx, parse
  // the body (empty body = null). A 3xx is a kHttp error; an unparsable
  // body is kMalformed. A `filter` is nlohmann::json's parser callback: it
  // sees each value as it is parsed and may drop it from the document
  // (e.g. to consume the items of a large list one at a time).
  Result<nlohmann::json> SendJson(HttpRequest request, Authorizer* authorizer = nullptr,
                                  const nlohmann::json::parser_callback_t& filter = nullptr);
  Result<nlohmann::json> GetJson(std::string url, Authorizer* authorizer = nullptr,
                                 HeaderList headers = {},
                                 const nlohmann::json::parser_callback_t& filter = nullptr);
  Result<nlohmann::json> PostJson(std::string url, const nlohmann::json& body,
                                  Authorizer* authorizer = nullptr, HeaderList headers = {});
  // POSTs application/x-www-form-urlencoded (e.g. to the OAuth2 token
  // endpoint). `headers` can carry e.g. HTTP Basic client credentials.
  Result<nlohmann::json> PostForm(std::string url, const HeaderList& form,
                                  Authorizer* authorizer = nullptr, HeaderList headers = {});

  const HttpConfig& config() const { return config_; }

  // Shutting down (unmount's drain time is over): requests in flight are
  // aborted, retry sleeps end, and every Send from now on fails at once with
  // kCancelled. Irreversible.
  void CancelAll() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

 private:
  struct Attempt;

  CurlEasy AcquireHandle();
  void ReleaseHandle(CurlEasy handle);
  // One network round trip; fills `attempt`.
  void Perform(const HttpRequest& request, const std::string* authorization, Attempt& attempt);

  const HttpConfig config_;
  const std::shared_ptr<Clock> clock_;
  RetryPolicy policy_;
  CurlShare share_;  // declared before pool_: outlives every pooled handle

  std::atomic<bool> cancelled_{false};
  std::mutex pool_mu_;  // guards free_handles_
  std::vector<CurlEasy> free_handles_;
};

}  // namespace globusfs::http
