#include "http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace emu {
namespace {

constexpr size_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kIoChunk = 64 * 1024;
constexpr size_t kSlowChunk = 16 * 1024;
constexpr int kIdleTimeoutSec = 60;

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && (s[b] == ' ' || s[b] == '\t')) ++b;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r')) --e;
  return std::string(s.substr(b, e - b));
}

const char* Reason(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 416: return "Range Not Satisfiable";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
  }
}

void ParseQuery(std::string_view q, std::multimap<std::string, std::string>& out) {
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string k = PercentDecode(part.substr(0, eq), true);
      std::string v = eq == std::string_view::npos ? "" : PercentDecode(part.substr(eq + 1), true);
      out.emplace(std::move(k), std::move(v));
    }
    if (amp == std::string_view::npos) break;
    q.remove_prefix(amp + 1);
  }
}

}  // namespace

std::multimap<std::string, std::string> ParseUrlEncoded(std::string_view text) {
  std::multimap<std::string, std::string> out;
  ParseQuery(text, out);
  return out;
}

// ---------------------------------------------------------------- Headers

void Headers::Set(std::string name, std::string value) {
  name = Lower(std::move(name));
  map_.erase(name);
  map_.emplace(std::move(name), std::move(value));
}

void Headers::Add(std::string name, std::string value) {
  map_.emplace(Lower(std::move(name)), std::move(value));
}

std::optional<std::string> Headers::Get(std::string_view name) const {
  auto it = map_.find(Lower(std::string(name)));
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> Request::QueryParam(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

Response Response::Json(int status, const std::string& json_text) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = json_text;
  return r;
}

Response Response::Text(int status, std::string text, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", std::move(content_type));
  r.body = std::move(text);
  return r;
}

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

std::string PercentEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// ---------------------------------------------------------------- Connection

// One accepted TLS connection; lives on its own thread.
class Connection {
 public:
  Connection(SSL* ssl, int fd) : ssl_(ssl), fd_(fd) {}
  ~Connection() { SSL_free(ssl_); }

  // Raw reads from the TLS stream through a small buffer.
  int64_t ReadSome(char* buf, size_t n) {
    if (pos_ < len_) {
      size_t k = std::min(n, len_ - pos_);
      std::memcpy(buf, rbuf_ + pos_, k);
      pos_ += k;
      return static_cast<int64_t>(k);
    }
    int r = SSL_read(ssl_, buf, static_cast<int>(std::min<size_t>(n, 1 << 30)));
    if (r <= 0) return SSL_get_error(ssl_, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
    return r;
  }

  bool Fill() {
    if (pos_ < len_) return true;
    int r = SSL_read(ssl_, rbuf_, sizeof(rbuf_));
    if (r <= 0) return false;
    pos_ = 0;
    len_ = static_cast<size_t>(r);
    return true;
  }

  // Reads one CRLF-terminated line (without the CRLF). False on EOF/error/overlong.
  bool ReadLine(std::string& line, size_t max = kMaxHeaderBytes) {
    line.clear();
    for (;;) {
      if (!Fill()) return false;
      char* start = rbuf_ + pos_;
      char* nl = static_cast<char*>(std::memchr(start, '\n', len_ - pos_));
      size_t take = nl ? static_cast<size_t>(nl - start) + 1 : len_ - pos_;
      line.append(start, take);
      pos_ += take;
      if (nl) {
        line.pop_back();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
      }
      if (line.size() > max) return false;
    }
  }

  bool WriteAll(const char* data, size_t n) {
    while (n > 0) {
      int w = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(n, 1 << 30)));
      if (w <= 0) return false;
      data += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  bool WriteAll(const std::string& s) { return WriteAll(s.data(), s.size()); }

  void Hangup() {
    // A deliberate drop: no close_notify, the peer sees the TCP connection end.
    ::shutdown(fd_, SHUT_RDWR);
  }

  bool continue_pending = false;  // client sent Expect: 100-continue, not yet answered

 private:
  SSL* ssl_;
  int fd_;
  char rbuf_[16 * 1024];
  size_t pos_ = 0, len_ = 0;
};

int64_t Request::ReadBody(char* buf, size_t n) {
  if (body_done_ || broken_ || n == 0) return 0;
  if (conn_->continue_pending) {
    conn_->continue_pending = false;
    if (!conn_->WriteAll("HTTP/1.1 100 Continue\r\n\r\n")) {
      broken_ = true;
      return -1;
    }
  }
  if (!chunked_) {
    uint64_t left = static_cast<uint64_t>(content_length) - body_read_;
    if (left == 0) {
      body_done_ = true;
      return 0;
    }
    int64_t r = conn_->ReadSome(buf, std::min<uint64_t>(n, left));
    if (r <= 0) {
      broken_ = true;
      return -1;
    }
    body_read_ += static_cast<uint64_t>(r);
    if (body_read_ == static_cast<uint64_t>(content_length)) body_done_ = true;
    return r;
  }
  // chunked
  if (chunk_left_ == 0) {
    std::string line;
    if (!conn_->ReadLine(line, 1024)) {
      broken_ = true;
      return -1;
    }
    chunk_left_ = std::strtoull(line.c_str(), nullptr, 16);
    if (chunk_left_ == 0) {
      // trailers until an empty line
      do {
        if (!conn_->ReadLine(line)) {
          broken_ = true;
          return -1;
        }
      } while (!line.empty());
      body_done_ = true;
      return 0;
    }
  }
  int64_t r = conn_->ReadSome(buf, std::min<uint64_t>(n, chunk_left_));
  if (r <= 0) {
    broken_ = true;
    return -1;
  }
  chunk_left_ -= static_cast<uint64_t>(r);
  body_read_ += static_cast<uint64_t>(r);
  if (chunk_left_ == 0) {
    std::string crlf;
    if (!conn_->ReadLine(crlf, 2)) broken_ = true;
  }
  return r;
}

std::optional<std::string> Request::ReadAllBody(size_t max_bytes) {
  std::string out;
  char buf[16 * 1024];
  for (;;) {
    int64_t r = ReadBody(buf, sizeof(buf));
    if (r < 0) return std::nullopt;
    if (r == 0) return out;
    out.append(buf, static_cast<size_t>(r));
    if (out.size() > max_bytes) return std::nullopt;
  }
}

// ---------------------------------------------------------------- HttpServer

HttpServer::HttpServer(Handler handler, SentObserver observer)
    : handler_(std::move(handler)), observer_(std::move(observer)) {}

HttpServer::~HttpServer() {
  Stop();
  if (ctx_) SSL_CTX_free(ctx_);
}

uint16_t HttpServer::Start(uint16_t port, const TlsIdentity& tls) {
  ctx_ = SSL_CTX_new(TLS_server_method());
  if (!ctx_) throw std::runtime_error("SSL_CTX_new failed");
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  {
    BIO* b = BIO_new_mem_buf(tls.cert_pem.data(), static_cast<int>(tls.cert_pem.size()));
    X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    bool ok = cert && SSL_CTX_use_certificate(ctx_, cert) == 1;
    X509_free(cert);
    // Any further certificates in the PEM form the chain.
    while (ok) {
      X509* extra = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
      if (!extra) break;
      SSL_CTX_add_extra_chain_cert(ctx_, extra);  // takes ownership
    }
    ERR_clear_error();
    BIO_free(b);
    if (!ok) throw std::runtime_error("cannot load the emulator's server certificate");
  }
  {
    BIO* b = BIO_new_mem_buf(tls.key_pem.data(), static_cast<int>(tls.key_pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(b, nullptr, nullptr, nullptr);
    bool ok = key && SSL_CTX_use_PrivateKey(ctx_, key) == 1;
    EVP_PKEY_free(key);
    BIO_free(b);
    if (!ok) throw std::runtime_error("cannot load the emulator's server key");
  }

  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    std::string why = std::strerror(errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    throw std::runtime_error("cannot listen on 127.0.0.1:" + std::to_string(port) + ": " + why);
  }
  if (::listen(listen_fd_, 512) != 0) {
    throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
  }
  socklen_t len = sizeof(addr);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  return ntohs(addr.sin_port);
}

void HttpServer::Stop() {
  if (stopping_.exchange(true)) {
    if (accept_thread_.joinable()) accept_thread_.join();
    return;
  }
  if (listen_fd_ >= 0) ::shutdown(listen_fd_, SHUT_RDWR);
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  std::unique_lock lock(mu_);
  for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
  idle_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return live_ == 0; });
}

void HttpServer::AcceptLoop() {
  while (!stopping_) {
    sockaddr_in peer{};
    socklen_t len = sizeof(peer);
    int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (stopping_) break;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    char ip[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof(ip));
    {
      std::lock_guard lock(mu_);
      if (stopping_) {
        ::close(fd);
        break;
      }
      open_fds_.insert(fd);
      ++live_;
    }
    std::thread([this, fd, remote = std::string(ip)] {
      Serve(fd, remote);
      std::lock_guard lock(mu_);
      open_fds_.erase(fd);
      ::close(fd);
      if (--live_ == 0) idle_cv_.notify_all();
    }).detach();
  }
}

void HttpServer::Serve(int fd, std::string remote) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{kIdleTimeoutSec, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

  SSL* ssl = SSL_new(ctx_);
  if (!ssl) return;
  SSL_set_fd(ssl, fd);
  Connection conn(ssl, fd);
  if (SSL_accept(ssl) != 1) {
    ERR_clear_error();
    return;
  }

  while (!stopping_) {
    Request req;
    req.conn_ = &conn;
    req.remote_addr = remote;
    std::string line;
    if (!conn.ReadLine(line)) break;
    if (line.empty()) continue;  // tolerate stray CRLF between requests
    {
      size_t sp1 = line.find(' ');
      size_t sp2 = line.rfind(' ');
      if (sp1 == std::string::npos || sp2 == sp1) break;
      req.method = line.substr(0, sp1);
      req.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    }
    size_t header_bytes = 0;
    bool bad = false;
    for (;;) {
      if (!conn.ReadLine(line)) {
        bad = true;
        break;
      }
      if (line.empty()) break;
      header_bytes += line.size();
      size_t colon = line.find(':');
      if (colon == std::string::npos || header_bytes > kMaxHeaderBytes) {
        bad = true;
        break;
      }
      req.headers.Add(line.substr(0, colon), Trim(std::string_view(line).substr(colon + 1)));
    }
    if (bad) break;

    size_t q = req.target.find('?');
    req.raw_path = req.target.substr(0, q);
    req.path = PercentDecode(req.raw_path);
    if (q != std::string::npos) ParseQuery(std::string_view(req.target).substr(q + 1), req.query);

    auto te = req.headers.Get("transfer-encoding");
    if (te && Lower(*te).find("chunked") != std::string::npos) {
      req.chunked_ = true;
      req.content_length = -1;
    } else if (auto cl = req.headers.Get("content-length")) {
      req.content_length = std::strtoll(cl->c_str(), nullptr, 10);
      if (req.content_length < 0) break;
    }
    req.body_done_ = !req.chunked_ && req.content_length == 0;
    auto expect = req.headers.Get("expect");
    conn.continue_pending = expect && Lower(*expect) == "100-continue" && !req.body_done_;

    auto conn_hdr = req.headers.Get("connection");
    bool client_close = conn_hdr && Lower(*conn_hdr) == "close";

    Response resp;
    try {
      resp = handler_(req);
    } catch (const std::exception&) {
      resp = Response::Json(500, R"({"code":"InternalError","message":"emulator: unhandled error"})");
    }
    // A HEAD never has a body, whatever the answer (errors included).
    if (req.method == "HEAD") resp.head_only = true;
    if (resp.drop) {
      conn.Hangup();
      observer_(req, 0);
      return;
    }

    // Body not consumed: drain a small remainder to keep the connection, else close.
    bool must_close = client_close || resp.close_after || req.broken_;
    if (!req.body_done_ && !req.broken_) {
      if (conn.continue_pending) {
        must_close = true;  // never asked for the body: do not wait for it
      } else {
        char sink[16 * 1024];
        uint64_t drained = 0;
        int64_t r;
        while ((r = req.ReadBody(sink, sizeof(sink))) > 0 && drained < (8u << 20)) drained += r;
        if (!req.body_done_) must_close = true;
      }
    }

    // Work out the body.
    uint64_t body_len = resp.file ? resp.file->length : resp.body.size();
    int file_fd = -1;
    if (resp.file && !resp.head_only) {
      file_fd = ::open(resp.file->path.c_str(), O_RDONLY | O_CLOEXEC);
      if (file_fd < 0) {
        resp = Response::Json(500, R"({"code":"InternalError","message":"emulator: file vanished"})");
        body_len = resp.body.size();
      }
    }

    std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " + Reason(resp.status) + "\r\n";
    if (!resp.headers.Has("content-length") && resp.status != 204 && resp.status != 304) {
      resp.headers.Set("Content-Length", std::to_string(body_len));
    }
    bool will_close = must_close || resp.truncate_at.has_value();
    resp.headers.Set("Connection", will_close ? "close" : "keep-alive");
    for (const auto& [k, v] : resp.headers.All()) head += k + ": " + v + "\r\n";
    head += "\r\n";
    bool ok = conn.WriteAll(head);

    uint64_t limit = body_len;
    if (resp.truncate_at) limit = std::min(limit, *resp.truncate_at);
    uint64_t sent = 0;
    if (ok && !resp.head_only) {
      size_t chunk = resp.body_chunk_delay_ms ? kSlowChunk : kIoChunk;
      std::vector<char> buf;
      if (file_fd >= 0) buf.resize(chunk);
      while (ok && sent < limit && !stopping_) {
        size_t n = static_cast<size_t>(std::min<uint64_t>(chunk, limit - sent));
        const char* p;
        if (file_fd >= 0) {
          ssize_t r = ::pread(file_fd, buf.data(), n,
                              static_cast<off_t>(resp.file->offset + sent));
          if (r <= 0) {
            ok = false;  // file shrank under us: cut the connection, the length is a lie now
            break;
          }
          n = static_cast<size_t>(r);
          p = buf.data();
        } else {
          p = resp.body.data() + sent;
        }
        ok = conn.WriteAll(p, n);
        if (ok) sent += n;
        if (resp.body_chunk_delay_ms && sent < limit) {
          // A slow body, in short naps so Stop() is not held up.
          auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(resp.body_chunk_delay_ms);
          while (!stopping_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
          }
        }
      }
    }
    if (file_fd >= 0) ::close(file_fd);
    observer_(req, sent);
    if (resp.truncate_at) {
      conn.Hangup();
      return;
    }
    if (!ok || will_close) {
      if (ok) SSL_shutdown(ssl);
      return;
    }
  }
}

}  // namespace emu
