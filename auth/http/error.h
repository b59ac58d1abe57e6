// The one error type of globusfs: what failed (kind), and for HTTP errors the
// status, Globus `code`, bounded message, request id and any Globus Auth
// requirements (consents, session policies) the service attached.
//
// Invariants: `message` is at most kMaxErrorMessage bytes and never contains
// request headers, tokens or a raw non-JSON response body. `code` and
// `request_id` are bounded too. `authorization_parameters` is a JSON object
// or null; list-valued session keys in it are always JSON lists.
//
// Thread-safety: plain value type; ParseErrorDocument is a pure function.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace globusfs::http {

enum class ErrorKind {
  kNetwork,    // no HTTP response: connect/resolve/reset/protocol failure
  kTimeout,    // connect timeout or the transfer stalled
  kTls,        // TLS handshake or certificate verification failed
  kHttp,       // the server answered with a status >= 400 (or a redirect where none belongs)
  kMalformed,  // the server answered, but the body is not what was expected
  kConfig,     // bad local configuration or a bad request built by the caller
  kCancelled,  // a caller's callback (body sink/source) aborted the transfer
};

inline constexpr size_t kMaxErrorMessage = 1000;

struct Error {
  ErrorKind kind = ErrorKind::kNetwork;
  int http_status = 0;
  std::string code;        // Globus/OAuth code, e.g. "ClientError.NotFound", "invalid_grant"
  std::string message;     // bounded, may be multi-line
  std::string request_id;  // Globus request id, when the service gave one
  nlohmann::json authorization_parameters;  // object or null
  std::vector<std::string> required_scopes;
  // Set by HttpClient::Send: this error is the answer to a resend that
  // followed a transport failure (a dropped or cut answer, a timeout), so a
  // request that is not idempotent (mkdir, rename) may already have taken
  // effect on the server, and the error may be the consequence of that.
  bool resent_after_transport_failure = false;

  // code == "ConsentRequired" and the service named the scopes to consent to.
  bool IsConsentRequired() const;
  // authorization_parameters holds a non-empty session_required_* value: only
  // an interactive login can fix this error, a token refresh cannot.
  bool HasSessionRequirements() const;
  // One bounded line for logs, e.g.
  // "HTTP 404 NotFound: Path not found (request_id abc)" or "network: ...".
  std::string Summary() const;
};

std::string_view ErrorKindName(ErrorKind kind);

// Builds a non-HTTP error; the message is bounded like every other.
Error MakeError(ErrorKind kind, std::string message);

// Turns an error response body (any Globus format: Transfer "type zero",
// Auth JSON:API-like, OAuth2, GARE) into an Error of kind kHttp. Never fails;
// a body that is not a JSON object gives code "" and a message that only
// states the status and the body size.
Error ParseErrorDocument(int http_status, std::string_view body);

// Cuts `text` to at most `max_bytes` bytes without splitting a UTF-8
// sequence, marking the cut with "...". Exposed for other components.
std::string TruncateUtf8(std::string_view text, size_t max_bytes);

}  // namespace globusfs::http
