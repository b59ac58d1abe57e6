#include "tls_refusing_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace globusfs::test_support {
namespace {

[[noreturn]] void Die(const char* what) {
  std::cerr << "tls_refusing_server: " << what << ": " << std::strerror(errno) << "\n";
  std::abort();
}

// Binds a TCP socket to 127.0.0.1 on an ephemeral port; returns the fd.
int BindLoopback(int* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) Die("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) Die("bind");
  socklen_t len = sizeof(addr);
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) Die("getsockname");
  *port = ntohs(addr.sin_port);
  return fd;
}

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct SslDeleter {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

SSL_CTX* SelfSignedContext() {
  std::unique_ptr<EVP_PKEY, PkeyDeleter> key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, X509Deleter> cert(X509_new());
  if (!key || !cert) Die("key/cert allocation");
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) Die("X509_sign");
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  if (ctx == nullptr || SSL_CTX_use_certificate(ctx, cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key.get()) != 1) {
    Die("SSL_CTX setup");
  }
  return ctx;
}

}  // namespace

int UnusedLoopbackPort() {
  int port = 0;
  ::close(BindLoopback(&port));
  return port;
}

SilentListener::SilentListener() {
  fd_ = BindLoopback(&port_);
  if (::listen(fd_, 16) != 0) Die("listen");
}

SilentListener::~SilentListener() { ::close(fd_); }

TlsRefusingServer::TlsRefusingServer(Mode mode) : mode_(mode) {
  if (mode_ == Mode::kUntrustedCertificate) ctx_.reset(SelfSignedContext());
  listen_fd_ = BindLoopback(&port_);
  if (::listen(listen_fd_, 16) != 0) Die("listen");
  thread_ = std::thread([this] { Serve(); });
}

TlsRefusingServer::~TlsRefusingServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

void TlsRefusingServer::Serve() {
  while (!stop_) {
    pollfd pfd{listen_fd_, POLLIN, 0};
    if (::poll(&pfd, 1, 50) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;
    ++connections_;
    timeval timeout{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
    HandleConnection(fd);
    ::close(fd);
  }
}

void TlsRefusingServer::HandleConnection(int fd) {
  if (mode_ == Mode::kPlainText) {
    char buffer[4096];
    (void)::recv(fd, buffer, sizeof(buffer), 0);  // the ClientHello
    static constexpr char kReply[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    (void)::send(fd, kReply, sizeof(kReply) - 1, MSG_NOSIGNAL);
    return;
  }
  std::unique_ptr<SSL, SslDeleter> ssl(SSL_new(ctx_.get()));
  if (!ssl) return;
  SSL_set_fd(ssl.get(), fd);
  (void)SSL_accept(ssl.get());  // fails once the client rejects the certificate
}

}  // namespace globusfs::test_support
