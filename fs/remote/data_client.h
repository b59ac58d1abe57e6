// DataClient: the real DataApi, speaking to a collection's HTTPS server
// (GCS v5, globus-api.md §6) over the shared libcurl HttpClient.
//
// What it adds to the HTTP core (which does retries of 429/5xx, dropped
// connections and stalls, and the one 401 refresh):
//   - URLs: https_server + the collection path, each segment percent-encoded
//     ('/' kept); a path that is not valid UTF-8 (or holds NUL) is refused
//     with the kConfig "InvalidName" error before anything is sent.
//   - every request carries "X-Requested-With: XMLHttpRequest", so a missing,
//     expired or wrong-scope token gives 401 + JSON instead of a 302 to a
//     login page. A 3xx anyway (redirects are never followed) becomes a kHttp
//     error with http_status 401 and code "AuthenticationRequired", which
//     Classify maps to kAuthRequired.
//   - ReadRange sends "Range: bytes=a-b" and streams the answer into the
//     caller's string: a 206 must name in Content-Range the range asked for
//     (or its head up to the end of the file, per the total) and carry
//     exactly that many bytes, else kMalformed and nothing is returned; a
//     200 (the server ignored Range) is read up to offset + length and then
//     the transfer is cut, and a 200 read to its end must have as many bytes
//     as its Content-Length; 416 (past the end) is an empty success. Bytes kept
//     in memory are bounded by 2 * length whatever the server sends. A body
//     cut short is retried by the core from the start of the range.
//   - Upload PUTs the local file streamed with pread (constant memory),
//     reopened and re-read from byte 0 for every retry; a local read failure
//     aborts with a kConfig error naming the staged file.
//   - error messages start with the operation and the collection path
//     ("read /~/a b: ..."); they never contain a token or a header value.
//
// Thread-safety: all methods may be called concurrently; the class has no
// mutable state. `authorizer_for` is called from those threads, so it must
// be thread-safe itself (production: a cache of TokenSource::AuthorizerFor).
// The HttpClient and every Authorizer returned must outlive the client.
#pragma once

#include <cstdint>
#include <ctime>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "auth/http/http_client.h"
#include "fs/remote/data_api.h"

namespace globusfs::fs {

struct DataClientOptions {
  // false: never send Range; every read takes the 200 path (the whole body,
  // skipped to the offset and cut after the length). For a server known to
  // mishandle Range, and so that tests can drive the 200 path for real.
  bool send_range = true;
};

class DataClient final : public DataApi {
 public:
  // Returns the Authorizer for a collection's HTTPS server (its token has
  // resource_server == the collection id), or null to send no token (public
  // guest collections).
  using AuthorizerFor = std::function<http::Authorizer*(const std::string& collection_id)>;

  DataClient(http::HttpClient& http, AuthorizerFor authorizer_for, DataClientOptions options = {});

  http::Result<void> ReadRange(const DataTarget& target, const std::string& path, uint64_t offset,
                               uint64_t length, std::string* out) override;
  http::Result<DataObjectInfo> Head(const DataTarget& target, const std::string& path) override;
  http::Result<void> Upload(const DataTarget& target, const std::string& path,
                            const std::filesystem::path& local_file, uint64_t size) override;

  // https_server + the encoded path ("/~/a b/c%.txt" -> ".../~/a%20b/c%25.txt").
  // A path without a leading '/' gets one.
  static std::string FileUrl(const DataTarget& target, std::string_view path);

 private:
  http::HttpClient& http_;
  const AuthorizerFor authorizer_for_;
  const DataClientOptions options_;
};

// An HTTP date (RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and
// asctime forms) as seconds since the epoch; 0 when unreadable.
int64_t ParseHttpDate(std::string_view text);

}  // namespace globusfs::fs
