// A small HTTP/1.1 server over TLS (OpenSSL) for globus-emulator.
//
// Why not a library: the emulator must misbehave on purpose (drop a
// connection before any byte, cut a body short, send it slowly), which needs
// the socket in hand. This server gives handlers exactly that control
// through Response's fault fields and nothing more.
//
// Model: one accept thread; one thread per connection (keep-alive, HTTP/1.1
// persistent connections, Content-Length or chunked request bodies). Request
// bodies are read lazily: a handler either streams them (BodyReader) or
// calls Request::ReadAllBody(); whatever is left is drained after the reply.
//
// Thread-safety: Handler is called concurrently from connection threads.
// Stop() may be called from any thread (also from a signal-watching thread);
// it closes the listener, shuts down every open connection and joins them.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace emu {

// Case-insensitive header map (names are stored lower-cased).
class Headers {
 public:
  void Set(std::string name, std::string value);
  void Add(std::string name, std::string value);
  std::optional<std::string> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  const std::multimap<std::string, std::string>& All() const { return map_; }

 private:
  std::multimap<std::string, std::string> map_;
};

class Connection;

struct Request {
  std::string method;
  std::string target;    // as sent: path plus query, still percent-encoded
  std::string raw_path;  // target before '?', still percent-encoded
  std::string path;      // raw_path percent-decoded
  std::multimap<std::string, std::string> query;  // decoded; '+' means space
  Headers headers;
  std::string remote_addr;

  std::optional<std::string> QueryParam(const std::string& name) const;

  // Request body. Content-Length or chunked; -1 means chunked/unknown.
  int64_t content_length = 0;
  // Reads up to n bytes of the body; 0 at its end, -1 on a broken connection.
  int64_t ReadBody(char* buf, size_t n);
  // Reads the whole body (refuses bodies over max_bytes: returns nullopt).
  std::optional<std::string> ReadAllBody(size_t max_bytes = 16 << 20);
  // Bytes of body consumed so far.
  uint64_t body_bytes_read() const { return body_read_; }

 private:
  friend class Connection;
  friend class HttpServer;
  Connection* conn_ = nullptr;
  bool chunked_ = false;
  bool body_done_ = false;
  uint64_t body_read_ = 0;
  uint64_t chunk_left_ = 0;
  bool broken_ = false;
};

// A file region to send as the body (the server opens the file itself).
struct FileBody {
  std::string path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;                 // used unless file is set
  std::optional<FileBody> file;     // body read from disk, in chunks
  bool head_only = false;           // HEAD: headers (with Content-Length), no body

  // Fault hooks (see docs/emulator.md):
  bool drop = false;                      // close the connection, write nothing
  std::optional<uint64_t> truncate_at;    // send headers + this many body bytes, then close
  uint32_t body_chunk_delay_ms = 0;       // sleep between 16 KiB body chunks ("slow body")
  bool close_after = false;               // send "Connection: close" and close afterwards

  static Response Json(int status, const std::string& json_text);
  static Response Text(int status, std::string text, std::string content_type = "text/plain");
};

// Called once per request; must not throw (exceptions are turned into 500).
using Handler = std::function<Response(Request&)>;
// Told how many body bytes went out for each response (for statistics).
using SentObserver = std::function<void(const Request&, uint64_t body_bytes)>;

struct TlsIdentity {
  std::string cert_pem;  // server certificate (followed by any chain)
  std::string key_pem;   // its private key
};

class HttpServer {
 public:
  HttpServer(Handler handler, SentObserver observer);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds 127.0.0.1:port (0 = a free port) and starts serving. Returns the
  // bound port; throws std::runtime_error with a clear message on failure.
  uint16_t Start(uint16_t port, const TlsIdentity& tls);
  // Idempotent. Closes the listener and every connection, joins threads.
  void Stop();

 private:
  friend class Connection;
  void AcceptLoop();
  void Serve(int fd, std::string remote);

  Handler handler_;
  SentObserver observer_;
  SSL_CTX* ctx_ = nullptr;
  int listen_fd_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mu_;  // guards open_fds_, live_
  std::condition_variable idle_cv_;
  std::set<int> open_fds_;
  int live_ = 0;  // connection threads still running (they are detached)
};

// Parses "a=1&b=x+y" (query strings and form bodies; '+' means space).
std::multimap<std::string, std::string> ParseUrlEncoded(std::string_view text);

// Percent-decoding (no '+' handling) and -encoding of one path segment.
std::string PercentDecode(std::string_view s, bool plus_is_space = false);
std::string PercentEncode(std::string_view s, bool keep_slash = false);

}  // namespace emu
