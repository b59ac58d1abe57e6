// TlsRefusingServer: a test helper listening on 127.0.0.1 that never lets a
// TLS client get as far as HTTP. kPlainText answers the ClientHello with
// plain-text bytes (a handshake failure); kUntrustedCertificate presents a
// freshly generated self-signed certificate (a verification failure).
//
// Thread-safety: construct and destroy on one thread; one background thread
// serves connections until the destructor stops and joins it.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <thread>

namespace globusfs::test_support {

class TlsRefusingServer {
 public:
  enum class Mode { kPlainText, kUntrustedCertificate };

  explicit TlsRefusingServer(Mode mode);
  ~TlsRefusingServer();
  TlsRefusingServer(const TlsRefusingServer&) = delete;
  TlsRefusingServer& operator=(const TlsRefusingServer&) = delete;

  int port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  struct CtxDeleter {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
  };
  void Serve();
  void HandleConnection(int fd);

  Mode mode_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::unique_ptr<SSL_CTX, CtxDeleter> ctx_;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// A TCP port on 127.0.0.1 that nothing listens on (bound, then closed).
int UnusedLoopbackPort();

// A listening socket on 127.0.0.1 that never accepts: a TLS client
// connects (the kernel completes TCP) and then waits forever. Closes the
// socket on destruction.
class SilentListener {
 public:
  SilentListener();
  ~SilentListener();
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace globusfs::test_support
